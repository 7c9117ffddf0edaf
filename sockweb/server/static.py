"""Serve a directory tree: GET/HEAD/OPTIONS, validators, conditionals, ranges.

The rules people compare us on (nginx, ``python -m http.server``) and where
they come from:

* nothing outside ``root`` is ever opened: the path is decoded once,
  normalised lexically, then resolved with realpath and checked again, so
  ``..`` tricks and symlinks leading out both end in 404;
* only regular files and directories are served; a FIFO or device could block
  the event loop or never end;
* conditionals are evaluated in the order of RFC 9110 section 13.2.2, ranges
  per section 14;
* a Content-Length can never be wrong: small files are read into memory (the
  body is what was read), larger ones are sent as a FileSlice sized by the
  fstat of the open file, and the exchange aborts if the file shrinks.
"""

from __future__ import annotations

import errno
import html
import logging
import mimetypes
import os
import re
import secrets
import stat
from io import FileIO
from urllib.parse import unquote_to_bytes

from ..http.dates import http_date, parse_http_date
from ..http.headers import Headers
from ..http.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    content_range,
    parse_range,
    ranges_overlap,
    unsatisfied_range,
)
from . import listing
from .files import OPEN_FILES, Held, OpenFile, identity, open_regular, opened_path, read_all
from .response import FileSlice, Part, Response, error_page, text_response

log = logging.getLogger("sockweb.server")

ALLOWED_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
_ALLOW = (b"Allow", b"GET, HEAD, OPTIONS")
# More parts than this, or overlapping ones, get the whole file (RFC 9110
# section 14.2 allows it): a few bytes of header must not buy megabytes.
MAX_MULTIPART_RANGES = 16
# Small files kept in memory, at most this many (x small_file_limit bytes):
# the stat that validates an entry costs less than open, read and close.
CACHE_ENTRIES = 256

# The platform's tables differ between machines; start from Python's built-in
# defaults only and pin what browsers care about. Lookup is by the last suffix
# alone, so "x.tar.gz" is application/gzip and never gets a Content-Encoding
# that would make a browser unpack the download.
_EXTRA_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css",
    ".js": "text/javascript", ".mjs": "text/javascript",  # RFC 9239
    ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv",
    ".xml": "application/xml", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".wasm": "application/wasm",  # required by WebAssembly.instantiateStreaming
    ".pdf": "application/pdf", ".woff": "font/woff", ".woff2": "font/woff2",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
    ".zip": "application/zip", ".gz": "application/gzip", ".tar": "application/x-tar",
}  # fmt: skip
_TYPES: dict[str, str] = {**mimetypes.MimeTypes(filenames=()).types_map[True], **_EXTRA_TYPES}
_CHARSET_TYPES = frozenset(
    {"application/javascript", "application/json", "application/manifest+json",
     "application/xml", "image/svg+xml"}
)  # fmt: skip

_HTML = b"text/html; charset=utf-8"
_BACKSLASH = ord("\\")
# Most requests carry none of these; one set test spares the rest.
_CONDITIONAL = frozenset(
    {b"if-match", b"if-none-match", b"if-modified-since", b"if-unmodified-since", b"range"}
)
# Bytes that must not reach a Location header unencoded.
_UNSAFE_LOCATION = re.compile(rb"[^\x21-\x7e]")
_ETAG = re.compile(r'(W/)?("[\x21\x23-\x7e\x80-\xff]*")')


def guess_content_type(name: str) -> bytes:
    """The Content-Type for a file name, with a charset where browsers need one."""
    ctype = _TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")
    if ctype.startswith("text/") or ctype in _CHARSET_TYPES:
        ctype += "; charset=utf-8"
    return ctype.encode("ascii")


