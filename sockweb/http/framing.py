"""Message framing and connection rules of RFC 9112, as pure functions.

Everything here decides from a head alone, so it is tested with no socket:
which requests are acceptable (Host, Transfer-Encoding, Expect, version),
whether the connection persists, and where the request target points.
"""

from __future__ import annotations

from .errors import RemoteProtocolError
from .headers import Headers

SUPPORTED_VERSIONS = ("1.1", "1.0")


def _tokens(value: bytes) -> list[bytes]:
    if 44 not in value:  # no ","; nearly always one token: "close", "keep-alive"
        token = value.strip(b" \t").lower()
        return [token] if token else []
    tokens = [t.strip(b" \t").lower() for t in value.split(b",")]
    return [t for t in tokens if t]


def connection_tokens(headers: Headers) -> list[bytes]:
    tokens: list[bytes] = []
    for value in headers.get_all_raw(b"connection"):
        tokens.extend(_tokens(value))
    return tokens


def keep_alive(http_version: str, headers: Headers) -> bool:
    """RFC 9112 section 9.3: does the connection persist after this message?"""
    tokens = connection_tokens(headers)
    if b"close" in tokens:
        return False
    if http_version == "1.1":
        return True
    return b"keep-alive" in tokens


def check_request_head(http_version: str, method: bytes, headers: Headers) -> None:
    """Refuse a request head that RFC 9112 says to reject, with its status.

    llhttp (under httptools) has already refused Content-Length with
    Transfer-Encoding, duplicate Content-Length and a non-final chunked;
    these are the rules it leaves to us.
    """
    if http_version not in SUPPORTED_VERSIONS:
        # RFC 9110 section 15.6.6; llhttp accepts 0.9 and 2.0 in a request line.
        raise RemoteProtocolError(f"HTTP/{http_version} is not supported", 505)
    hosts = headers.count(b"host")
    if hosts > 1 or (http_version == "1.1" and hosts != 1):
        # RFC 9112 section 3.2: more than one Host in any request, or none in
        # an HTTP/1.1 one, is a 400 (HTTP/1.0 may leave it out).
        raise RemoteProtocolError(
            "more than one Host header" if hosts else "HTTP/1.1 request needs a Host header", 400)
    te = headers.get_all_raw(b"transfer-encoding")
    if te:
        if http_version == "1.0":
            # RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
            raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request", 400)
        codings = [t for v in te for t in _tokens(v)]
        if not codings or codings[-1] != b"chunked":
            # RFC 9112 section 6.3 item 4: no final chunked, no way to frame it.
            raise RemoteProtocolError("Transfer-Encoding must end with chunked", 400)
        if codings != [b"chunked"]:
            # RFC 9112 section 6.1: a coding we do not implement -> 501.
            raise RemoteProtocolError("unsupported transfer coding", 501)
    if method == b"CONNECT":
        raise RemoteProtocolError("CONNECT is not supported", 501)


def expects_continue(http_version: str, headers: Headers) -> bool:
    """RFC 9110 section 10.1.1. Any expectation but 100-continue earns a 417."""
    values = headers.get_all_raw(b"expect")
    if not values:
        return False
    tokens = [t for v in values for t in _tokens(v)]
    if tokens != [b"100-continue"]:
        raise RemoteProtocolError("unsupported expectation", 417)
    # An HTTP/1.0 client cannot read a 100 (RFC 9110 section 10.1.1): ignore it.
    return http_version == "1.1"


def declared_length(headers: Headers) -> int | None:
    """The Content-Length llhttp validated, or None (chunked or no body)."""
    raw = headers.get_raw(b"content-length")
    return int(raw) if raw is not None else None


# "#" by its value, for callers that take split_target's first case inline:
# ``int in bytes`` is a plain byte search, ``b"#" in bytes`` costs a
# TypeError raised and dropped inside CPython (see headers.py).
FRAGMENT_MARK = ord("#")


def split_target(method: bytes, target: bytes) -> tuple[bytes, bytes]:
    """(path, query) of a request target, raw (RFC 9112 section 3.2).

    Absolute-form (``GET http://host/x HTTP/1.0``, as the seed's client sends)
    is reduced to its path; a proxy is not what this server is.
    """
    # A fragment never belongs on the wire (RFC 9110 section 7.1): drop it first,
    # so "/a#x?y" has no query.
    target = target.partition(b"#")[0]
    if target[:1] == b"/":
        path, _, query = target.partition(b"?")
        return path, query
    if target == b"*":
        if method != b"OPTIONS":
            raise RemoteProtocolError("asterisk-form is only for OPTIONS", 400)
        return b"*", b""
    scheme, sep, rest = target.partition(b"://")
    if not sep or scheme.lower() not in (b"http", b"https"):
        raise RemoteProtocolError("invalid request target", 400)
    authority, after = split_authority(rest)
    if not authority or b"@" in authority or authority[:1] == b":":
        # RFC 9110 section 4.2.1: an http(s) URI has a host; 4.2.4: no userinfo.
        raise RemoteProtocolError("invalid authority in the request target", 400)
    from .hosts import valid_host_field  # absolute-form is rare: loaded when one comes

    if not valid_host_field(authority):
        # It stands for the Host field (RFC 9112 section 3.2.2), and an invalid
        # Host is a 400 (section 3.2): "http://a:xyz/" as much as "Host: a:xyz".
        raise RemoteProtocolError("invalid authority in the request target", 400)
    path, _, query = after.partition(b"?")
    return path or b"/", query


def split_authority(rest: bytes) -> tuple[bytes, bytes]:
    """(authority, what follows it) of an absolute URI after its "scheme://"."""
    end = len(rest)
    for mark in (b"/", b"?"):
        at = rest.find(mark)
        if at != -1 and at < end:
            end = at
    return rest[:end], rest[end:]


def has_no_body(method: bytes, status: int) -> bool:
    """RFC 9110 sections 9.3.2, 9.3.6, 15.2, 15.3.5, 15.4.5: responses with no content."""
    return (
        method == b"HEAD"
        or status < 200
        or status in (204, 304)
        or (method == b"CONNECT" and status < 300)
    )


def chunk(data: bytes) -> bytes:
    """One chunk of the chunked transfer coding (RFC 9112 section 7.1)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
