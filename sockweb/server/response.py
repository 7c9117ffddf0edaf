"""What a handler returns: a status, header fields and a body.

A handler never writes bytes. ``sockweb.server.exchange`` is the only code that
turns a Response into bytes on the wire (status line, Date, Server,
Content-Length, Connection), so framing rules live in one place.

A body is either ``bytes`` or a list of parts, each ``bytes`` or a
:class:`FileSlice` (a range of an open file, sent with sendfile where the
transport allows it). The Response owns ``file`` and the exchange closes it
when the body has been sent or the connection is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True)
class FileSlice:
    """``count`` bytes of an open file starting at ``offset``."""

    fd: int
    offset: int
    count: int


Part = bytes | FileSlice


class Closable(Protocol):
    """What a Response holds its file as: something to close once it is sent."""

    def close(self) -> None: ...


# eq=False: a response is itself, not its fields, so it hashes by identity
# and can key the wire cache (wire.py).
@dataclass(slots=True, eq=False)
class Response:
    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes | list[Part] = b""
    # The open file a FileSlice refers to; closed by the exchange when done.
    file: Closable | None = None
    # Served again and again, never changed (hello, a cached small file): its
    # bytes on the wire may be kept for the rest of the second (wire.py).
    shared: bool = False

    @property
    def content_length(self) -> int:
        body = self.body
        if isinstance(body, bytes):
            return len(body)
        return sum(len(p) if isinstance(p, bytes) else p.count for p in body)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def text_response(
    status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> Response:
    """A small HTML page, for errors and redirects."""
    headers = [(b"Content-Type", b"text/html; charset=utf-8")]
    if extra:
        headers.extend(extra)
    return Response(status, headers, text.encode("utf-8"))


def error_page(
    status: int, detail: str = "", extra: list[tuple[bytes, bytes]] | None = None
) -> Response:
    """A short HTML page for an error status; ``detail`` is escaped, never a traceback."""
    import html
    from http import HTTPStatus

    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body><h1>{title}</h1>"
    )
    if detail:
        page += f"<p>{html.escape(detail)}</p>"
    return text_response(status, page + "</body></html>\n", extra)
