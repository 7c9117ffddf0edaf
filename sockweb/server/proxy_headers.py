"""Who the client is when a proxy stands in between (``--proxy-headers``).

A pure function of the connection and the request head: no sockets, no
config object, so every rule below is a row in a table of tests.

    forwarded_client(peer_host, peer_port, scheme, headers, trusted)
        -> ForwardedClient(host, port, scheme)

The rules:

1. The headers are believed only when the peer is a trusted proxy
   (``--forwarded-allow-ips``: IPs, CIDRs, ``unix:`` for Unix-socket peers,
   ``*`` for everyone). Otherwise the peer is the client, whatever it claims.
2. Each proxy appends the address it received the request from, so the list
   is read from the right: the client is the rightmost hop that is not a
   trusted proxy (nginx ``real_ip_recursive on``; uvicorn). Everything left of
   it was written by the client and is ignored. If every hop is trusted, the
   leftmost is the client.
3. ``Forwarded`` (RFC 7239) gives ``for=`` and ``proto=`` per hop;
   ``X-Forwarded-For`` gives the hops and ``X-Forwarded-Proto`` the scheme(s).
   When a request carries both and they name different clients, one of them
   came from the client through a proxy that manages only the other, and
   there is no telling which: the client is then ``unknown``.
4. No rule ever falls back to the peer's own address once the peer is trusted:
   the peer is often 127.0.0.1, and a client who could make itself look like
   the proxy could pass an allow-list meant for this machine. A hop that is
   not an address is presented as ``unknown``.
5. Obfuscated identifiers (``_hidden``, RFC 7239 section 6.3) and ``unknown``
   are presented as they are; they are never trusted proxies (except by ``*``).
   A port is presented where a hop carries one, else 0.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, NamedTuple

from ..http.headers import Headers

UNKNOWN = "unknown"
_OBFUSCATED = re.compile(r"_[A-Za-z0-9._-]+\Z")  # RFC 7239 section 6.3: obfnode, obfport
_PORT = re.compile(r"[0-9]{1,5}\Z")
# ws and wss come through proxies that forward WebSocket upgrades; the scheme
# presented here is the HTTP one, and an adapter turns it into ws/wss itself.
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


class ForwardedClient(NamedTuple):
    host: str | None  # an IP address, "unknown", an obfuscated "_name", or None (no peer)
    port: int | None  # 0 when the hop named no port; None when the peer has none
    scheme: str  # "http" or "https"


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The ``--forwarded-allow-ips`` list, parsed once: ``"127.0.0.1, 10.0.0.0/8, unix:"``."""

    __slots__ = ("everyone", "networks", "unix")

    def __init__(self, spec: str) -> None:
        self.everyone = False
        self.unix = False
        self.networks: list[IPNetwork] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            if item == "*":
                self.everyone = True
            elif item == "unix:":
                self.unix = True
            else:
                try:
                    self.networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"--forwarded-allow-ips: {item!r} is not an IP address, "
                                     "a network, 'unix:' or '*'") from None

    def trusts(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if not host:  # a Unix-socket peer has no address
            return self.unix
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False  # unknown, obfuscated, garbage: never a proxy we know
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(addr in net for net in self.networks)


def parse_node(text: str) -> tuple[str, int] | None:
    """``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:4711``, ``2001:db8::1``, ``unknown``,
    ``_hidden:_port`` -> (host, port or 0); None for anything else."""
    text = text.strip()
    port = ""
    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
        if not _is_ip(host, version=6):
            return None
    elif text.count(":") > 1:
        host = text  # a bare IPv6 address, as X-Forwarded-For writes it
        if not _is_ip(host, version=6):
            return None
    else:
        host, _, port = text.partition(":")
        if not (_is_ip(host, version=4) or host == UNKNOWN or _OBFUSCATED.match(host)):
            return None
    if host != UNKNOWN and not _OBFUSCATED.match(host):
        host = str(ipaddress.ip_address(host))  # one spelling: 2001:DB8::01 -> 2001:db8::1
    if not port or _OBFUSCATED.match(port):
        return host, 0
    if _PORT.match(port) and int(port) <= 65535:
        return host, int(port)
    return None


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def parse_forwarded(values: list[str]) -> list[dict[str, str]] | None:
    """RFC 7239 section 4: elements split by commas, pairs by semicolons, values a
    token or a quoted-string (which may hold commas). None if malformed."""
    text = ",".join(values)
    elements: list[dict[str, str]] = []
    pairs: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in ",;":  # empty list members are allowed (RFC 9110 5.6.1)
            if text[i] == "," and pairs:
                elements.append(pairs)
                pairs = {}
            i += 1
            continue
        eq = text.find("=", i)
        if eq < 0:
            return None
        name = text[i:eq].strip().lower()
        if not name or name in pairs:
            return None  # section 4: a parameter MUST NOT occur more than once per element
        i = eq + 1
        if i < n and text[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                return None  # unterminated quoted-string
            i += 1
            value = "".join(chars)
        else:
            end = i
            while end < n and text[end] not in ",;":
                end += 1
            value, i = text[i:end].strip(), end
        pairs[name] = value
    if pairs:
        elements.append(pairs)
    return elements


def _scheme(value: str | None, fallback: str) -> str:
    return _SCHEMES.get((value or "").strip().lower(), fallback)


def _walk(hops: list[str | None], trusted: TrustedProxies) -> tuple[int, str, int]:
    """Rule 2: the index, host and port of the rightmost untrusted hop."""
    chosen = 0
    for index in range(len(hops) - 1, -1, -1):
        node = parse_node(hops[index] or UNKNOWN)
        if node is None or not trusted.trusts(node[0]):
            chosen = index
            break
    node = parse_node(hops[chosen] or UNKNOWN)
    host, port = node if node is not None else (UNKNOWN, 0)  # rule 4
    return chosen, host, port


def _from_forwarded(values: list[str], scheme: str,
                    trusted: TrustedProxies) -> tuple[str | None, int, str]:
    elements = parse_forwarded(values)
    if not elements:
        return UNKNOWN, 0, scheme
    if not any("for" in element for element in elements):
        # Only proto= (or by=/host=): the peer stays the client.
        return None, 0, _scheme(elements[-1].get("proto"), scheme)
    index, host, port = _walk([element.get("for") for element in elements], trusted)
    return host, port, _scheme(elements[index].get("proto"), scheme)


def _from_x_forwarded(hops_values: list[str], protos_values: list[str], scheme: str,
                      trusted: TrustedProxies) -> tuple[str, int, str]:
    hops: list[str | None] = [h.strip() for v in hops_values for h in v.split(",") if h.strip()]
    protos = [p.strip() for v in protos_values for p in v.split(",") if p.strip()]
    index, host, port = _walk(hops or [None], trusted)
    if protos and len(protos) == len(hops):
        proto: str | None = protos[index]  # each proxy appended one hop and one scheme
    else:
        # nginx's usual `proxy_set_header X-Forwarded-Proto $scheme` overwrites:
        # the rightmost value is the one our trusted proxy wrote.
        proto = protos[-1] if protos else None
    return host, port, _scheme(proto, scheme)


def forwarded_client(peer_host: str | None, peer_port: int | None, scheme: str,
                     headers: Headers, trusted: TrustedProxies) -> ForwardedClient:
    """The client address and scheme to present to the app (module docstring, rules 1-5).

    ``peer_host``/``peer_port`` are the connection's peer (None for a Unix socket),
    ``scheme`` the connection's own ("https" under TLS).
    """
    if not trusted.trusts(peer_host):
        return ForwardedClient(peer_host, peer_port, scheme)
    forwarded = headers.get_all("forwarded")
    xff = headers.get_all("x-forwarded-for")
    xfp = headers.get_all("x-forwarded-proto")
    if not forwarded and not xff:
        proto = xfp[-1].split(",")[-1] if xfp else None
        return ForwardedClient(peer_host, peer_port, _scheme(proto, scheme))
    if forwarded:
        host, port, new_scheme = _from_forwarded(forwarded, scheme, trusted)
        if xff:
            x_host, _, x_scheme = _from_x_forwarded(xff, xfp, scheme, trusted)
            if host is None:
                host = x_host
            elif host != x_host:
                return ForwardedClient(UNKNOWN, 0, scheme)  # rule 3
            if new_scheme == scheme:
                new_scheme = x_scheme
        if host is None:
            return ForwardedClient(peer_host, peer_port, new_scheme)
        return ForwardedClient(host, port, new_scheme)
    host, port, new_scheme = _from_x_forwarded(xff, xfp, scheme, trusted)
    return ForwardedClient(host, port, new_scheme)


def client_view(
    transport: Any, headers: Headers, trusted: TrustedProxies | None
) -> tuple[tuple[str, int] | None, str]:
    """((host, port) or None, "http"/"https") an app should see for this request.

    The socket's own peer and TLS state, or, behind a trusted proxy with
    --proxy-headers, what the proxy says of the client.
    """
    peer = transport.get_extra_info("peername") if transport is not None else None
    tls = transport is not None and transport.get_extra_info("sslcontext") is not None
    host, port = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else (None, None)
    scheme = "https" if tls else "http"
    if trusted is not None:
        host, port, scheme = forwarded_client(host, port, scheme, headers, trusted)
    return ((host, port or 0) if host is not None else None), scheme
