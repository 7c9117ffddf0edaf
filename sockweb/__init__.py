"""sockweb: an HTTP server, client and terminal browser you can read byte by byte.

The client API is loaded on first use (PEP 562), so ``sockweb serve`` and
``sockweb get --help`` do not pay for ssl, json and cookie handling::

    import sockweb
    sockweb.get("http://localhost:9000/").text
    with sockweb.Client() as client:
        client.post(url, json={"a": 1}).raise_for_status()
"""

from __future__ import annotations

from ._version import __version__

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .client.api import Client, get, post, request
    from .client.errors import HTTPStatusError, TransportError
    from .client.models import Response
    from .http.errors import SockwebError
    from .http.urls import URL, InvalidURL

__all__ = [
    "URL",
    "Client",
    "HTTPStatusError",
    "InvalidURL",
    "Response",
    "SockwebError",
    "TransportError",
    "__version__",
    "get",
    "post",
    "request",
]

_LAZY = {
    "Client": "client.api",
    "get": "client.api",
    "post": "client.api",
    "request": "client.api",
    "Response": "client.models",
    "HTTPStatusError": "client.errors",
    "TransportError": "client.errors",
    "SockwebError": "http.errors",
    "URL": "http.urls",
    "InvalidURL": "http.urls",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sockweb' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
