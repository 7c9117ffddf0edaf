"""Byte ranges (RFC 9110 section 14): ``Range`` in, ``Content-Range`` out and back.

Pure functions on header values, so the static file handler and the client
share one reading of the grammar. Parsing follows the RFC's three outcomes:

* ``None``: the header is not something we understand (bad syntax, another
  unit, absurd size). RFC 9110 section 14.2 lets a server ignore it and
  answer 200 with the whole representation, which is always safe.
* :class:`RangeNotSatisfiable`: the syntax is fine but no range overlaps the
  representation (section 14.1.1); a server answers 416.
* a list of ``(first, last)`` inclusive offsets, clamped to the size, in the
  order the client asked for (section 14.6 suggests keeping that order).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import SockwebError

# Beyond these a request is an attack or a bug, never a real client: refusing
# before any int() keeps the cost of a hostile header linear and tiny.
MAX_RANGES = 100
MAX_DIGITS = 18

ByteRange = tuple[int, int]

_OWS = b" \t"
# int-range / suffix-range (RFC 9110 section 14.1.1) with optional whitespace
# around, which is where the list syntax of section 5.6.1 allows it.
_SPEC = re.compile(rb"[ \t]*([0-9]{0,%d})-([0-9]{0,%d})[ \t]*" % (MAX_DIGITS, MAX_DIGITS))
_CONTENT_RANGE = re.compile(
    rb"(?i:bytes) (?:([0-9]{1,%d})-([0-9]{1,%d})/([0-9]{1,%d}|\*)|\*/([0-9]{1,%d}))"
    % (MAX_DIGITS, MAX_DIGITS, MAX_DIGITS, MAX_DIGITS)
)


class RangeNotSatisfiable(SockwebError):
    """A valid ``Range`` none of whose ranges overlaps the representation."""

    def __init__(self, size: int) -> None:
        super().__init__(f"no satisfiable byte range in {size} bytes")
        self.size = size


class ContentRange(NamedTuple):
    """A parsed ``Content-Range``.

    ``start``/``end`` are None for ``bytes */size`` (the 416 form); ``size`` is
    None when the sender did not know the complete length (``/*``).
    """

    start: int | None
    end: int | None
    size: int | None


def _to_bytes(value: str | bytes) -> bytes | None:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        # Cannot have come off the wire; no range syntax uses such characters.
        return None


def parse_range(value: str | bytes, size: int) -> list[ByteRange] | None:
    """The ranges of a ``Range`` value against a representation of ``size`` bytes.

    Returns None when the header should be ignored, raises
    :class:`RangeNotSatisfiable` when the answer must be 416.
    """
    raw = _to_bytes(value)
    if raw is None:
        return None
    unit, eq, spec_set = raw.strip(_OWS).partition(b"=")
    # Range units are case-insensitive (RFC 9110 section 14.1).
    if not eq or unit.lower() != b"bytes":
        return None
    # Section 5.6.1.2 asks us to skip "a reasonable number" of empty elements;
    # counting commas first bounds the split below.
    if spec_set.count(b",") >= 2 * MAX_RANGES:
        return None
    specs = [s for s in spec_set.split(b",") if s.strip(_OWS)]
    if not specs or len(specs) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    for spec in specs:
        match = _SPEC.fullmatch(spec)
        if match is None:
            return None
        first, last = match.groups()
        if first:
            start = int(first)
            end = int(last) if last else size - 1
            if last and end < start:
                # Section 14.1.1: such a range-spec makes the whole set invalid.
                return None
            if start >= size:
                # Unsatisfiable on its own; the others may still be served.
                continue
            ranges.append((start, min(end, size - 1)))
        elif last:
            suffix = int(last)
            # "-0" selects nothing, and an empty file has no byte to select:
            # like nginx, answer 416 rather than a Content-Range that cannot be
            # written ("bytes 0--1/0").
            if suffix == 0 or size == 0:
                continue
            ranges.append((max(size - suffix, 0), size - 1))
        else:
            return None
    if not ranges:
        raise RangeNotSatisfiable(size)
    return ranges


def ranges_overlap(ranges: list[ByteRange]) -> bool:
    """Whether any two ranges share a byte (adjacent ranges do not)."""
    ordered = sorted(ranges)
    return any(ordered[i][0] <= ordered[i - 1][1] for i in range(1, len(ordered)))


def content_range(start: int, end: int, size: int) -> bytes:
    """``bytes start-end/size`` for a 206 (RFC 9110 section 14.4)."""
    return b"bytes %d-%d/%d" % (start, end, size)


def unsatisfied_range(size: int) -> bytes:
    """``bytes */size`` for a 416 (RFC 9110 section 14.4)."""
    return b"bytes */%d" % size


def parse_content_range(value: str | bytes) -> ContentRange | None:
    """A ``Content-Range`` value, or None if it is invalid or not in bytes."""
    raw = _to_bytes(value)
    if raw is None:
        return None
    match = _CONTENT_RANGE.fullmatch(raw.strip(_OWS))
    if match is None:
        return None
    first, last, length, unsatisfied = match.groups()
    if unsatisfied is not None:
        return ContentRange(None, None, int(unsatisfied))
    start, end = int(first), int(last)
    size = None if length == b"*" else int(length)
    # Section 14.4: invalid if last < first or complete-length <= last.
    if end < start or (size is not None and size <= end):
        return None
    return ContentRange(start, end, size)
