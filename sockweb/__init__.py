"""sockweb: an HTTP server, client and terminal browser you can read byte by byte."""

from ._version import __version__

__all__ = ["__version__"]
