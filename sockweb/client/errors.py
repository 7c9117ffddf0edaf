"""What can go wrong on the client side, each with the exit code curl uses.

::

    SockwebError
     ├── InvalidURL (sockweb.http.urls)          exit 3
     ├── ProtocolError (sockweb.http.errors)     exit 8   a malformed response
     └── TransportError                          the network failed us
          ├── NameResolutionError                exit 6
          ├── ConnectError                       exit 7   refused, unreachable
          ├── ProxyError                         exit 5/7
          ├── Timeout                            exit 28
          │    ├── ConnectTimeout
          │    └── ReadTimeout
          ├── TLSError                           exit 35
          │    ├── CertificateError              exit 60  expired, wrong host, unknown issuer
          │    └── CACertError                   exit 77  --cacert unreadable or not PEM
          ├── IncompleteBody                     exit 18  the connection ended mid-body
          └── ReadError                          exit 56  reset while reading
     HTTPStatusError                             exit 22  --fail and raise_for_status()
     TooManyRedirects (redirects)                exit 47
     RedirectError (redirects)                   exit 1   a Location not http(s)
      └── MalformedRedirect                      exit 3   a Location that is no URL
     DecodingError (decoding)                    exit 61  bad or too many content codings
      └── BodyTooLarge                           exit 63

curl's numbers, because people script against them already.
"""

from __future__ import annotations

import sys

from ..http.errors import SockwebError


class TransportError(SockwebError):
    exit_code = 56


class NameResolutionError(TransportError):
    exit_code = 6


class ConnectError(TransportError):
    exit_code = 7


class ProxyError(TransportError):
    exit_code = 5


class Timeout(TransportError):
    exit_code = 28


class ConnectTimeout(Timeout):
    pass


class ReadTimeout(Timeout):
    pass


class TLSError(TransportError):
    exit_code = 35


class CertificateError(TLSError):
    exit_code = 60


class CACertError(TLSError):
    """The CA certificates to trust could not be read (made at the first https request)."""

    exit_code = 77  # curl: "Problem with reading the SSL CA cert"


class ReadError(TransportError):
    exit_code = 56


class IncompleteBody(TransportError):
    """The connection ended before the body did; ``received`` bytes had arrived."""

    exit_code = 18

    def __init__(self, message: str, received: int, expected: int | None = None) -> None:
        super().__init__(message)
        self.received = received
        self.expected = expected


class HTTPStatusError(SockwebError):
    exit_code = 22

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def exit_code(exc: BaseException) -> int:
    """curl's exit code for a client-side error, for ``sockweb get`` and ``browse``."""
    from ..http.urls import InvalidURL
    from .decoding import BodyTooLarge, DecodingError
    from .redirects import RedirectError, TooManyRedirects

    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    for kind, number in ((InvalidURL, 3), (BodyTooLarge, 63), (DecodingError, 61),
                         (TooManyRedirects, 47), (RedirectError, 1)):
        if isinstance(exc, kind):
            return number
    return 1


def malformed(exc: BaseException) -> str:
    """The line for a malformed response (exit 8): the parser's words, said once."""
    text = str(exc)
    return text if text.startswith("malformed response") else f"malformed response: {text}"


def read_failure(exc: OSError) -> str:
    """The words for a connection that failed while a response was read: its
    head, a piece of its body, or the body being copied out."""
    ssl = sys.modules.get("ssl")  # loaded if, and only if, a TLS socket could raise
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return f"TLS error while reading: {exc.reason or exc}"
    return f"connection lost: {exc.strerror or exc}"
