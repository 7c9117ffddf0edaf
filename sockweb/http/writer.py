"""Status lines, request lines and header blocks to bytes."""

from __future__ import annotations

# Filled on the first status_line() call: a client that only writes requests
# never imports http.HTTPStatus (start-up time of `sockweb get`).
_STATUS_LINES: dict[int, bytes] = {}
# RFC 9110 section 15 renamed these (Python's http.HTTPStatus has the new
# phrases only from 3.13): what sockweb says on the wire and in its pages.
RFC9110_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
                   422: "Unprocessable Content"}


def _status_lines() -> dict[int, bytes]:
    from http import HTTPStatus

    _STATUS_LINES.update(
        {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, reason(s.value).encode("ascii"))
         for s in HTTPStatus})
    return _STATUS_LINES


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        line = (_STATUS_LINES or _status_lines()).get(status)
        if line is None:
            # RFC 9112 section 4: the reason phrase may be empty.
            line = b"HTTP/1.1 %d \r\n" % status
    return line


def reason(status: int) -> str:
    from http import HTTPStatus

    if status in RFC9110_PHRASES:
        return RFC9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def header_block(fields: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(b"%b: %b\r\n" % field for field in fields)


def request_head(
    method: bytes, target: bytes, fields: list[tuple[bytes, bytes]], version: bytes = b"1.1"
) -> bytes:
    return b"%b %b HTTP/%b\r\n%b\r\n" % (method, target, version, header_block(fields))
