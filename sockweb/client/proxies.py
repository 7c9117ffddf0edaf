"""How the client goes through a proxy: which one the environment names, which
one a URL takes, and the CONNECT tunnel that carries https through an HTTP proxy.

Plain http through a proxy needs no tunnel, only an absolute-form target and
the proxy's credentials on the request itself; the Client writes those when it
sends the request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..http.urls import URL
from .bodies import basic_auth
from .connection import Connection, Trace
from .errors import ProxyError
from .sockets import Socket

# urllib.request (and with it http.client, email...) is imported only when there
# is a proxy to consider: one the environment names, or one given to the Client.
# A plain `sockweb get` does without it.


def environment_proxies() -> dict[str, str]:
    """urllib's reading of the *_proxy variables, without importing urllib.request
    (and http.client, email...) when no such variable is set, as is usual."""
    if not any(name[-6:].lower() == "_proxy" for name in os.environ):
        return {}
    import urllib.request

    return urllib.request.getproxies_environment()


def proxy_for(proxies: Mapping[str, str], url: URL, trust_env: bool) -> str | None:
    """The proxy ``url`` goes through, as a URL, or None; with ``trust_env``,
    the environment's no_proxy can exempt the host."""
    proxy = proxies.get(url.scheme)
    if not proxy:
        return None
    from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

    if trust_env and proxy_bypass_environment(url.host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def open_tunnel(
    sock: Socket, url: URL, proxy_url: URL, read_timeout: float | None, trace: Trace | None
) -> None:
    """CONNECT host:port through an HTTP proxy (RFC 9110 section 9.3.6)."""
    tunnel = Connection(sock, ("connect",), read_timeout=read_timeout, trace=trace)
    host = f"[{url.host}]" if url.is_ipv6 else url.host
    authority = f"{host}:{url.effective_port}"  # RFC 9112 section 3.2.3
    fields = [(b"Host", authority.encode())]
    if proxy_url.userinfo:
        fields.append((b"Proxy-Authorization", basic_auth(*proxy_url.userinfo)))
    tunnel.send_request(b"CONNECT", authority.encode(), fields)
    head = tunnel.read_head()
    if not 200 <= head.status < 300:
        sock.close()
        raise ProxyError(f"proxy refused the tunnel to {authority}: {head.status}")
