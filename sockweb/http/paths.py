"""The path of a URL: segments percent-encoded, "." and ".." applied.

What the WHATWG URL Standard's path state does to a path (``\\`` is a
``/``, ``%2e`` is a dot), and ``plain_relative_path``, the test for the
links that need none of it. Its own module because both the parser and
``URL.replace`` in urls.py normalise paths through ``_path``, and the
browser asks ``plain_relative_path`` of every link without parsing it.
"""

from __future__ import annotations

import re

from .percent import _encode_path

_SLASHES = r"[/\\]"
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def _path(raw: str, segments: list[str]) -> str:
    """Append ``raw``'s segments to ``segments``, applying "." and ".."."""
    parts = raw.split("/") if "\\" not in raw else re.split(_SLASHES, raw)
    if raw[:1] in ("/", "\\"):
        del parts[0]
    last = len(parts) - 1
    for i, part in enumerate(parts):
        dots = part.lower() if len(part) <= 6 else ""
        if dots in _DOUBLE_DOT:
            if segments:
                segments.pop()
            if i == last:
                segments.append("")  # "/a/b/.." is "/a/", a directory
        elif dots in _SINGLE_DOT:
            if i == last:
                segments.append("")
        else:
            segments.append(_encode_path(part))
    return "/" + "/".join(segments)


# Printable ASCII that the path state keeps as it is and gives no other
# meaning: not the path percent-encode set (" # < > ? ^ ` { }), not "\\"
# (a "/" in special URLs), ":" (a scheme), "%" ("%2e" is a dot segment).
_PLAIN_PATH = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?^`{}\\:%')


def plain_relative_path(reference: str) -> bool:
    """Whether joining ``reference`` to a base (http, https, file) is only
    ``base.directory() + reference``: a relative path of plain characters, no
    dot segment, no query or fragment. Most links of a page are; joining
    them this way skips the parser (a browser page has thousands)."""
    return (bool(reference) and not reference.strip(_PLAIN_PATH) and reference[0] != "/"
            and "/./" not in f"/{reference}/" and "/../" not in f"/{reference}/")
