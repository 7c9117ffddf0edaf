"""HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate out, the three formats in."""

from __future__ import annotations

import calendar
import re
import time
from email.utils import formatdate
from functools import lru_cache


@lru_cache(maxsize=4096)
def http_date(timestamp: float) -> bytes:
    """``Sun, 06 Nov 1994 08:49:37 GMT`` for a POSIX timestamp.

    Cached: the same file's Last-Modified is asked for on every request.
    """
    return formatdate(timestamp, usegmt=True).encode("ascii")


# RFC 9110 section 5.6.7, the three forms and nothing else (names are
# case-sensitive, the zone is "GMT" or none at all in asctime):
#   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
#   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT
#   asctime      Sun Nov  6 08:49:37 1994
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_L = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_IMF_FIXDATE = re.compile(
    rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT", re.ASCII)
_RFC850_DATE = re.compile(
    rf"{_DAY_L}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT", re.ASCII)
_ASCTIME_DATE = re.compile(
    rf"{_DAY} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})", re.ASCII)
_MONTHS = {name: i for i, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def parse_http_date(value: str | bytes) -> float | None:
    """A POSIX timestamp, or None for anything that is not an HTTP-date.

    RFC 9110 section 5.6.7: a recipient takes the three formats (IMF-fixdate,
    the obsolete RFC 850 form and asctime), all of them in GMT; a date in any
    other zone, without a zone, or in another layout is not an HTTP-date.
    Section 13.1.3 says a conditional with an invalid date is ignored, so
    callers treat None as "no condition". The weekday is not checked against
    the date (nginx does not either). Cookies' Expires follows its own
    looser algorithm (RFC 6265 section 5.1.1) and does not come here.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip(" \t")
    match = _IMF_FIXDATE.fullmatch(value)
    if match is not None:
        day, month, year, hour, minute, second = match.groups()
        full_year = int(year)
    else:
        match = _RFC850_DATE.fullmatch(value)
        if match is not None:
            day, month, year, hour, minute, second = match.groups()
            full_year = _rfc850_year(int(year), (_MONTHS[month], int(day), int(hour),
                                                 int(minute), int(second)))
        else:
            match = _ASCTIME_DATE.fullmatch(value)
            if match is None:
                return None
            month, day, hour, minute, second, year = match.groups()
            full_year = int(year)
    month_number = _MONTHS[month]
    day_number = int(day)
    # 00:00:00 to 23:59:60 (a leap second), days that exist in that month.
    # (Year 0000 fits the grammar but no calendar of Python's.)
    if (int(hour) > 23 or int(minute) > 59 or int(second) > 60 or day_number < 1
            or full_year < 1
            or day_number > calendar.monthrange(full_year, month_number)[1]):
        return None
    return float(calendar.timegm(
        (full_year, month_number, day_number, int(hour), int(minute), int(second))))


def _rfc850_year(two_digits: int, rest: tuple[int, int, int, int, int]) -> int:
    """RFC 9110 section 5.6.7: a timestamp that appears to be more than 50
    years in the future is the most recent past year with those last two
    digits. The whole date counts, not the year alone: on 2026-11-25,
    31-Dec-76 is 2076-12-31, past the 50 years, so 1976. ``rest`` is
    (month, day, hour, minute, second)."""
    now = time.gmtime()
    year = now.tm_year - now.tm_year % 100 + two_digits
    limit = (now.tm_year + 50, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec)
    if (year, *rest) > limit:
        year -= 100
    return year


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
