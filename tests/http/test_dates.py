"""HTTP dates in (RFC 9110 section 5.6.7): the three formats, in GMT, and nothing else.

A conditional whose date is not an HTTP-date is ignored (section 13.1.3), so
``parse_http_date`` must say None for anything else, however readable; the
last tests check that over a real socket through If-Modified-Since,
If-Unmodified-Since and If-Range.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from sockweb.http.dates import http_date, parse_http_date
from tests.conftest import ServerProcess, raw_exchange, split_responses

SUNDAY = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's own example


@pytest.mark.parametrize("value", [
    "Sun, 06 Nov 1994 08:49:37 GMT",     # IMF-fixdate
    "Sunday, 06-Nov-94 08:49:37 GMT",    # obsolete RFC 850 format
    "Sun Nov  6 08:49:37 1994",          # ANSI C's asctime() format
    "Sun Nov 06 08:49:37 1994",          # asctime's day is 2DIGIT or SP DIGIT
    b"Sun, 06 Nov 1994 08:49:37 GMT",
    " Sun, 06 Nov 1994 08:49:37 GMT\t",  # OWS around a field value is not part of it
])
def test_the_three_formats_rfc9110_5_6_7(value: str | bytes) -> None:
    assert parse_http_date(value) == SUNDAY


@pytest.mark.parametrize("value", [
    "Sun, 06 Nov 1994 08:49:37 PST",     # another zone
    "Sun, 06 Nov 1994 08:49:37 +0000",   # a numeric zone, even a zero one
    "Sun, 06 Nov 1994 08:49:37 -0000",
    "Sun, 06 Nov 1994 08:49:37 UT",
    "Sun, 06 Nov 1994 08:49:37",         # no zone
    "6 Nov 1994 08:49 -0000",            # RFC 5322 without weekday or seconds
    "06 Nov 1994 08:49:37 GMT",          # no weekday
    "Sun, 6 Nov 1994 08:49:37 GMT",      # day not two digits
    "Sun, 06 Nov 94 08:49:37 GMT",       # two-digit year in IMF-fixdate
    "sun, 06 nov 1994 08:49:37 gmt",     # names are case-sensitive
    "Sunday, 06 Nov 1994 08:49:37 GMT",  # long weekday with the IMF layout
    "Sun, 06-Nov-94 08:49:37 GMT",       # short weekday with the RFC 850 layout
    "Sunday, 06-Nov-1994 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994 GMT",      # asctime has no zone
    "Sun, 06 Nov 1994 24:00:00 GMT",     # hour out of range
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:61 GMT",
    "Sun, 31 Feb 1994 08:49:37 GMT",     # no such day
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 0000 08:49:37 GMT",
    "1994-11-06T08:49:37Z",
    "784111777",
    "",
    "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
])
def test_anything_else_is_not_an_http_date_rfc9110_5_6_7(value: str) -> None:
    assert parse_http_date(value) is None


def test_leap_second_is_accepted_rfc9110_5_6_7() -> None:
    # time-of-day runs to 23:59:60; the second after is the same instant.
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == parse_http_date(
        "Sun, 01 Jan 2017 00:00:00 GMT")


def test_rfc850_two_digit_year_more_than_50_years_ahead_is_in_the_past_rfc9110_5_6_7() -> None:
    this_year = time.gmtime().tm_year
    in_51 = (this_year + 51) % 100
    in_50 = (this_year + 50) % 100
    past = parse_http_date(f"Monday, 01-Jan-{in_51:02d} 00:00:00 GMT")
    ahead = parse_http_date(f"Monday, 01-Jan-{in_50:02d} 00:00:00 GMT")
    assert past is not None and ahead is not None
    assert time.gmtime(past).tm_year == this_year + 51 - 100
    assert time.gmtime(ahead).tm_year == this_year + 50


def test_what_we_send_we_read_back() -> None:
    for stamp in (0, SUNDAY, 1_700_000_000, 4_102_444_800):
        assert parse_http_date(http_date(stamp)) == stamp


# -- the conditionals that use it, over a real socket -------------------------

NOT_HTTP_DATES = [
    b"Sun, 01 Jan 2090 00:00:00 PST",
    b"Sun, 01 Jan 2090 00:00:00 +0900",
    b"Sun, 01 Jan 2090 00:00:00",
    b"1 Jan 2090 00:00 -0000",
]


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("dates")
    page = root / "page.txt"
    page.write_text("0123456789\n")
    os.utime(page, (SUNDAY, SUNDAY))
    server = ServerProcess([str(root), "--timeout-keep-alive", "10"])
    yield server
    server.stop()


def _status(server: ServerProcess, fields: bytes) -> int:
    data = raw_exchange(server.port, b"GET /page.txt HTTP/1.1\r\nHost: x\r\n" + fields
                        + b"Connection: close\r\n\r\n")
    return split_responses(data)[0][0]


def test_if_modified_since_with_an_http_date_is_used_rfc9110_13_1_3(
        static: ServerProcess) -> None:
    assert _status(static, b"If-Modified-Since: Sun, 01 Jan 2090 00:00:00 GMT\r\n") == 304


@pytest.mark.parametrize("date", NOT_HTTP_DATES)
def test_if_modified_since_not_an_http_date_is_ignored_rfc9110_13_1_3(
        static: ServerProcess, date: bytes) -> None:
    assert _status(static, b"If-Modified-Since: " + date + b"\r\n") == 200


@pytest.mark.parametrize("date", [b"Sun, 01 Jan 1990 00:00:00 PST", b"1 Jan 1990 00:00 -0000"])
def test_if_unmodified_since_not_an_http_date_is_ignored_rfc9110_13_1_4(
        static: ServerProcess, date: bytes) -> None:
    assert _status(static, b"If-Unmodified-Since: Sun, 01 Jan 1990 00:00:00 GMT\r\n") == 412
    assert _status(static, b"If-Unmodified-Since: " + date + b"\r\n") == 200


def test_if_range_date_must_be_an_http_date_rfc9110_13_1_5(static: ServerProcess) -> None:
    last_modified = http_date(SUNDAY)
    assert _status(static, b"Range: bytes=0-1\r\nIf-Range: " + last_modified + b"\r\n") == 206
    same_instant = last_modified.replace(b"GMT", b"+0000")
    assert _status(static, b"Range: bytes=0-1\r\nIf-Range: " + same_instant + b"\r\n") == 200



def test_rfc850_50_years_is_counted_by_the_whole_date_rfc9110_5_6_7() -> None:
    """31 Dec of the year 50 years on is past the 50 years from any other day
    (found in review: the year alone decided)."""
    now = time.gmtime()  # (only at 23:59:59 on 31 Dec would the two meet)
    last_day = parse_http_date(f"Thursday, 31-Dec-{(now.tm_year + 50) % 100:02d} 23:59:59 GMT")
    first_day = parse_http_date(f"Monday, 01-Jan-{(now.tm_year + 50) % 100:02d} 00:00:00 GMT")
    assert last_day is not None and first_day is not None
    assert time.gmtime(last_day).tm_year == now.tm_year + 50 - 100
    assert time.gmtime(first_day).tm_year == now.tm_year + 50
