"""Request and Response: what a user holds.

A Response's body is read lazily from its connection: ``iter_bytes()``
streams it (decoded), ``content`` reads it all (up to a limit), and either
way the connection goes back to the pool once the body has been read to its
end, or is closed if the response is closed early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..http.headers import Headers
from ..http.urls import URL
from .body_copy import write_all
from .decoding import BodyTooLarge, decode_text, make_decoder
from .errors import HTTPStatusError

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Body = bytes | Iterable[bytes] | None


class Request:
    __slots__ = ("method", "url", "headers", "body")

    def __init__(self, method: str, url: URL, headers: Headers, body: Body = None) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class Response:
    def __init__(
        self,
        request: Request,
        status: int,
        reason: str,
        http_version: str,
        headers: Headers,
        raw: Iterator[bytes],
        *,
        on_close: Callable[[bool], None] | None = None,
        max_content_size: int | None = None,
        elapsed: float = 0.0,
        copy_body: Callable[[int, Callable[[int], None] | None], int] | None = None,
    ) -> None:
        self.request = request
        self.url = request.url
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.history: list[Response] = []
        self.elapsed = elapsed
        self.max_content_size = max_content_size
        self._raw = raw
        self._copy_body = copy_body  # the connection's zero-copy path, for write_to()
        self._on_close = on_close
        self._content: bytes | None = None
        self._consumed = False
        self._closed = False

    # -- status --------------------------------------------------------------
    @property
    def status_code(self) -> int:
        return self.status

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    def raise_for_status(self) -> Response:
        if self.status >= 400:
            kind = "client error" if self.status < 500 else "server error"
            raise HTTPStatusError(
                f"{self.status} {self.reason} ({kind}) for {self.url}", self.status)
        return self

    # -- body ----------------------------------------------------------------
    def iter_raw(self) -> Iterator[bytes]:
        """The body as it arrives, still content-coded (gzip stays gzip)."""
        if self._content is not None:
            yield self._content
            return
        if self._consumed:
            raise RuntimeError("the body was already read")
        self._consumed = True
        try:
            yield from self._raw
        except BaseException:
            self._finish(complete=False)
            raise
        self._finish(complete=True)

    def iter_bytes(self) -> Iterator[bytes]:
        """The body decoded (Content-Encoding removed), chunk by chunk."""
        if self._content is not None:
            yield self._content
            return
        try:
            decoder = make_decoder(self.headers.get("content-encoding"),
                                   max_size=self.max_content_size)
        except BaseException:
            self._finish(complete=False)  # refused unread: the connection goes with it
            raise
        # Piece by piece, each at most 128 KiB whatever one read expands to: a
        # few KB of a gzip bomb would otherwise become gigabytes at once.
        for chunk in self.iter_raw():
            yield from decoder.iter_decode(chunk)
        yield from decoder.iter_flush()

    def read(self) -> bytes:
        if self._content is None and "content-encoding" not in self.headers:
            self._content = self._read_identity()
        if self._content is None:
            parts: list[bytes] = []
            size = 0
            limit = self.max_content_size
            for chunk in self.iter_bytes():
                size += len(chunk)
                if limit is not None and size > limit:
                    self.close()
                    raise BodyTooLarge(f"response body larger than {limit} bytes")
                parts.append(chunk)
            self._content = b"".join(parts)
        return self._content

    def _read_identity(self) -> bytes:
        """read() of a body with no content coding: iter_raw's pieces, joined,
        with no decoder and no generators in between (the common case)."""
        if self._consumed:
            raise RuntimeError("the body was already read")
        self._consumed = True
        parts: list[bytes] = []
        size = 0
        limit = self.max_content_size
        try:
            for chunk in self._raw:
                size += len(chunk)
                if limit is not None and size > limit:
                    raise BodyTooLarge(f"response body larger than {limit} bytes")
                parts.append(chunk)
        except BaseException:
            self._finish(complete=False)
            raise
        self._finish(complete=True)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def write_to(self, fd: int, progress: Callable[[int], None] | None = None) -> int:
        """Write the body, decoded, to the file descriptor ``fd``; returns its length.

        ``progress`` is called with the bytes written so far. A body with no
        content coding goes from the socket to ``fd`` without passing through
        Python where the connection can (Connection.copy_body); OSError is a
        failure to write ``fd``.
        """
        length = self.headers.get_raw(b"content-length")
        if (self._content is not None or self._consumed or self._copy_body is None
                or "content-encoding" in self.headers or length is None
                or not length.isdigit()):
            written = 0
            for chunk in self.iter_bytes():
                written += write_all(fd, chunk)
                if progress is not None:
                    progress(written)
            return written
        limit = self.max_content_size
        if limit is not None and int(length) > limit:
            self.close()
            raise BodyTooLarge(f"response body larger than {limit} bytes")
        self._consumed = True
        try:
            written = self._copy_body(fd, progress)
        except BaseException:
            self._finish(complete=False)
            raise
        self._finish(complete=True)
        return written

    @property
    def content(self) -> bytes:
        return self.read()

    @property
    def text(self) -> str:
        return decode_text(self.content, self.headers.get("content-type"))

    def json(self) -> Any:
        import json

        return json.loads(self.content)

    # -- lifetime ------------------------------------------------------------
    def _finish(self, complete: bool) -> None:
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close(complete)

    def close(self) -> None:
        """Done with it: an unread body costs the connection, not a read."""
        self._finish(complete=False)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}]>"
