"""Opening the socket a connection runs over: DNS, TCP connect, TLS.

Each failure is named the way a user says it ("could not resolve host",
"connection ... refused", "TLS certificate of ... not trusted"), as
:mod:`sockweb.client.errors` types. :mod:`ssl` and :mod:`socket` are imported
only when TLS is asked for.
"""

from __future__ import annotations

# The C core of the socket module: `import socket` builds four IntEnums from
# its constants, which costs every `sockweb get` about 2.5 ms; the client
# needs none of them. TLS (which needs socket.socket) converts on the way in.
import _socket

from .errors import (
    CertificateError,
    ConnectError,
    ConnectTimeout,
    NameResolutionError,
    TLSError,
)

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl

Socket = _socket.socket  # socket.socket and ssl.SSLSocket are subclasses


def open_socket(host: str, port: int, timeout: float | None) -> Socket:
    """A connected TCP socket, with each failure named the way a user says it.

    Each address the name resolves to is tried in turn, as curl and
    socket.create_connection do; the last failure is the one reported.
    """
    try:
        # As bytes: a str would go through the IDNA codec, whose import alone
        # costs more than the look-up. URL hosts are ASCII already (IDNA done).
        name = host.encode("ascii") if host.isascii() else host
        addresses = _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM)
    except (_socket.gaierror, UnicodeError) as exc:
        raise NameResolutionError(f"could not resolve host: {host}") from exc
    failure: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return sock
    if isinstance(failure, TimeoutError):
        raise ConnectTimeout(f"connection to {host} port {port} timed out") from failure
    if isinstance(failure, ConnectionRefusedError):
        raise ConnectError(f"connection to {host} port {port} refused") from failure
    if failure is None:
        raise NameResolutionError(f"could not resolve host: {host}")
    raise ConnectError(
        f"could not connect to {host} port {port}: {failure.strerror or failure}"
    ) from failure


# OpenSSL verify codes worth saying in words (x509_vfy.h).
_VERIFY_REASONS = {
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in the chain",
    20: "certificate issuer is unknown",
    21: "certificate issuer is unknown",
    62: "certificate is for another host name",
    64: "certificate is for another host name (IP address mismatch)",
}


def wrap_tls(raw: Socket, host: str, context: ssl.SSLContext) -> ssl.SSLSocket:
    """TLS over ``raw`` with SNI and, unless the context says not, verification."""
    import socket
    import ssl

    if isinstance(raw, socket.socket):
        sock = raw
    else:  # ssl wants the socket module's class: same descriptor, same timeout
        timeout = raw.gettimeout()
        sock = socket.socket(raw.family, raw.type, raw.proto, raw.detach())
        sock.settimeout(timeout)
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        reason = _VERIFY_REASONS.get(exc.verify_code, exc.verify_message or str(exc))
        raise CertificateError(f"TLS certificate of {host} not trusted: {reason}") from exc
    except ssl.SSLError as exc:
        sock.close()
        raise TLSError(f"TLS handshake with {host} failed: {exc.reason or exc}") from exc
    except TimeoutError as exc:
        sock.close()
        raise ConnectTimeout(f"TLS handshake with {host} timed out") from exc
    except OSError as exc:
        sock.close()
        raise TLSError(f"TLS handshake with {host} failed: {exc.strerror or exc}") from exc
