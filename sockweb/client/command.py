"""``sockweb get URL``: curl's and HTTPie's habits over sockweb.client.

To a terminal: the status line, the headers and the body, highlighted. To a
pipe or a file: the body alone, byte for byte. ``--raw`` prints the bytes as
they came off the socket, as the seed's browser did; ``--http1.0 --raw``
sends the seed's very request.

Every failure is one line on stderr and curl's exit code for it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

EXIT_CODES = """\
exit codes (curl's): 0 ok, 2 bad usage, 3 malformed URL, 5 proxy failed,
6 host not found, 7 connection failed, 8 malformed response, 18 body cut short,
22 HTTP error with --fail, 23 cannot write output, 28 timeout, 35 TLS handshake
failed, 47 too many redirects, 56 connection lost, 60 certificate not trusted,
61 bad content encoding, 63 --max-filesize exceeded, 77 --cacert unreadable,
130 interrupted
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="http:// or https:// URL (the scheme may be left out)")
    p.add_argument("-X", "--request", metavar="METHOD", help="request method")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                   help="extra header; 'NAME:' removes a default one")
    p.add_argument("-d", "--data", action="append", metavar="DATA",
                   help="request body (POST); @FILE reads a file; repeated ones join with &")
    p.add_argument("--data-binary", action="append", metavar="DATA",
                   help="like -d, but @FILE is sent byte for byte")
    p.add_argument("--json", metavar="JSON", help="JSON request body (POST), @FILE reads one")
    p.add_argument("-F", "--form", action="append", metavar="NAME=VALUE",
                   help="multipart form field; NAME=@FILE uploads a file")
    p.add_argument("-L", "--location", action="store_true", help="follow redirects")
    p.add_argument("--max-redirs", type=int, default=30, metavar="N")
    p.add_argument("-I", "--head", action="store_true", help="HEAD request, show the headers")
    p.add_argument("-i", "--include", action="store_true", help="headers in the output too")
    p.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE")
    p.add_argument("-O", "--remote-name", action="store_true",
                   help="write the body to a file named like the URL's last segment")
    p.add_argument("-C", "--continue-at", metavar="-",
                   help="'-' resumes an interrupted -o download with a Range request")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show the request and response heads as sent and received")
    p.add_argument("--raw", action="store_true",
                   help="print the bytes exactly as received, head and body")
    p.add_argument("--http1.0", dest="http10", action="store_true",
                   help="send the seed's request: HTTP/1.0, absolute-form, no headers")
    p.add_argument("-u", "--user", metavar="USER:PASS", help="basic auth")
    p.add_argument("-b", "--cookie", metavar="DATA|FILE",
                   help="cookies to send: 'a=1; b=2' or a cookie file")
    p.add_argument("-c", "--cookie-jar", metavar="FILE",
                   help="save the cookies to FILE afterwards (curl's format)")
    p.add_argument("-m", "--max-time", type=float, metavar="SECONDS",
                   help="give up on the transfer after this long")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("-f", "--fail", action="store_true", help="exit 22 on a 4xx/5xx status")
    p.add_argument("-k", "--insecure", action="store_true",
                   help="do not verify the TLS certificate")
    p.add_argument("--cacert", metavar="FILE", help="trust the CA certificates in FILE")
    p.add_argument("--max-filesize", type=int, metavar="BYTES",
                   help="refuse a body larger than this")
    p.add_argument("-s", "--silent", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..http.errors import ProtocolError, SockwebError

    try:
        return _run(args)
    except KeyboardInterrupt:
        print("sockweb: interrupted", file=sys.stderr)
        return 130
    except ProtocolError as exc:
        from .errors import malformed

        _fail(malformed(exc))
        return 8
    except SockwebError as exc:
        _fail(str(exc))
        from .errors import exit_code

        return exit_code(exc)
    except BrokenPipeError:
        # `sockweb get URL | head`: the reader left; that is not an error.
        # Point stdout at /dev/null so the flush at exit does not complain.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except OSError as exc:
        _fail(f"cannot write output: {exc.strerror or exc}")
        return 23


def _fail(message: str) -> None:
    print(f"sockweb: {message}", file=sys.stderr)


def _read_arg(value: str) -> bytes:
    if value.startswith("@"):
        path = value[1:]
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            return f.read()
    return value.encode()


def _run(args: argparse.Namespace) -> int:
    from ..http.urls import URL
    from .api import Client
    from .cookies import CookieJar
    from .errors import HTTPStatusError

    url = URL.parse(args.url, default_scheme="http")
    method = args.request or ("HEAD" if args.head else None)
    headers: list[tuple[str, str]] = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise _usage(f"bad header {item!r}: use 'Name: value'")
        headers.append((name.strip(), value.strip()))
    kw: dict[str, Any] = {"headers": headers}
    if args.data or args.data_binary:
        # curl -d @file drops CR and LF (a file saved with a final newline
        # still makes a clean form); --data-binary keeps every byte.
        parts = [_read_arg(d).replace(b"\r", b"").replace(b"\n", b"") if d.startswith("@")
                 else _read_arg(d) for d in args.data or ()]
        parts += [_read_arg(d) for d in args.data_binary or ()]
        kw["content"] = b"&".join(parts)
        if not any(n.lower() == "content-type" for n, _ in headers):
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        method = method or "POST"
    if args.json is not None:
        kw["content"] = _read_arg(args.json)
        headers.append(("Content-Type", "application/json"))
        headers.append(("Accept", "application/json"))
        method = method or "POST"
    if args.form:
        fields, files = [], {}
        for item in args.form:
            name, sep, value = item.partition("=")
            if not sep:
                raise _usage(f"bad form field {item!r}: use NAME=VALUE or NAME=@FILE")
            if value.startswith("@"):
                path, _, ctype = value[1:].partition(";type=")
                with open(path, "rb") as f:
                    files[name] = (os.path.basename(path), f.read(),
                                   ctype or "application/octet-stream")
            else:
                fields.append((name, value))
        from .bodies import encode_multipart

        kw["content"], ctype_bytes = encode_multipart(fields, files)
        headers.append(("Content-Type", ctype_bytes.decode()))
        method = method or "POST"
    method = method or "GET"
    if args.user:
        user, _, password = args.user.partition(":")
        kw["auth"] = (user, password)

    output_path = args.output
    if args.remote_name:
        output_path = remote_name(url.path)
    resume_from = 0
    if args.continue_at is not None:
        if args.continue_at != "-":
            resume_from = int(args.continue_at)
        elif output_path and os.path.exists(output_path):
            resume_from = os.path.getsize(output_path)
        if resume_from:
            headers.append(("Range", f"bytes={resume_from}-"))

    jar = CookieJar()
    if args.cookie_jar and os.path.exists(args.cookie_jar):
        jar.load(args.cookie_jar, missing_ok=True)
    if args.cookie:
        if "=" in args.cookie:
            headers.append(("Cookie", args.cookie))
        else:
            jar.load(args.cookie, missing_ok=False)

    out = sys.stdout.buffer
    tty = sys.stdout.isatty() and output_path is None
    trace = _Trace(sys.stderr if args.verbose else None, out if args.raw else None) \
        if args.verbose or args.raw else None
    deadline = time.monotonic() + args.max_time if args.max_time else None
    read_timeout = args.max_time or 60.0
    client = Client(
        follow_redirects=args.location, max_redirects=args.max_redirs,
        timeout=(min(args.connect_timeout, args.max_time or args.connect_timeout), read_timeout),
        verify=not args.insecure, cacert=args.cacert, cookies=jar,
        http_version="1.0" if args.http10 else "1.1",
        max_content_size=args.max_filesize, trace=trace,
    )
    with client:
        response = client.request(method, url, stream=True, **kw)
        with response:
            if args.fail and response.status >= 400:
                # curl -f: nothing of an error page reaches the output.
                raise HTTPStatusError(
                    f"the server answered {response.status} {response.reason}", response.status)
            if args.max_filesize is not None:
                length = response.headers.get("content-length")
                if length and length.isdigit() and int(length) > args.max_filesize:
                    from .decoding import BodyTooLarge

                    raise BodyTooLarge(f"body of {length} bytes is over --max-filesize")
            if args.raw:
                for _ in response.iter_raw():
                    _check_deadline(deadline)
            elif output_path is not None:
                _save(response, output_path, resume_from, args, deadline)
            else:
                _show(response, out, tty, args, deadline)
        if args.cookie_jar:
            jar.save(args.cookie_jar)
    return 0


def _usage(message: str) -> Exception:
    from ..http.errors import SockwebError

    error = SockwebError(message)
    error.exit_code = 2  # type: ignore[attr-defined]
    return error


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        from .errors import Timeout

        raise Timeout("operation timed out (--max-time)")


class _Trace:
    """Shows the heads for -v (as sent and received) and the raw bytes for --raw."""

    def __init__(self, verbose: IO[str] | None, raw: IO[bytes] | None) -> None:
        self.verbose = verbose
        self.raw = raw
        self._head = b""
        self._in_head = False

    def __call__(self, direction: str, data: bytes) -> None:
        if self.raw is not None and direction == "recv":
            self.raw.write(data)
            self.raw.flush()
        if self.verbose is None:
            return
        if direction == "send":
            if data.startswith((b" ", b"\r\n")) or b"\r\n\r\n" not in data[:65536]:
                return  # body bytes
            head = data.split(b"\r\n\r\n", 1)[0]
            self._print(head, "> ")
            self._in_head = True
            self._head = b""
        elif self._in_head:
            self._head += data
            while self._in_head and b"\r\n\r\n" in self._head:
                head, _, rest = self._head.partition(b"\r\n\r\n")
                self._print(head, "< ")
                # A 1xx is followed by the final response's head.
                self._head = rest
                self._in_head = head[9:10] == b"1" and rest != b""
            if len(self._head) > 1 << 20:
                self._in_head = False

    def _print(self, head: bytes, prefix: str) -> None:
        assert self.verbose is not None
        for line in head.decode("latin-1").split("\r\n"):
            self.verbose.write(f"{prefix}{line}\n")
        self.verbose.write(f"{prefix.strip()}\n")
        self.verbose.flush()


def _head_text(response: Any, color: bool) -> str:
    status = f"{response.http_version} {response.status} {response.reason}"
    lines = []
    if color:
        tone = "32" if response.status < 300 else "33" if response.status < 400 else "31"
        lines.append(f"\x1b[1;34m{response.http_version}\x1b[0m "
                     f"\x1b[1;{tone}m{response.status} {response.reason}\x1b[0m")
        lines += [f"\x1b[36m{n}\x1b[0m: {v}" for n, v in response.headers.items()]
    else:
        lines.append(status)
        lines += [f"{n}: {v}" for n, v in response.headers.items()]
    return "\n".join(lines) + "\n\n"


def _is_binary(content_type: str | None, sample: bytes) -> bool:
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.startswith("text/") or ctype.endswith(("+json", "+xml", "/json", "/xml",
                                                    "/javascript", "/x-www-form-urlencoded")):
        return False
    return b"\x00" in sample[:8192] or (bool(ctype) and not ctype.startswith("text/"))


def _show(response: Any, out: IO[bytes], tty: bool, args: argparse.Namespace,
          deadline: float | None) -> None:
    if tty or args.include or args.head:
        out.write(_head_text(response, color=tty).encode())
        out.flush()
    if args.head or response.request.method == "HEAD":
        return
    if not tty:
        _write_body(response, out, lambda _: _check_deadline(deadline))
        return
    chunks = response.iter_bytes()
    first = next(chunks, b"")
    if _is_binary(response.headers.get("content-type"), first):
        size = response.headers.get("content-length") or "unknown size"
        response.close()
        ctype = response.headers.get("content-type") or "no content type"
        _fail(f"binary body ({ctype}, {size} bytes) not shown on a terminal; "
              f"save it with -o FILE, or pipe it: sockweb get URL > FILE")
        return
    out.write(first)
    for chunk in chunks:
        _check_deadline(deadline)
        out.write(chunk)
    if first:
        out.write(b"\n")
    out.flush()


def _save(response: Any, path: str, resume_from: int, args: argparse.Namespace,
          deadline: float | None) -> None:
    from .errors import IncompleteBody

    append = bool(resume_from) and response.status == 206
    if resume_from and response.status == 416:
        print(f"sockweb: {path} is already complete", file=sys.stderr)
        return
    total = response.headers.get("content-length")
    expected = int(total) + (resume_from if append else 0) if total and total.isdigit() \
        else None
    show = sys.stderr.isatty() and not args.silent
    progress = _Progress(expected, resume_from if append else 0) if show else None
    start = resume_from if append else 0
    written = start

    def on_progress(done: int) -> None:
        nonlocal written
        written = start + done
        _check_deadline(deadline)
        if progress:
            progress.update(written)

    try:
        with open(path, "ab" if append else "wb") as f:
            _write_body(response, f, on_progress)
    except IncompleteBody as exc:
        if progress:
            progress.done()
        raise IncompleteBody(
            f"transfer cut short after {written} bytes"
            + (f" of {expected}" if expected else "")
            + f" ({exc}); resume with: sockweb get -C - -o {path} URL",
            written, expected) from exc
    if progress:
        progress.done()


def _write_body(response: Any, out: IO[bytes], on_progress: Callable[[int], None]) -> None:
    """The body to ``out``: through its file descriptor (Response.write_to,
    zero-copy where the system allows) unless it has none."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        written = 0
        for chunk in response.iter_bytes():
            out.write(chunk)
            written += len(chunk)
            on_progress(written)
        out.flush()
        return
    out.flush()
    response.write_to(fd, on_progress)


class _Progress:
    """Bytes, rate and time left, redrawn at most ten times a second on stderr."""

    def __init__(self, total: int | None, start: int, write: Callable[[str], Any] | None = None):
        self.total = total
        self.start = start
        self.began = time.monotonic()
        self.last = 0.0
        self.write = write or sys.stderr.write

    def update(self, done: int, final: bool = False) -> None:
        self.done_bytes = done
        now = time.monotonic()
        if not final and now - self.last < 0.1:
            return
        self.last = now
        elapsed = max(now - self.began, 1e-6)
        rate = (done - self.start) / elapsed
        text = f"{_size(done)}"
        if self.total:
            pct = min(100.0, done * 100 / self.total)
            width = 24
            filled = int(width * pct / 100)
            left = (self.total - done) / rate if rate > 0 else 0
            text = (f"[{'#' * filled}{'.' * (width - filled)}] {pct:5.1f}% {_size(done)}"
                    f" of {_size(self.total)}  {_size(int(rate))}/s  {left:4.0f}s left")
        else:
            text += f"  {_size(int(rate))}/s"
        self.write(f"\r{text}\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        self.update(getattr(self, "done_bytes", self.start), final=True)
        self.write("\n")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def remote_name(path: str) -> str:
    """-O's file name: the URL path's last segment, percent-decoded, and never a path.

    Decoding may bring back a "/" (``..%2F..%2Fetc%2Fpasswd``): only what follows
    the last one is kept, so the file lands in the current directory whatever the
    server's URL says; ".", ".." and nothing become index.html, as an empty name does.
    """
    from urllib.parse import unquote

    name = unquote(path.rstrip("/").rpartition("/")[2]).replace("\0", "")
    name = name.rpartition("/")[2]
    return "index.html" if name in ("", ".", "..") else name

