"""Byte ranges, RFC 9110 section 14."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockweb.http.errors import SockwebError
from sockweb.http.ranges import (
    MAX_RANGES,
    ContentRange,
    RangeNotSatisfiable,
    content_range,
    parse_content_range,
    parse_range,
    ranges_overlap,
    unsatisfied_range,
)

# -- parse_range: satisfiable ------------------------------------------------


def test_int_range_rfc9110_14_1_2() -> None:
    assert parse_range("bytes=0-499", 10000) == [(0, 499)]
    assert parse_range("bytes=500-999", 10000) == [(500, 999)]


def test_open_range_rfc9110_14_1_2() -> None:
    assert parse_range("bytes=9500-", 10000) == [(9500, 9999)]
    assert parse_range("bytes=0-", 1) == [(0, 0)]


def test_suffix_range_rfc9110_14_1_2() -> None:
    assert parse_range("bytes=-500", 10000) == [(9500, 9999)]


def test_suffix_longer_than_representation_is_all_of_it_rfc9110_14_1_2() -> None:
    assert parse_range("bytes=-500", 100) == [(0, 99)]


def test_last_pos_clamped_to_size_rfc9110_14_1_2() -> None:
    assert parse_range("bytes=90-1000", 100) == [(90, 99)]


def test_several_ranges_keep_request_order_rfc9110_14_6() -> None:
    assert parse_range("bytes=500-600,0-9,-1", 1000) == [(500, 600), (0, 9), (999, 999)]


def test_whitespace_and_empty_list_elements_rfc9110_5_6_1() -> None:
    assert parse_range(" bytes=0-1 , ,\t2-3,", 10) == [(0, 1), (2, 3)]


def test_unit_is_case_insensitive_rfc9110_14_1() -> None:
    assert parse_range("BYTES=0-1", 10) == [(0, 1)]
    assert parse_range(b"Bytes=0-1", 10) == [(0, 1)]


def test_bytes_and_str_give_the_same_answer() -> None:
    assert parse_range(b"bytes=1-2", 5) == parse_range("bytes=1-2", 5) == [(1, 2)]


def test_unsatisfiable_members_are_dropped_rfc9110_14_1_1() -> None:
    assert parse_range("bytes=200-300,0-4,-0", 100) == [(0, 4)]


def test_eighteen_digits_are_accepted() -> None:
    big = "9" * 18
    assert parse_range(f"bytes=0-{big}", 10) == [(0, 9)]
    assert parse_range(f"bytes=-{big}", 10) == [(0, 9)]


def test_exactly_max_ranges_are_accepted() -> None:
    value = "bytes=" + ",".join(f"{i}-{i}" for i in range(MAX_RANGES))
    assert parse_range(value, 1000) == [(i, i) for i in range(MAX_RANGES)]


# -- parse_range: ignore the header (None) -----------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=abc",
        "bytes=1-2-3",
        "bytes=1--2",
        "bytes=+1-2",
        "bytes=0x1-2",
        "bytes=1.5-2",
        "bytes =0-1",
        "bytes=0-1;",
        "bytes=0-1, bytes=2-3",  # two Range fields joined
        "bytes=\u00b2-3",  # "²".isdigit() is True, but it is not DIGIT
        "bytes=\u0661-\u0662",  # nor are Arabic-Indic digits
        "bytes=0-€",  # not even latin-1
    ],
)
def test_invalid_syntax_is_ignored_rfc9110_14_2(value: str) -> None:
    assert parse_range(value, 1000) is None


def test_other_unit_is_ignored_rfc9110_14_2() -> None:
    assert parse_range("items=0-1", 1000) is None
    assert parse_range("none", 1000) is None


def test_last_before_first_makes_set_invalid_rfc9110_14_1_1() -> None:
    assert parse_range("bytes=5-4", 1000) is None
    assert parse_range("bytes=0-1,5-4", 1000) is None


def test_more_than_eighteen_digits_is_ignored() -> None:
    big = "1" + "0" * 18
    assert parse_range(f"bytes={big}-", 10) is None
    assert parse_range(f"bytes=0-{big}", 10) is None
    assert parse_range(f"bytes=-{big}", 10) is None


def test_more_than_max_ranges_is_ignored() -> None:
    value = "bytes=" + ",".join(f"{i}-{i}" for i in range(MAX_RANGES + 1))
    assert parse_range(value, 1000) is None


def test_a_flood_of_commas_is_ignored_cheaply() -> None:
    assert parse_range("bytes=0-1" + "," * 100_000, 1000) is None


# -- parse_range: 416 --------------------------------------------------------


def test_first_pos_past_end_is_unsatisfiable_rfc9110_14_1_1() -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range("bytes=100-", 100)
    assert info.value.size == 100


def test_zero_suffix_is_unsatisfiable_rfc9110_14_1_1() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-0", 100)


def test_all_members_unsatisfiable_rfc9110_14_1_1() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=100-200,300-", 100)


def test_empty_representation_has_no_satisfiable_range() -> None:
    for value in ("bytes=0-", "bytes=-1", "bytes=0-0"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(value, 0)


def test_range_not_satisfiable_is_a_sockweb_error() -> None:
    assert issubclass(RangeNotSatisfiable, SockwebError)


@given(st.integers(0, 10_000), st.integers(0, 20_000), st.integers(0, 20_000))
def test_parsed_ranges_always_lie_inside_the_representation(size: int, a: int, b: int) -> None:
    for value in (f"bytes={a}-{b}", f"bytes={a}-", f"bytes=-{b}", f"bytes={a}-{b},-{a}"):
        try:
            ranges = parse_range(value, size)
        except RangeNotSatisfiable:
            continue
        if ranges is None:
            assert b < a
            continue
        for start, end in ranges:
            assert 0 <= start <= end < size


# -- overlap -----------------------------------------------------------------


def test_ranges_overlap() -> None:
    assert ranges_overlap([(0, 10), (10, 20)])
    assert ranges_overlap([(50, 60), (0, 100)])
    assert not ranges_overlap([(0, 9), (10, 19)])
    assert not ranges_overlap([(20, 29), (0, 9)])
    assert not ranges_overlap([(0, 9)])
    assert not ranges_overlap([])


# -- Content-Range -----------------------------------------------------------


def test_content_range_format_rfc9110_14_4() -> None:
    assert content_range(0, 499, 1234) == b"bytes 0-499/1234"
    assert unsatisfied_range(1234) == b"bytes */1234"


def test_parse_content_range_rfc9110_14_4() -> None:
    assert parse_content_range("bytes 42-1233/1234") == ContentRange(42, 1233, 1234)
    assert parse_content_range(b"bytes 42-1233/*") == ContentRange(42, 1233, None)
    assert parse_content_range("bytes */1234") == ContentRange(None, None, 1234)
    assert parse_content_range(" Bytes 0-0/1 ") == ContentRange(0, 0, 1)


@pytest.mark.parametrize(
    "value",
    [
        "bytes 5-4/10",  # last < first
        "bytes 0-10/10",  # complete-length <= last
        "bytes 0-9/",
        "bytes 0-/10",
        "bytes -5/10",
        "bytes */*",
        "bytes=0-9/10",
        "items 0-9/10",
        "bytes 0-9/10 junk",
        "bytes 0-1000000000000000000/*",  # 19 digits
        "bytes 0-€/10",
        "",
    ],
)
def test_invalid_content_range_rfc9110_14_4(value: str) -> None:
    assert parse_content_range(value) is None


@given(st.integers(1, 10**18 - 1).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_content_range_round_trip(size_and_start: tuple[int, int]) -> None:
    size, start = size_and_start
    end = size - 1
    assert parse_content_range(content_range(start, end, size)) == (start, end, size)
    assert parse_content_range(unsatisfied_range(size)) == (None, None, size)