class StaticFiles:
    """Files under ``root``; hidden names (".git", ".env") only if ``dotfiles``.

    ``prefix`` is the URL path the root is served at (``--static /static=DIR``
    gives ``b"/static"``): ``handle`` gets the path below it, and the prefix
    goes back in front wherever a URL is written (a redirect's Location, a
    listing's title), so nothing points outside the mount.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        dotfiles: bool = False,
        small_file_limit: int = 64 * 1024,
        prefix: bytes = b"",
    ) -> None:
        self.root = os.path.realpath(os.fspath(root))
        if not os.path.isdir(self.root):
            raise NotADirectoryError(f"static root is not a directory: {self.root}")
        self._inside = self.root if self.root.endswith(os.sep) else self.root + os.sep
        if prefix and (not prefix.startswith(b"/") or prefix.endswith(b"/")):
            raise ValueError(f"a prefix is '/name', without a trailing slash: {prefix!r}")
        self.prefix = prefix
        # The prefix as a listing shows it: decoded, like the segments after it.
        self._shown_prefix = unquote_to_bytes(prefix).decode("utf-8", "replace")
        self.dotfiles = dotfiles
        self.small_file_limit = small_file_limit
        # path -> (identity, content, stat, Content-Type) of small files read
        # before; an entry serves only while a stat of the path shows the very
        # same file (inode, size, mtime, ctime), so no change is ever missed.
        self._cache: dict[str, tuple[tuple[int, ...], bytes, os.stat_result, bytes]] = {}
        # Raw request path -> (file path, identity, the whole 200 response) of
        # cached files asked for plainly: a repeat of such a request costs one
        # stat and no formatting (nginx's open_file_cache, revalidated each time).
        self._ready: dict[bytes, tuple[str, tuple[int, ...], Response]] = {}
        # File path -> the large file kept open, and its identity when opened.
        self._open: dict[str, OpenFile] = {}
        # Made now: with no descriptor left even a lazy import would fail.
        self._no_descriptors = _error(503, [(b"Retry-After", b"1")])

    def close(self) -> None:
        """Let go of the files kept open (each closes once no response still sends it)."""
        for kept in self._open.values():
            kept.release()
        self._open.clear()

    def handle(self, method: str, path: bytes, query: bytes, headers: Headers) -> Response:
        """The response to ``method`` on the raw (percent-encoded) ``path``.

        ``path`` is what follows the prefix: ``b""`` is the mount's own URL
        (``/static``), redirected to ``/static/`` like any directory.
        """
        if method == "OPTIONS":
            return Response(204, [_ALLOW])
        if method not in ALLOWED_METHODS:
            return _error(405, [_ALLOW])
        ready = self._ready.get(path)
        if ready is not None and not headers.has_any(_CONDITIONAL):
            try:
                if identity(os.stat(ready[0])) == ready[1]:
                    return ready[2]
            except OSError:
                pass  # gone or changed: the full path below says what it is now
        try:
            # HEAD takes the same path as GET: the exchange drops the body.
            return self._get(path, query, headers)
        except PermissionError:
            return _error(403)
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                # Out of descriptors: the file may well be there. nginx says
                # 500 (EMFILE on open); "try again shortly" is what is true.
                log.warning("cannot open %s: %s", path.decode("latin-1"), exc.strerror)
                busy = self._no_descriptors
                return Response(busy.status, list(busy.headers), busy.body)
            # ENAMETOOLONG, ELOOP, a file vanishing mid-request: all "not here".
            return _error(404)
        except ValueError:
            return _error(404)

    def _inside_root(self, real: str) -> bool:
        return real == self.root or real.startswith(self._inside)

    def _get(self, path: bytes, query: bytes, headers: Headers) -> Response:
        if not path.startswith(b"/"):
            if path or not self.prefix:
                return _error(400)
            # "/static" itself: the root, asked for without its slash.
            return _redirect(self.prefix, query)
        decoded = unquote_to_bytes(path)  # once: "%252e" must stay "%2e"
        # Bytes by their value: a plain search (``b"\\" in`` costs a dropped
        # TypeError inside CPython).
        if 0 in decoded:
            return _error(400)
        if _BACKSLASH in decoded:
            # A separator on Windows, and "/\host" is "//host" to browsers.
            return _error(404)
        segments = _normalise(decoded)
        if segments is None:
            return _error(404)
        if not self.dotfiles and any(s.startswith(b".") for s in segments):
            return _error(404)
        requested = os.path.join(self.root, *map(os.fsdecode, segments))
        # stat before open: a FIFO or a device is never opened at all.
        try:
            st = os.stat(requested)
        except OSError:
            self._forget(requested)
            raise
        if stat.S_ISDIR(st.st_mode):
            self._forget(requested)  # a kept file whose name is now a directory's
            real = os.path.realpath(requested)
            if not self._inside_root(real):
                return _error(404)
            if not path.endswith(b"/"):
                return _redirect(self.prefix + path, query)
            return self._directory(real, segments, headers)
        if stat.S_ISREG(st.st_mode) and not decoded.endswith(b"/"):
            cached = self._cache.get(requested)
            if cached is not None and cached[0] == identity(st):
                cached_id, data, cached_st, ctype = cached
                response = self._file_response(None, cached_st, ctype, headers, data)
                if response.status == 200 and not headers.has_any(_CONDITIONAL):
                    self._make_ready(path, requested, cached_id, response)
                return response
            # The type follows the name asked for, as in nginx, not a symlink's target.
            ctype = guess_content_type(requested)
            kept = self._open.get(requested)
            if kept is not None:
                if kept.identity == identity(st):
                    # The same file as when it was opened (and found inside root).
                    return self._serve_open((kept.hold(), kept.st), ctype, headers)
                self._forget(requested)
            return self._file(requested, ctype, headers)
        self._forget(requested)
        return _error(404)

    def _forget(self, path: str) -> None:
        kept = self._open.pop(path, None)
        if kept is not None:
            kept.release()

    def _keep_open(self, path: str, file: FileIO, st: os.stat_result) -> Held:
        """``file`` kept open for later requests; the holder for this response."""
        kept = self._open
        if len(kept) >= OPEN_FILES:
            self._forget(next(iter(kept)))  # the oldest entry
        entry = kept[path] = OpenFile(file, st)
        return entry.hold()

    def _directory(self, real: str, segments: list[bytes], headers: Headers) -> Response:
        try:
            index = self._open_inside(os.path.join(real, "index.html"))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            index = None
        if index is not None:
            return self._serve_open(index, _HTML, headers)
        if headers.has_any(_CONDITIONAL):
            # A listing has no ETag and no Last-Modified (a directory's mtime
            # misses a file growing): only the "*" forms can decide anything.
            failed = _failed_precondition(headers, None, None, [])
            if failed is not None:
                return failed
        entries = listing.scan(real, dotfiles=self.dotfiles)
        url_path = self._shown_prefix + "/"
        url_path += "".join(s.decode("utf-8", "replace") + "/" for s in segments)
        body = listing.render(url_path, entries)
        return Response(200, [(b"Content-Type", _HTML)], body)

    def _open_inside(self, path: str) -> tuple[FileIO, os.stat_result] | None:
        """The open regular file at ``path`` if it really lies inside root."""
        opened = open_regular(path)
        # Checked on the descriptor actually opened, so a symlink swapped in
        # after any earlier look cannot lead out of root.
        if opened is not None and not self._inside_root(opened_path(opened[0].fileno(), path)):
            opened[0].close()
            return None
        return opened

    def _file(self, path: str, ctype: bytes, headers: Headers) -> Response:
        opened = self._open_inside(path)
        if opened is None:
            return _error(404)
        file, st = opened
        if st.st_size > self.small_file_limit:
            return self._serve_open((self._keep_open(path, file, st), st), ctype, headers)
        with file:
            data = read_all(file.fileno(), st.st_size)
            # Kept only if what was read is the whole file as fstat saw it.
            if len(data) == st.st_size and identity(os.fstat(file.fileno())) == identity(st):
                self._remember(path, st, data, ctype)
        return self._file_response(None, st, ctype, headers, data)

    def _make_ready(
        self, raw: bytes, path: str, identity: tuple[int, ...], response: Response
    ) -> None:
        ready = self._ready
        if raw not in ready and len(ready) >= CACHE_ENTRIES:
            del ready[next(iter(ready))]  # the oldest entry
        response.shared = True  # from now on never changed, only written again
        ready[raw] = (path, identity, response)

    def _remember(self, path: str, st: os.stat_result, data: bytes, ctype: bytes) -> None:
        cache = self._cache
        if path not in cache and len(cache) >= CACHE_ENTRIES:
            del cache[next(iter(cache))]  # the oldest entry
        cache[path] = (identity(st), data, st, ctype)

    def _serve_open(
        self, opened: tuple[FileIO | Held, os.stat_result], ctype: bytes, headers: Headers
    ) -> Response:
        file, st = opened
        keep = False
        try:
            response = self._file_response(file, st, ctype, headers)
            keep = response.file is not None
            return response
        finally:
            if not keep:
                file.close()

    def _file_response(
        self,
        file: FileIO | Held | None,
        st: os.stat_result,
        ctype: bytes,
        headers: Headers,
        data: bytes | None = None,
    ) -> Response:
        # Like nginx, but with nanoseconds so two writes within a second differ.
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        mtime = st.st_mtime_ns // 1_000_000_000  # HTTP dates have whole seconds
        validators = [(b"ETag", etag.encode("ascii")), (b"Last-Modified", http_date(mtime))]
        conditional = headers.has_any(_CONDITIONAL)
        if conditional:
            failed = _failed_precondition(headers, etag, mtime, validators)
            if failed is not None:
                return failed

        fd = file.fileno() if file is not None else -1
        if data is None and st.st_size <= self.small_file_limit:
            data = read_all(fd, st.st_size)
        # For a small file, the bytes read are the truth even if it changed.
        size = st.st_size if data is None else len(data)

        def part(start: int, end: int) -> Part:
            if data is not None:
                return data[start : end + 1]
            return FileSlice(fd, start, end - start + 1)

        try:
            ranges = _requested_ranges(headers, etag, mtime, size) if conditional else None
        except RangeNotSatisfiable:
            return _error(416, [(b"Content-Range", unsatisfied_range(size))])
        if ranges is not None and (len(ranges) > MAX_MULTIPART_RANGES or ranges_overlap(ranges)):
            ranges = None

        head = [*validators, (b"Accept-Ranges", b"bytes")]
        if not ranges:
            parts: list[Part] = [part(0, size - 1)] if size else []
            return _body_response(200, [(b"Content-Type", ctype), *head], parts, file, data)
        if len(ranges) == 1:
            start, end = ranges[0]
            fields = [(b"Content-Type", ctype), (b"Content-Range", content_range(start, end, size))]
            return _body_response(206, [*fields, *head], [part(start, end)], file, data)

        # RFC 9110 section 14.6: each part is "--boundary", its own fields, a
        # blank line and the bytes; a CRLF before every next delimiter and a
        # final "--boundary--".
        boundary = secrets.token_hex(16).encode("ascii")
        parts = []
        for start, end in ranges:
            parts.append(
                b"--%s\r\nContent-Type: %s\r\nContent-Range: %s\r\n\r\n"
                % (boundary, ctype, content_range(start, end, size))
            )
            parts += [part(start, end), b"\r\n"]
        parts.append(b"--%s--\r\n" % boundary)
        multipart = b"multipart/byteranges; boundary=" + boundary
        return _body_response(206, [(b"Content-Type", multipart), *head], parts, file, data)


def _normalise(decoded: bytes) -> list[bytes] | None:
    """The path's segments without ".", ".." and empty ones; None if it climbs out."""
    out: list[bytes] = []
    for segment in decoded.split(b"/"):
        if segment in (b"", b"."):
            continue
        if segment == b"..":
            if not out:
                return None
            out.pop()
        else:
            out.append(segment)
    return out


