"""One frozen ServerConfig; the ``sockweb serve`` flags are generated from it.

Each setting is written once, here, with its default, its help text and
(where it matters) the precedent for the default. ``add_arguments`` and
``from_args`` read the field metadata, so the CLI cannot drift from the API.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from ..http.limits import DEFAULT_LIMITS, Limits


def _opt(help: str, *flags: str, **extra: Any) -> Any:
    return {"help": help, "flags": flags, **extra}


@dataclass(frozen=True)
class ServerConfig:
    directory: str = field(default=".", metadata=_opt("directory to serve (default: .)"))
    host: str = field(default="localhost", metadata=_opt("address to bind", "--host"))
    port: int = field(
        default=9000, metadata=_opt("port to bind; 0 picks a free one", "--port", "-p"))
    hello: bool = field(
        default=False, metadata=_opt("answer every request with the seed's Hello World page",
                                     "--hello"))
    access_log: bool = field(
        default=True, metadata=_opt("print one Common Log Format line per request",
                                    "--access-log", negate="--no-access-log"))
    verbose: bool = field(
        default=False, metadata=_opt("also print each request's head as received", "-v",
                                     "--verbose"))
    dotfiles: bool = field(default=False, metadata=_opt("serve files whose names start with '.'",
                                                        "--dotfiles"))
    graceful_timeout: float = field(
        default=5.0, metadata=_opt("seconds to let responses in flight finish on shutdown",
                                   "--graceful-timeout"))
    # nginx client_header_timeout 60s.
    timeout_headers: float = field(
        default=60.0, metadata=_opt("seconds a client has to send a request head (then 408)",
                                    "--timeout-headers"))
    # nginx keepalive_timeout 75s.
    timeout_keep_alive: float = field(
        default=75.0, metadata=_opt("seconds an idle keep-alive connection stays open",
                                    "--timeout-keep-alive"))
    # nginx client_body_timeout and send_timeout, 60s each: time between two reads
    # of a body, or between two writes of a response that the client does not take.
    timeout_io: float = field(
        default=60.0, metadata=_opt("seconds without progress reading a body or sending a "
                                    "response before the connection is dropped", "--timeout-io"))
    # nginx worker_connections 512 per worker; one process here, so twice that.
    limit_concurrency: int = field(
        default=1024, metadata=_opt("most open connections; more get a 503",
                                    "--limit-concurrency"))
    backlog: int = field(
        default=2048, metadata=_opt("connections the kernel queues before they are accepted "
                                    "(capped by net.core.somaxconn)", "--backlog"))
    # -- apps (WSGI / ASGI) ---------------------------------------------------
    app: str | None = field(
        default=None, metadata=_opt("serve a WSGI or ASGI app, 'module:attribute'", "--app"))
    factory: bool = field(
        default=False, metadata=_opt("--app names a factory to call for the app", "--factory"))
    app_dir: str = field(
        default=".", metadata=_opt("directory to import the app from", "--app-dir"))
    interface: str = field(
        default="auto", metadata=_opt("the app's interface", "--interface",
                                      choices=("auto", "asgi", "wsgi")))
    static: tuple[str, ...] = field(
        default=(), metadata=_opt("also serve files: PREFIX=DIR, e.g. /static=./public "
                                  "(repeatable)", "--static", append=True))
    lifespan: str = field(
        default="auto", metadata=_opt("ASGI lifespan events", "--lifespan",
                                      choices=("auto", "on", "off")))
    # waitress's default is 4 threads; gunicorn's gthread worker 1. A WSGI app
    # that blocks on a database wants a few.
    threads: int = field(
        default=8, metadata=_opt("threads running a WSGI app", "--threads"))
    root_path: str = field(
        default="", metadata=_opt("the app's mount path behind a proxy (ASGI root_path, "
                                  "WSGI SCRIPT_NAME)", "--root-path"))
    # -- where to listen, TLS -------------------------------------------------
    uds: str | None = field(
        default=None, metadata=_opt("listen on this Unix socket instead of --host/--port",
                                    "--uds", metavar="PATH"))
    fd: int | None = field(
        default=None, metadata=_opt("listen on this inherited socket descriptor (from a "
                                    "supervisor); systemd's LISTEN_FDS are found without it",
                                    "--fd", metavar="N"))
    certfile: str | None = field(
        default=None, metadata=_opt("serve HTTPS with this PEM certificate chain", "--certfile",
                                    metavar="PEM"))
    keyfile: str | None = field(
        default=None, metadata=_opt("its unencrypted private key (if not in the certfile)",
                                    "--keyfile", metavar="PEM"))
    # -- processes --------------------------------------------------------------
    # 1 keeps today's single process. gunicorn suggests 2 x cores + 1 for sync
    # workers; an event-loop worker keeps a core busy on its own, so about one a core.
    workers: int = field(
        default=1, metadata=_opt("processes serving the same socket, under a supervisor that "
                                 "restarts them (SIGHUP replaces them)", "--workers", "-w",
                                 metavar="N"))
    reload: bool = field(
        default=False, metadata=_opt("restart when a .py file under --app-dir changes "
                                     "(development)", "--reload"))
    # -- behind a proxy -----------------------------------------------------------
    proxy_headers: bool = field(
        default=False, metadata=_opt("take the client address and scheme from Forwarded / "
                                     "X-Forwarded-For / X-Forwarded-Proto sent by a trusted "
                                     "proxy", "--proxy-headers"))
    # uvicorn's and gunicorn's default: only a proxy on this machine is believed.
    forwarded_allow_ips: str = field(
        default="127.0.0.1", metadata=_opt("proxies whose forwarding headers are believed: "
                                           "IPs and CIDRs, comma-separated; 'unix:' for Unix "
                                           "socket peers; '*' for all",
                                           "--forwarded-allow-ips", metavar="LIST"))
    limits: Limits = field(default=DEFAULT_LIMITS, metadata={"group": True})
    # Files above this size go out with sendfile; smaller ones are read in one go.
    small_file_limit: int = field(default=64 * 1024, metadata={})

    @property
    def display_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


_LIMIT_FLAGS = {
    "max_request_line": ("--limit-request-line", "bytes in a request line (then 414)"),
    "max_field_size": ("--limit-field-size", "bytes in one header field (then 431)"),
    "max_header_size": ("--limit-header-size", "bytes in the whole header block (then 431)"),
    "max_header_count": ("--limit-header-count", "header fields in a request (then 431)"),
    "max_body_size": ("--limit-body", "bytes in a request body (then 413)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for f in fields(ServerConfig):
        meta = f.metadata
        if meta.get("group"):
            for lf in fields(Limits):
                flag, help_text = _LIMIT_FLAGS[lf.name]
                parser.add_argument(flag, dest=lf.name, type=int, default=lf.default,
                                    metavar="N", help=f"{help_text} (default: {lf.default})")
            continue
        if "help" not in meta:
            continue
        default = f.default if f.default is not MISSING else None
        if not meta["flags"]:
            parser.add_argument(f.name, nargs="?", default=default, help=meta["help"])
        elif f.type in (bool, "bool"):
            if meta.get("negate"):
                parser.add_argument(*meta["flags"], dest=f.name, action="store_true",
                                    default=default, help=argparse.SUPPRESS)
                parser.add_argument(meta["negate"], dest=f.name, action="store_false",
                                    help=f"do not {meta['help']}")
            else:
                parser.add_argument(*meta["flags"], dest=f.name, action="store_true",
                                    default=default, help=meta["help"])
        elif meta.get("append"):
            parser.add_argument(*meta["flags"], dest=f.name, action="append", default=[],
                                metavar="PREFIX=DIR", help=meta["help"])
        else:
            # Optional settings (``int | None``) take the type of what they hold.
            kind = {"int": int, "float": float}.get(str(f.type).removesuffix(" | None"), str)
            extra = {key: meta[key] for key in ("choices", "metavar") if key in meta}
            shown = "" if default is None else f" (default: {default})"
            parser.add_argument(*meta["flags"], dest=f.name, type=kind, default=default,
                                help=f"{meta['help']}{shown}", **extra)


def from_args(args: argparse.Namespace) -> ServerConfig:
    limits = Limits(**{lf.name: getattr(args, lf.name) for lf in fields(Limits)})
    values = {
        f.name: getattr(args, f.name)
        for f in fields(ServerConfig)
        if f.name != "limits" and "help" in f.metadata
    }
    values["static"] = tuple(values.get("static") or ())
    return ServerConfig(limits=limits, **values)
