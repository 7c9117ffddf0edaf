"""A module that fails while it is imported."""

raise RuntimeError("kaboom while importing the app")
