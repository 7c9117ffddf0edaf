"""The HTML page for a directory that has no ``index.html``.

Kept apart from ``static.py`` so the request logic there stays short; nothing
here decides what may be served, it only renders what ``scan`` found.
"""

from __future__ import annotations

import html
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry; ``size``/``mtime`` are None when stat failed."""

    name: str  # as os.fsdecode gives it (undecodable bytes are surrogates)
    is_dir: bool
    size: int | None
    mtime: float | None


def scan(directory: str, *, dotfiles: bool = False) -> list[Entry]:
    """The entries of ``directory``, directories first, then by name.

    Directories first like nginx's autoindex; names compare case-insensitively
    like ``python -m http.server``, with the exact name as a tie-break so the
    order never depends on the file system. Raises the OSError of scandir.
    """
    entries: list[Entry] = []
    with os.scandir(directory) as it:
        for item in it:
            if not dotfiles and item.name.startswith("."):
                continue
            try:
                st = item.stat()  # follows symlinks: show what a click would get
            except OSError:
                # A broken symlink or an entry gone since readdir: still list it.
                entries.append(Entry(item.name, False, None, None))
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            entries.append(Entry(item.name, is_dir, None if is_dir else st.st_size, st.st_mtime))
    entries.sort(key=lambda e: (not e.is_dir, e.name.casefold(), e.name))
    return entries


def human_size(size: int) -> str:
    """``512 B``, ``1.2 KiB``, ``3.0 GiB``: binary units, one decimal."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        # Compare the rounded value so 1048575 bytes reads 1.0 MiB, not 1024.0 KiB.
        if round(value, 1) < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} PiB"


def format_mtime(mtime: float) -> str:
    """``2026-11-25 10:03`` in UTC, so the page is the same wherever it is served."""
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(mtime))
    except (OverflowError, OSError, ValueError):
        return "-"


def _display(name: str) -> str:
    # Names that are not UTF-8 carry surrogates, which cannot be encoded in the
    # page; show U+FFFD instead while the link keeps the exact bytes.
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_STYLE = """\
:root{color-scheme:light dark}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#1f2328;background:#fff;line-height:1.4}
h1{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{padding:.35rem .75rem;text-align:left}
th{border-bottom:2px solid #d0d7de;font-weight:600}
tbody tr:nth-child(odd){background:#f6f8fa}
td.n{overflow-wrap:anywhere}
.s{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.m{white-space:nowrap;font-variant-numeric:tabular-nums}
a{color:#0969da;text-decoration:none}
a:hover{text-decoration:underline}
@media (prefers-color-scheme:dark){
body{color:#e6edf3;background:#0d1117}th{border-color:#30363d}
tbody tr:nth-child(odd){background:#161b22}a{color:#4493f8}}
"""


def _row(href: str, label: str, size: str, mtime: str) -> str:
    return (
        f'<tr><td class="n"><a href="{html.escape(href)}">{html.escape(label)}</a></td>'
        f'<td class="s">{size}</td><td class="m">{mtime}</td></tr>'
    )


def render(url_path: str, entries: Iterable[Entry]) -> bytes:
    """The listing page of ``url_path`` (decoded, ending with "/") as UTF-8."""
    title = html.escape(f"Index of {_display(url_path)}")
    rows: list[str] = []
    if url_path != "/":
        rows.append(_row("../", "../", "-", ""))
    for entry in entries:
        suffix = "/" if entry.is_dir else ""
        # quote() of the raw bytes so the link names exactly this file, and
        # safe="" so a name like "a:b" is not read as a URL scheme.
        href = quote(os.fsencode(entry.name), safe="") + suffix
        size = "-" if entry.size is None else human_size(entry.size)
        mtime = "-" if entry.mtime is None else format_mtime(entry.mtime)
        rows.append(_row(href, _display(entry.name) + suffix, size, mtime))
    body = "\n".join(rows)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<table>
<thead><tr><th>Name</th><th class="s">Size</th><th class="m">Modified (UTC)</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")
