"""HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate out, the three formats in."""

from __future__ import annotations

import time
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache


@lru_cache(maxsize=4096)
def http_date(timestamp: float) -> bytes:
    """``Sun, 06 Nov 1994 08:49:37 GMT`` for a POSIX timestamp.

    Cached: the same file's Last-Modified is asked for on every request.
    """
    return formatdate(timestamp, usegmt=True).encode("ascii")


def parse_http_date(value: str | bytes) -> float | None:
    """A POSIX timestamp, or None for anything that is not an HTTP date.

    RFC 9110 section 13.1.3 says an invalid date in a conditional is ignored,
    so callers treat None as "no condition".
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        # "-0000" parses as naive; every HTTP-date is GMT anyway.
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class DateCache:
    """The Date header value, formatted at most once a second.

    Formatting a date costs more than the rest of a small response's head, and
    the value only changes once a second (RFC 9110 section 6.6.1).
    """

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def now(self) -> bytes:
        return self.at(int(time.time()))

    def at(self, second: int) -> bytes:
        """The value for the wall-clock ``second`` (the same object all through it)."""
        if second != self._second:
            self._second = second
            self._value = http_date(second)
        return self._value
