"""``sockweb browse URL``: the full-screen browser, or ``--dump`` its text as lynx does.

* ``--dump``: the rendered page on stdout, then its numbered references;
* ``--source``: the body as it was received (content coding undone), byte for byte;
* neither: the interactive browser (ui.py), imported only then.

A 404 or 500 page is still a page: it is printed and the exit status is 0,
as ``w3m -dump`` has it (``lynx -dump`` prints the page too, but exits 1,
as Lynx 2.9.0dev.12 does). A failure to get any page at all (no such host, a
refused connection, a missing file) is one line on stderr and the exit
code ``sockweb get`` gives it (curl's numbers).

What those lines quote from elsewhere (a server's Content-Type, a URL, an
error's message) is passed through :func:`_shown` first: a control character
there would act on the terminal, as it would in a page.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C core: `import signal` costs 0.3 ms
import argparse
import contextlib
import gc
import os
import sys

__all__ = ["add_arguments", "run"]

DESCRIPTION = "Browse URL in the terminal (a file path works too), or print it as text."
EPILOG = """\
exit codes (curl's, as sockweb get): 0 a page was shown (a 404 page too), 2 bad usage,
3 malformed URL, 6 host not found, 7 connection failed, 28 timeout, 35 TLS failed,
37 file not readable, 47 too many redirects, 60 certificate not trusted
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="http://, https://, file:// URL or a path to a local file")
    p.add_argument("--dump", action="store_true",
                   help="print the rendered page and its references, then exit")
    p.add_argument("--source", action="store_true",
                   help="print the HTML as received, then exit")
    p.add_argument("--width", type=int, metavar="N",
                   help="lay the page out N columns wide (default: the terminal's, or 80)")
    p.add_argument("-k", "--insecure", action="store_true",
                   help="do not verify the TLS certificate")
    p.add_argument("--cacert", metavar="FILE", help="trust the CA certificates in FILE")


def default_width() -> int:
    """The terminal's width (COLUMNS first, as shutil has it), 80 when there is none."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns or 80


def run(args: argparse.Namespace) -> int:
    if args.width is not None and args.width < 10:
        print("sockweb: --width must be at least 10", file=sys.stderr)
        return 2
    if not (args.dump or args.source):
        try:
            from . import ui
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.ui" and not (exc.name or "").startswith("textual"):
                raise
            print("sockweb: the interactive browser needs textual (pip install textual); "
                  "--dump works without it", file=sys.stderr)
            return 2
        code: int = ui.run(args.url, args)
        return code
    try:
        return _print(args)
    except KeyboardInterrupt:
        print("sockweb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `sockweb browse --dump URL | head`: the reader left, which is no error.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


def _shown(text: object) -> str:
    """``text`` for one line of a terminal: what str.isprintable() refuses (C0 and C1
    controls, DEL, bidi and other format characters, line breaks) escaped as repr()
    escapes it, so ``\\x9b31m`` from a server is printed as those six characters."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _whole_process() -> bool:
    """Whether this process is the sockweb command (not a program that called it)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return bool(spec.name == f"{__package__.rpartition('.')[0]}.__main__")
    return os.path.basename(sys.argv[0]) == "sockweb"


def _print(args: argparse.Namespace) -> int:
    # A short-lived process that makes a few hundred thousand objects and no
    # reference cycles: the cyclic collector would walk them again and again
    # for nothing (a quarter of the time on a large page). Refcounting frees.
    gc.disable()
    from ..client.errors import exit_code
    from ..http.errors import ProtocolError, SockwebError
    from .load import ACCEPT, Stylesheets, load, to_url

    client = None
    try:
        if not to_url(args.url).startswith("file:"):
            # One client for the page and its style sheets (made only for http:
            # `browse --dump file.html` imports no sockets).
            from ..client.api import Client

            client = Client(headers={"Accept": ACCEPT}, verify=not args.insecure,
                            cacert=args.cacert)
        got = load(args.url, client, verify=not args.insecure, cacert=args.cacert)
        if args.source:
            sys.stdout.buffer.write(got.body)
            sys.stdout.buffer.flush()
            return 0
        from .layout import render_rows

        width = args.width or default_width()
        ctype = got.content_type
        if ctype and not ctype.lower().startswith(("text/", "application/xhtml")) and \
                not ctype.lower().split(";")[0].endswith(("json", "xml", "javascript")):
            print(f"sockweb: {_shown(got.url)} is {_shown(ctype.split(';')[0])} "
                  f"({len(got.body)} bytes), not a page: use sockweb get -o FILE to save it",
                  file=sys.stderr)
            return 0
        sheets = Stylesheets(client, verify=not args.insecure, cacert=args.cacert)
        # Lexbor parses in C, where Python's Ctrl-C handler cannot run until it
        # returns, and its tree builder is quadratic in nesting depth: 150,000
        # nested <div>s (750 KB) take it about 20 s. So while the page is laid
        # out, Ctrl-C ends the process at once, as it ends lynx (exit 130 by the
        # signal). Only when this process is the command: a signal's
        # disposition is not a library's to change.
        killable = _whole_process()
        previous = _signal.signal(_signal.SIGINT, _signal.SIG_DFL) if killable else None
        try:
            page, texts = render_rows(got.body, got.url, width, content_type=ctype or None,
                                      fetch=sheets)
        finally:
            sheets.close()
            if killable:
                _signal.signal(_signal.SIGINT, previous)
    except ProtocolError as exc:
        from ..client.errors import malformed

        print(f"sockweb: {_shown(malformed(exc))}", file=sys.stderr)
        return 8
    except SockwebError as exc:
        print(f"sockweb: {_shown(exc)}", file=sys.stderr)
        return exit_code(exc)
    finally:
        if client is not None:
            client.close()
    from .paint import dump_pieces

    write = sys.stdout.write
    for piece in dump_pieces(page, texts):
        write(piece)
    sys.stdout.flush()
    if _whole_process():
        # The page is out. Freeing it object by object and then tearing the
        # interpreter down takes 15 to 20 ms on a large page (a fifth of a
        # dump of genindex-all.html); the kernel frees it all at once.
        sys.stderr.flush()
        os._exit(0)
    return 0
