"""The seed's server, one flag away: every request gets Hello World."""

from __future__ import annotations

from ..http.headers import Headers
from .response import Response

# The seed's exact body; it also ended with a stray CRLF pair, which a
# Content-Length-framed response does not need.
HELLO_BODY = b"<html><body>Hello World</body></html>"
_HEADERS = [(b"Content-Type", b"text/html; charset=utf-8")]


HELLO = Response(200, _HEADERS, HELLO_BODY, shared=True)


class HelloWorld:
    def handle(self, method: str, path: bytes, query: bytes, headers: Headers) -> Response:
        return HELLO
