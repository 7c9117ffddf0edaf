"""Ordered, case-insensitive, multi-valued header fields (RFC 9110 section 5).

Fields are kept as received: a list of ``(name, value)`` byte pairs in wire
order, so nothing is lost for ``-v`` output or for an ASGI/WSGI app. Look-ups
take ``str`` or ``bytes`` names and build a lower-cased index only when first
asked, so a request whose headers are never searched pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .errors import LocalProtocolError

# RFC 9110 section 5.6.2: token = 1*tchar
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

Name = str | bytes
_NAME_TYPES = (str, bytes)  # a tuple: "str | bytes" would build a union per call


def _key(name: Name) -> bytes:
    if name.__class__ is bytes:
        return name.lower()
    return name.encode("latin-1").lower()  # type: ignore[union-attr]


def is_token(value: bytes) -> bool:
    return _TOKEN.match(value) is not None


# Bytes looked for by their value: ``13 in value`` is a plain byte search,
# while ``b"\r" in value`` first tries b"\r" as an integer and pays for a
# TypeError it then drops (about 90 ns a test, three tests per field sent).
_CR, _LF, _NUL = 13, 10, 0

# Names already found to be tokens: an app sends the same few on every response.
_GOOD_NAMES: set[bytes] = set()


def validate_field(name: bytes, value: bytes) -> None:
    """Refuse a field that would break the framing (header injection, splitting)."""
    if name not in _GOOD_NAMES:
        if not _TOKEN.match(name):
            raise LocalProtocolError(f"invalid header name {name!r}")
        if len(_GOOD_NAMES) < 4096:
            _GOOD_NAMES.add(bytes(name))
    # RFC 9110 section 5.5: no CR, LF or NUL in a value (three scans of a
    # short value cost less than one regex search).
    if _CR in value or _LF in value or _NUL in value:
        raise LocalProtocolError(f"invalid header value for {name.decode('latin-1')}")


class Headers:
    """Header fields in order; ``h["content-type"]`` is case-insensitive.

    ``raw`` is the list of fields as received, in order: read it, do not
    mutate it (a plain attribute, not a property, because a request's
    fields are read on the hot path of every app request).
    """

    __slots__ = ("raw", "_index")

    def __init__(self, fields: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        self.raw: list[tuple[bytes, bytes]] = list(fields) if fields else []
        self._index: dict[bytes, list[bytes]] | None = None

    @classmethod
    def adopt(cls, fields: list[tuple[bytes, bytes]],
              index: dict[bytes, list[bytes]] | None = None) -> Headers:
        """Headers over ``fields`` as they are, no copy (a parser's own list);
        ``index`` is its lower-cased name -> values map if already built."""
        headers = cls.__new__(cls)
        headers.raw = fields
        headers._index = index
        return headers

    # -- reading -------------------------------------------------------------
    def _idx(self) -> dict[bytes, list[bytes]]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self.raw:
                index.setdefault(name.lower(), []).append(value)
            self._index = index
        return index

    def get_raw(self, name: Name) -> bytes | None:
        """The first value of ``name`` as bytes, or None."""
        values = self._idx().get(_key(name))
        return values[0] if values else None

    def get_all_raw(self, name: Name) -> list[bytes]:
        return list(self._idx().get(_key(name), ()))

    def get(self, name: Name, default: str | None = None) -> str | None:
        """All values of ``name`` joined by ", " (RFC 9110 section 5.3), as text."""
        values = self._idx().get(_key(name))
        if not values:
            return default
        return b", ".join(values).decode("latin-1")

    def get_all(self, name: Name) -> list[str]:
        return [v.decode("latin-1") for v in self._idx().get(_key(name), ())]

    def has_any(self, names: frozenset[bytes]) -> bool:
        """Whether any of ``names`` (lower-case bytes) is present: one set test."""
        return not self._idx().keys().isdisjoint(names)

    def has_lower(self, name: bytes) -> bool:
        """``name in headers`` for a name already lower-case bytes, without
        the conversion (for per-request tests on hot paths)."""
        index = self._index  # a parser's head has its index: no second call
        return name in (index if index is not None else self._idx())

    def count(self, name: Name) -> int:
        return len(self._idx().get(_key(name), ()))

    def __getitem__(self, name: Name) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, _NAME_TYPES):
            return False
        return _key(name) in self._idx()

    def __iter__(self) -> Iterator[str]:
        seen: set[bytes] = set()
        for name, _ in self.raw:
            low = name.lower()
            if low not in seen:
                seen.add(low)
                yield name.decode("latin-1")

    def __len__(self) -> int:
        return len(self.raw)

    def items(self) -> list[tuple[str, str]]:
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.raw]

    # -- writing -------------------------------------------------------------
    def add(self, name: Name, value: str | bytes) -> None:
        n = name.encode("latin-1") if isinstance(name, str) else name
        v = value.encode("latin-1") if isinstance(value, str) else value
        validate_field(n, v)
        self.raw.append((n, v))
        self._index = None

    def remove(self, name: Name) -> None:
        key = _key(name)
        self.raw = [f for f in self.raw if f[0].lower() != key]
        self._index = None

    def set(self, name: Name, value: str | bytes) -> None:
        self.remove(name)
        self.add(name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(n.lower(), v) for n, v in self.raw] == [
            (n.lower(), v) for n, v in other.raw
        ]

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"
