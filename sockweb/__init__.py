"""sockweb: an HTTP server, client and terminal browser you can read byte by byte."""

__version__ = "0.1.0"

__all__ = ["__version__"]
