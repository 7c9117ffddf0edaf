"""An app module that imports a dependency that is not installed."""

import sockweb_test_not_installed_dependency  # type: ignore[import-not-found]  # noqa: F401

app = None
