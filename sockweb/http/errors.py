"""The one error tree both sides share.

::

    SockwebError
     ├── ProtocolError            a message broke the HTTP rules (carries a status hint)
     │    ├── RemoteProtocolError the peer sent something we refuse (server: answer with .status)
     │    └── LocalProtocolError  we were about to send something invalid (a bug or a bad app)
     └── InvalidURL               text that is not a URL we can use (urls.py re-exports it)

The server turns a RemoteProtocolError into its response in exactly one place
(``sockweb.server.exchange.error_response``); the client turns it into one line
on stderr. Nothing else catches these to invent a status of its own.
"""

from __future__ import annotations


class SockwebError(Exception):
    """Base of every error sockweb raises on purpose."""


class ProtocolError(SockwebError):
    """A message that breaks RFC 9110/9112.

    ``status`` is the response a server should give (400 unless a more
    precise code exists: 413, 414, 431, 501, 505...). ``close`` says whether
    the connection can no longer be trusted to be in sync.
    """

    def __init__(self, message: str, status: int = 400, *, close: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol."""


class LocalProtocolError(ProtocolError):
    """We were about to break the protocol (for instance a header with CR/LF)."""


class InvalidURL(SockwebError):
    """Text that is not a URL this client can use; the message says why."""
