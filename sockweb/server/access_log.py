"""The access log: Common Log Format lines, written in batches once per loop turn."""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from ..http.events import RequestHead


class AccessLog:
    """Common Log Format lines, written in batches once per loop turn.

    One write per request would cost a system call each; one flush per turn of
    the event loop keeps the log prompt and cheap.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""
        self._flush_scheduled = False

    def _now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        return self._stamp

    def log(self, peer: str, head: RequestHead | None, status: int, size: int) -> None:
        line = head.request_line if head is not None else "-"
        line = line.replace("\\", "\\\\").replace('"', '\\"')
        if not line.isprintable():
            line = line.encode("unicode_escape").decode("ascii")
        self.write(f'{peer} - - [{self._now()}] "{line}" {status} {size or "-"}\n')

    def write(self, text: str) -> None:
        self._lines.append(text)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            import asyncio

            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._lines:
            lines, self._lines = self._lines, []
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a closed stdout must not take the server down
