"""``sockweb serve | get | browse``: each subcommand imports its half lazily.

Only argparse is imported up front, and its help formatter is told the
terminal's width so that it never imports shutil (and with it zlib, bz2 and
lzma) for every option added: `sockweb get` starts in about the time Python
itself takes (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_width: int | None = None


def _columns() -> int:
    """shutil.get_terminal_size().columns, as argparse asks it, asked once."""
    global _width
    if _width is None:
        try:
            _width = int(os.environ.get("COLUMNS", ""))
        except ValueError:
            _width = 0
        if _width <= 0:
            try:
                _width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                _width = 0
        _width = _width or 80
    return _width


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width if width is not None else _columns() - 2)


class _RawFormatter(argparse.RawDescriptionHelpFormatter, _Formatter):
    pass


def _serve(args: argparse.Namespace) -> int:
    import logging

    from .server.config import from_args
    from .server.listener import StartupError, run

    config = from_args(args)
    logging.basicConfig(
        stream=sys.stderr,
        format="sockweb: %(message)s",
        level=logging.INFO if config.verbose else logging.WARNING,
    )
    try:
        return run(config)
    except StartupError as exc:
        print(f"sockweb: {exc}", file=sys.stderr)
        return 2


COMMANDS = {
    "serve": "serve a directory (or Hello World) over HTTP/1.1",
    "get": "fetch a URL, like curl and HTTPie",
    "browse": "browse a URL in the terminal, or --dump it as text like lynx",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own options are built (and imported).

    ``sockweb get`` never imports the server's config, and ``sockweb serve``
    never imports the client: each subcommand's module loads only when used.
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sockweb",
        description="An HTTP server, client and terminal browser you can read byte by byte.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"sockweb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, summary in COMMANDS.items():
        if command not in (None, name):
            sub.add_parser(name, help=summary, formatter_class=_Formatter)
        else:
            _command_parser(name, sub.add_parser, help=summary)
    return parser


def _command_parser(name: str, make: Callable[..., argparse.ArgumentParser],
                    **kw: Any) -> argparse.ArgumentParser:
    """``name``'s parser, made by ``make`` (add_parser, or ArgumentParser itself)."""
    if name == "serve":
        serve = make(
            "serve" if make is not argparse.ArgumentParser else "sockweb serve",
            description="Serve DIR over HTTP/1.1 at http://localhost:9000 until Ctrl-C.",
            formatter_class=_Formatter, **kw)
        from .server.config import add_arguments

        add_arguments(serve)
        serve.set_defaults(func=_serve)
        return serve
    if name == "browse":
        from .browser import command as browse_command

        browse = make(
            "browse" if make is not argparse.ArgumentParser else "sockweb browse",
            description=browse_command.DESCRIPTION, epilog=browse_command.EPILOG,
            formatter_class=_RawFormatter, **kw)
        browse_command.add_arguments(browse)
        browse.set_defaults(func=browse_command.run)
        return browse
    from .client import command as get_command

    get = make(
        "get" if make is not argparse.ArgumentParser else "sockweb get",
        description="Fetch URL over HTTP/1.1 and show it.", epilog=get_command.EXIT_CODES,
        formatter_class=_RawFormatter, **kw)
    get_command.add_arguments(get)
    get.set_defaults(func=get_command.run)
    return get


def _command_word(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """The ``sockweb`` command; ``argv`` None means this process's own arguments."""
    own_process = argv is None
    if argv is None:
        argv = sys.argv[1:]
    command = _command_word(argv)
    if own_process and command in ("get", "browse"):
        _untranslated_argparse()
    if argv and argv[0] in COMMANDS:
        # Only the command's own parser: what `sockweb get --help` and its
        # errors show is the same, and the start-up is ~1 ms shorter.
        args = _command_parser(argv[0], argparse.ArgumentParser).parse_args(argv[1:])
    else:
        args = build_parser(command).parse_args(argv)
    args.own_process = own_process
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    if own_process and command == "get":
        _exit_now(code)
    return code


def _same(message: str) -> str:
    return message


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _untranslated_argparse() -> None:
    """argparse's own strings as they are, without asking gettext for each.

    gettext looks for a message catalog at every call (the environment's
    languages, each normalized) and imports ``locale`` at the first: 1.2-1.5
    ms of every `sockweb get` here, a twentieth of its start-up. None is
    found: Python ships no catalog for argparse's strings, and sockweb's are
    English. Done only in a `get` or `browse` process of its own (main() with
    no argv), which nothing else shares; `serve` may host an app's argparse.
    """
    argparse._ = _same  # type: ignore[attr-defined]
    argparse.ngettext = _plural  # type: ignore[attr-defined]


def _exit_now(code: int) -> None:
    """End a ``sockweb get`` process without tearing the interpreter down.

    By now every file it wrote is closed and its sockets too; what is left
    is the interpreter freeing ~200 modules one object at a time, which costs
    more than the whole GET (3 ms here). It registers no atexit handlers, so
    flushing the standard streams is all an orderly exit would still do.
    """
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `sockweb get URL | head`: the reader left first
        pass
    except OSError:
        code = code or 23  # curl's "write error"
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
