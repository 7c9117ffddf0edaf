"""The vocabulary between the wire and the code that acts on messages.

A parser turns bytes into these events; the server's exchange and the
client's connection consume them. They hold bytes as received.
"""

from __future__ import annotations

from .headers import Headers


class RequestHead:
    """A request line and its header fields, complete (RFC 9112 section 3)."""

    __slots__ = (
        "body_expected",
        "expect_continue",
        "headers",
        "http_version",
        "keep_alive",
        "method",
        "target",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        http_version: str,
        headers: Headers,
        keep_alive: bool,
        expect_continue: bool = False,
        body_expected: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.http_version = http_version
        self.headers = headers
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.body_expected = body_expected

    @property
    def request_line(self) -> str:
        return (
            f"{self.method.decode('latin-1')} {self.target.decode('latin-1')} "
            f"HTTP/{self.http_version}"
        )

    def __repr__(self) -> str:
        return f"<RequestHead {self.request_line!r}>"


class Data:
    """A piece of a message body, transfer coding removed."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"<Data {len(self.data)} bytes>"


class EndOfMessage:
    """The body (if any) is complete."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<EndOfMessage>"


END_OF_MESSAGE = EndOfMessage()


class Upgraded:
    """The connection leaves HTTP/1.1 (RFC 9110 section 7.8); ``data`` is what
    followed the upgrade request, bytes of the new protocol."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class ResponseHead:
    """A status line and its header fields, complete (RFC 9112 section 4)."""

    __slots__ = ("status", "reason", "http_version", "headers", "keep_alive")

    def __init__(
        self, status: int, reason: bytes, http_version: str, headers: Headers, keep_alive: bool
    ) -> None:
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.keep_alive = keep_alive

    def __repr__(self) -> str:
        return f"<ResponseHead {self.status} {self.reason.decode('latin-1')!r}>"