def _body_response(
    status: int,
    fields: list[tuple[bytes, bytes]],
    parts: list[Part],
    file: FileIO | Held | None,
    data: bytes | None,
) -> Response:
    if data is not None:
        # Every part is bytes when the file was read into memory.
        return Response(status, fields, b"".join(p for p in parts if isinstance(p, bytes)))
    return Response(status, fields, _coalesce(parts), file=file)


def _coalesce(parts: list[Part]) -> list[Part]:
    """Adjacent bytes parts joined, so the exchange makes fewer writes."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += p
        else:
            out.append(p)
    return out


def _etag_matches(field: str, etag: str | None, *, weak: bool) -> bool:
    """RFC 9110 section 8.8.3.2: weak comparison ignores W/, strong refuses it.

    "*" matches any current representation, one without an ETag too.
    """
    if field.strip() == "*":
        return True
    return any(tag == etag and (weak or not w) for w, tag in _ETAG.findall(field))


def _single_date(headers: Headers, name: str) -> float | None:
    # RFC 9110 sections 13.1.3/13.1.4: ignore an invalid date or a list of them.
    if headers.count(name) != 1:
        return None
    raw = headers.get_raw(name)
    return None if raw is None else parse_http_date(raw)


def _failed_precondition(
    headers: Headers, etag: str | None, mtime: int | None, validators: list[tuple[bytes, bytes]]
) -> Response | None:
    """The 412 or 304 the preconditions call for, or None to go on.

    RFC 9110 section 15.4.5: a 304 carries the validators, no content metadata.
    """
    status = _preconditions(headers, etag, mtime)
    if status == 412:
        return _error(412)
    if status == 304:
        return Response(304, validators)
    return None


def _preconditions(headers: Headers, etag: str | None, mtime: int | None) -> int | None:
    """412, 304 or None (go on), in the order of RFC 9110 section 13.2.2.

    Only GET and HEAD get here, so a true If-None-Match always means 304.
    Without an ETag only "*" matches; without a modification date both date
    conditions are ignored (sections 13.1.3 and 13.1.4: "MUST ignore").
    """
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _etag_matches(if_match, etag, weak=False):
            return 412
    elif mtime is not None:
        since = _single_date(headers, "if-unmodified-since")
        if since is not None and mtime > since:
            return 412
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return 304 if _etag_matches(if_none_match, etag, weak=True) else None
    if mtime is None:
        return None
    since = _single_date(headers, "if-modified-since")
    if since is not None and mtime <= since:
        return 304
    return None


def _requested_ranges(headers: Headers, etag: str, mtime: int, size: int) -> list[ByteRange] | None:
    """The ranges to serve, None for the whole file; may raise RangeNotSatisfiable."""
    value = headers.get("range")  # several Range fields join into invalid syntax
    if value is None:
        return None
    if_range = headers.get("if-range")
    if if_range is not None:
        if_range = if_range.strip()
        if if_range.startswith(('"', 'W/"')):
            # Strong comparison (RFC 9110 section 13.1.5): a weak tag never matches.
            if if_range != etag:
                return None
        elif parse_http_date(if_range) != mtime:
            # A date must equal Last-Modified exactly; an invalid one never does.
            return None
    return parse_range(value, size)


def _redirect(path: bytes, query: bytes) -> Response:
    # "//host/dir" would be a network-path reference: an open redirect
    # (CVE-2021-28861 in http.server). One leading slash keeps it on this host.
    target = b"/" + path.lstrip(b"/") + b"/"
    if query:
        target += b"?" + query
    target = _UNSAFE_LOCATION.sub(lambda m: b"%%%02X" % m[0][0], target)
    href = html.escape(target.decode("ascii"))
    return text_response(
        301, f'<!DOCTYPE html>\n<a href="{href}">Moved here</a>\n', [(b"Location", target)]
    )


def _error(status: int, extra: list[tuple[bytes, bytes]] | None = None) -> Response:
    return error_page(status, extra=extra)
