"""Percent-encoding for URLs, and application/x-www-form-urlencoded.

The WHATWG percent-encode sets (fragment, query, path, userinfo), percent-
decoding, and the urlencoded serializer and parser that forms and query
strings use. Its own module because it is text rules only: it knows nothing
of URLs, hosts or errors, and the URL parser (urls.py) and its host and path
steps (hosts.py, paths.py) all build on it. Like them it costs next to
nothing to import: no regex is compiled until some text needs one, and
urllib.parse loads only for text that holds a percent-escape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# -- percent-encoding ----------------------------------------------------------


def _pct(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode())


def _encoder(extra: str) -> Callable[[str], str]:
    # Every WHATWG set holds the C0 controls, space and all of non-ASCII; "%"
    # is in none of them, which is what keeps existing escapes untouched.
    # Written as "not printable ASCII, or one of extra": the same set as
    # [\x00-\x20\x7f-\U0010ffff...], which costs ~4 ms per regex to compile.
    pattern = "(?:[^\x21-\x7e]" + ("|[" + re.escape(extra) + "]" if extra else "") + ")+"
    unsafe = frozenset(extra)

    def encode(text: str) -> str:
        # Most text has nothing to encode: then no regex is even compiled.
        if text.isascii() and text.isprintable() and " " not in text \
                and unsafe.isdisjoint(text):
            return text
        return re.sub(pattern, _pct, text)

    return encode


_QUERY_SET = '"#<>'
_PATH_SET = _QUERY_SET + "?^`{}"
_encode_fragment = _encoder('"<>`')
_encode_query = _encoder(_QUERY_SET + "'")  # the special-query set: all our schemes are special
_encode_path = _encoder(_PATH_SET)
# "%" too, because username and password are stored decoded: a literal "%"
# must come back as itself.
_encode_userinfo = _encoder(_PATH_SET + "/:;=@[\\]|%")
_FORM_UNSAFE = r"[^A-Za-z0-9*\-._ ]+"
_SURROGATE = "[\ud800-\udfff]"


def _encode_optional(text: str | None, encode: Callable[[str], str]) -> str | None:
    return None if text is None else encode(_usv(text))


def _usv(text: str) -> str:
    """Lone surrogates cannot be UTF-8 encoded; the standard sees U+FFFD there."""
    return text if text.isascii() else re.sub(_SURROGATE, "\ufffd", text)


def _decode(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(text).decode("utf-8", "replace")


# -- application/x-www-form-urlencoded ---------------------------------------------


def _form_encode(text: str) -> str:
    return re.sub(_FORM_UNSAFE, _pct, _usv(text)).replace(" ", "+")


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """The WHATWG urlencoded serializer: only ``A-Za-z0-9*-._`` stay, space is "+"."""
    return "&".join(f"{_form_encode(name)}={_form_encode(value)}" for name, value in pairs)


def parse_query(query: str) -> list[tuple[str, str]]:
    """The WHATWG urlencoded parser: "+" is space, bad escapes stay, bad UTF-8 is U+FFFD."""
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.replace("+", " ").partition("=")
            pairs.append((_decode(name), _decode(value)))
    return pairs
