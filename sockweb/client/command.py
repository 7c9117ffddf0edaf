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
22 HTTP error with --fail, 23 cannot write output, 26 cannot read input,
28 timeout, 33 cannot resume (bad Content-Range), 35 TLS handshake failed,
47 too many redirects, 56 connection lost, 60 certificate not trusted,
61 bad content encoding, 63 --max-filesize exceeded, 77 --cacert unreadable,
130 interrupted
"""
# A request method is a token (RFC 9110 section 9.1, 5.6.2), and so is a field name.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _seconds(text: str) -> float:
    """A time option's value: a finite number of seconds, 0 or more (curl's rule)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    # Over ~3 years the socket module's timeout overflows; curl also caps it.
    if not 0 <= value <= 1e8:
        raise argparse.ArgumentTypeError(f"expected 0 to 100000000 seconds, got {text!r}")
    return value


def _count(text: str) -> int:
    """A byte count or a number: an integer, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def _redirects(text: str) -> int:
    """--max-redirs: a whole number, or -1 for no limit (curl's)."""
    return -1 if text == "-1" else _count(text)


def _offset(text: str) -> str:
    """-C: '-' (from the file's size) or a byte offset."""
    if text != "-":
        _count(text)
    return text


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
    p.add_argument("--max-redirs", type=_redirects, default=30, metavar="N",
                   help="follow at most N redirects (-1: no limit)")
    p.add_argument("-I", "--head", action="store_true", help="HEAD request, show the headers")
    p.add_argument("-i", "--include", action="store_true", help="headers in the output too")
    p.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE")
    p.add_argument("-O", "--remote-name", action="store_true",
                   help="write the body to a file named like the URL's last segment")
    p.add_argument("-C", "--continue-at", metavar="-", type=_offset,
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
    p.add_argument("-m", "--max-time", type=_seconds, metavar="SECONDS",
                   help="give up on the whole transfer after this long (0: no limit)")
    p.add_argument("--connect-timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="give up on connecting after this long (0: the default, 10)")
    p.add_argument("-f", "--fail", action="store_true", help="exit 22 on a 4xx/5xx status")
    p.add_argument("-k", "--insecure", action="store_true",
                   help="do not verify the TLS certificate")
    p.add_argument("--cacert", metavar="FILE", help="trust the CA certificates in FILE")
    p.add_argument("--max-filesize", type=_count, metavar="BYTES",
                   help="refuse a body larger than this")
    p.add_argument("-s", "--silent", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..http.errors import ProtocolError, SockwebError

    # -m caps the whole transfer, as curl's does: a server that sends a byte
    # now and then defeats a per-read timeout. A process of its own (cli.main
    # with no argv) is timed by the kernel; a program that calls main([...])
    # keeps its signals, and gets the per-read and per-piece checks only.
    disarm = _arm_max_time(args.max_time) \
        if args.max_time and getattr(args, "own_process", False) else _nothing
    try:
        try:
            return _run(args, disarm)
        finally:
            disarm()
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


def _nothing() -> None:
    pass


def _arm_max_time(seconds: float) -> Callable[[], None]:
    """SIGALRM after ``seconds`` raises Timeout wherever the transfer is
    (a system call interrupted by it fails with the handler's exception);
    then again every 50 ms, should a clean-up path swallow one. Returns
    what stops it for good: called once the body is in, and again (a no-op
    then) on the way out, whatever happened."""
    import _signal  # type: ignore[import-not-found]  # signal's C core, without its enums

    from .errors import Timeout  # imported now: the handler may interrupt an import

    over = False

    def expire(signum: int, frame: object) -> None:
        if not over:
            raise Timeout(f"operation timed out after {seconds:g} s (--max-time)")

    previous = _signal.signal(_signal.SIGALRM, expire)
    _signal.setitimer(_signal.ITIMER_REAL, seconds, 0.05)

    def disarm() -> None:
        nonlocal over
        # A late alarm may land in here before `over` is set: then the
        # Timeout it raises is caught, and the timer stopped all the same.
        while True:
            try:
                over = True
                _signal.setitimer(_signal.ITIMER_REAL, 0)
                _signal.signal(_signal.SIGALRM, previous)
                return
            except Timeout:
                continue

    return disarm


def _read_error(path: str, exc: OSError) -> Exception:
    """A local file named by an option could not be read: curl's exit 26."""
    from ..http.errors import SockwebError

    error = SockwebError(f"cannot read {path}: {exc.strerror or exc}")
    error.exit_code = 26  # type: ignore[attr-defined]
    return error


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise _read_error(path, exc) from exc


def _arg_bytes(value: str) -> bytes:
    """An argument's bytes as they were typed (argv is decoded with
    surrogateescape, so even bytes that are not UTF-8 come back)."""
    return os.fsencode(value)


def _read_arg(value: str) -> bytes:
    if value.startswith("@"):
        path = value[1:]
        if path == "-":
            return sys.stdin.buffer.read()
        return _read_file(path)
    return _arg_bytes(value)


def _field(name: str, value: str, what: str) -> tuple[str, str]:
    """A header field from the command line, checked as a request's own would be
    (RFC 9110 section 5.1, 5.5): a token for the name; no CR, LF or NUL in the
    value, which would end the field and start another. The value's bytes go
    out as typed (curl's way): UTF-8 from a UTF-8 terminal, not Latin-1."""
    if not name or not set(name) <= _TCHAR:
        raise _usage(f"bad {what} name {name!r}: "
                     "a field name is letters, digits and !#$%&'*+-.^_`|~")
    raw = _arg_bytes(value)
    if b"\r" in raw or b"\n" in raw or b"\0" in raw:
        raise _usage(f"bad {what} {name!r}: CR, LF and NUL cannot be in a field value")
    return name, raw.decode("latin-1")


def _run(args: argparse.Namespace, disarm: Callable[[], None] = _nothing) -> int:
    from ..http.urls import URL
    from .api import Client
    from .cookies import CookieJar
    from .errors import HTTPStatusError

    url = URL.parse(args.url, default_scheme="http")
    if args.request is not None and (not args.request or not set(args.request) <= _TCHAR):
        raise _usage(f"bad method {args.request!r}: a method is a token, such as GET or PURGE")
    method = args.request or ("HEAD" if args.head else None)
    headers: list[tuple[str, str]] = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise _usage(f"bad header {item!r}: use 'Name: value'")
        headers.append(_field(name.strip(), value.strip(), "header"))
    own = {name.lower() for name, _ in headers}
    kw: dict[str, Any] = {"headers": headers}
    if args.data or args.data_binary:
        # curl -d @file drops CR and LF (a file saved with a final newline
        # still makes a clean form); --data-binary keeps every byte.
        parts = [_read_arg(d).replace(b"\r", b"").replace(b"\n", b"") if d.startswith("@")
                 else _read_arg(d) for d in args.data or ()]
        parts += [_read_arg(d) for d in args.data_binary or ()]
        kw["content"] = b"&".join(parts)
        if "content-type" not in own:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        method = method or "POST"
    if args.json is not None:
        kw["content"] = _read_arg(args.json)
        # curl --json: the user's own Content-Type or Accept wins
        # (application/vnd.api+json, application/problem+json...).
        if "content-type" not in own:
            headers.append(("Content-Type", "application/json"))
        if "accept" not in own:
            headers.append(("Accept", "application/json"))
        method = method or "POST"
    if args.form:
        # In the order given, a name as often as given (RFC 7578 section 4.3:
        # several files under one name), as curl sends them.
        form: list[tuple[str, str | tuple[str, bytes, str]]] = []
        for item in args.form:
            name, sep, value = item.partition("=")
            if not sep:
                raise _usage(f"bad form field {item!r}: use NAME=VALUE or NAME=@FILE")
            if value.startswith("@"):
                path, _, ctype = value[1:].partition(";type=")
                form.append((name, (os.path.basename(path), _read_file(path),
                                    ctype or "application/octet-stream")))
            else:
                form.append((name, value))
        from .bodies import encode_form_data

        kw["content"], ctype_bytes = encode_form_data(form)
        if "content-type" not in own:
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
    if args.cookie_jar and os.path.isfile(args.cookie_jar):  # not /dev/null, not a FIFO
        jar.load(args.cookie_jar, missing_ok=True)
    if args.cookie:
        if "=" in args.cookie:
            headers.append(_field("Cookie", args.cookie, "cookie"))
        else:
            # A file that is not there yet is no cookies, as with curl: the
            # habit `-b jar.txt -c jar.txt` starts from a jar that does not exist.
            try:
                jar.load(args.cookie, missing_ok=True)
            except OSError as exc:
                raise _read_error(args.cookie, exc) from exc

    out = sys.stdout.buffer
    tty = sys.stdout.isatty() and output_path is None
    trace = _Trace(sys.stderr if args.verbose else None, out if args.raw else None) \
        if args.verbose or args.raw else None
    deadline = time.monotonic() + args.max_time if args.max_time else None
    read_timeout = args.max_time or 60.0
    connect_timeout = args.connect_timeout or 10.0  # 0 is the default, as with curl
    client = Client(
        follow_redirects=args.location,
        max_redirects=sys.maxsize if args.max_redirs < 0 else args.max_redirs,
        timeout=(min(connect_timeout, args.max_time or connect_timeout), read_timeout),
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
            # The body is in: what is left (closing, saving the jar) is not the
            # transfer, and must not turn a finished one into a timeout.
            disarm()
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
                # A 1xx is followed by the final response's head, in this
                # read or a later one; after a 101 the bytes are another protocol's.
                self._head = rest
                self._in_head = head[9:10] == b"1" and head[9:12] != b"101"
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
    if append:
        _check_resumed_range(response.headers.get("content-range"), resume_from)
    # -i and -I with -o: the head goes into the file too (curl's way).
    head = _head_text(response, color=False).encode() if args.include or args.head else b""
    if args.head or response.request.method == "HEAD":
        with open(path, "ab" if resume_from else "wb") as f:  # -I -C -: never the partial file
            f.write(head)
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
            if head:
                f.write(head)
            _write_body(response, f, on_progress)
    except IncompleteBody as exc:
        if progress:
            progress.done()
        cut = IncompleteBody(
            f"transfer cut short after {written} bytes"
            + (f" of {expected}" if expected else "")
            + f" ({exc}); resume with: sockweb get -C - -o {path} URL",
            written, expected)
        cut.exit_code = exc.exit_code  # 18 for an early end, 56 for a reset
        raise cut from exc
    if progress:
        progress.done()


def _check_resumed_range(content_range: str | None, resume_from: int) -> None:
    """A 206 answering ``Range: bytes=N-`` must start at N (RFC 9110 section
    14.4): the part goes where its Content-Range says, and appending any other
    part would corrupt the file. curl refuses such an answer with exit 33."""
    import re

    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", content_range or "")
    if match is None or int(match.group(1)) != resume_from:
        from ..http.errors import SockwebError

        error = SockwebError(
            f"cannot resume at byte {resume_from}: the server's 206 has Content-Range "
            f"{content_range!r}; the file was left as it was")
        error.exit_code = 33  # type: ignore[attr-defined]
        raise error


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

