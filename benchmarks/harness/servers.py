"""The servers under test: how each one is started for each kind of app.

Apps: ``hello`` (the fixed 37-byte page), ``static`` (files from the www
directory), ``asgi`` and ``wsgi`` (the same hello as an app in harness/apps.py).
Every server listens on 127.0.0.1 with an ephemeral port, runs one worker and
is pinned to the server core with taskset (its workers inherit the pinning).
"""

from __future__ import annotations

import http.client
import importlib.util
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .apps import HELLO
from .procs import SERVER_CORE, Proc, pinned

NOT_IN_SOCKWEB = "not implemented in sockweb yet"


@dataclass
class Env:
    """What the harness knows about this machine and run."""

    python: str  # the interpreter running the harness (the benchmark venv's, if set up)
    bench: Path  # benchmarks/
    tmp: Path  # scratch directory of this run
    www: Path  # the served files
    child_env: dict[str, str]  # environment of every child (PYTHONPATH for harness.apps)
    sockweb_serve_help: str = ""

    @property
    def sockweb_hosts_apps(self) -> bool:
        return "--app " in self.sockweb_serve_help or "--app\n" in self.sockweb_serve_help


@dataclass
class ServerSpec:
    name: str
    label: str
    argv: list[str] = field(default_factory=list)  # "{port}" is replaced by the port
    banner: bool = False  # the port is read from an "Access http://HOST:PORT" line
    stop_signal: int = signal.SIGTERM
    skip: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def command(self, port: int | str = "PORT") -> list[str]:
        return [a.replace("{port}", str(port)) for a in self.argv]


def _have_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _missing(*modules: str) -> str | None:
    gone = [m for m in modules if not _have_module(m)]
    return f"{', '.join(gone)} not installed (run benchmarks/run.py without --no-install)" \
        if gone else None


def server_spec(name: str, app: str, env: Env) -> ServerSpec:
    py, host = env.python, "127.0.0.1"
    if name == "sockweb":
        base = [py, "-m", "sockweb", "serve", "--host", host, "--port", "0", "--no-access-log"]
        spec = ServerSpec(name, "sockweb serve", banner=True, stop_signal=signal.SIGINT)
        if app == "hello":
            spec.argv, spec.label = [*base, "--hello"], "sockweb serve --hello"
        elif app == "static":
            spec.argv, spec.label = [*base, str(env.www)], "sockweb serve DIR"
        elif not env.sockweb_hosts_apps:
            spec.skip = NOT_IN_SOCKWEB
        else:  # the interface `sockweb serve --app module:attr --app-dir DIR` (issue 6 f/g)
            attr = "hello_asgi" if app == "asgi" else "hello_wsgi"
            spec.argv = [*base, "--app", f"harness.apps:{attr}", "--app-dir", str(env.bench),
                         "--interface", app]
            spec.label = f"sockweb serve --app ({app.upper()})"
        return spec
    if name == "http.server":
        return ServerSpec(name, "python -m http.server (HTTP/1.0, a thread per connection)",
                          [py, "-m", "http.server", "{port}", "--bind", host,
                           "--directory", str(env.www)],
                          skip=None if app in ("hello", "static") else "not an app server")
    if name == "uvicorn":
        target = {"hello": "harness.apps:hello_asgi", "asgi": "harness.apps:hello_asgi",
                  "static": "harness.apps:static_asgi"}.get(app)
        spec = ServerSpec(name, "uvicorn (httptools, uvloop), raw ASGI"
                          if app != "static" else "uvicorn (httptools, uvloop), Starlette "
                          "StaticFiles", stop_signal=signal.SIGINT)
        spec.skip = "not a WSGI server" if target is None else _missing(
            "uvicorn", "uvloop", "httptools", *(["starlette"] if app == "static" else []))
        spec.argv = [py, "-m", "uvicorn", str(target), "--host", host, "--port", "{port}",
                     "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                     "--log-level", "warning", *(["--factory"] if app == "static" else [])]
        return spec
    if name == "granian":
        target = {"hello": "harness.apps:hello_asgi", "asgi": "harness.apps:hello_asgi",
                  "static": "harness.apps:static_asgi"}.get(app)
        spec = ServerSpec(name, "granian --interface asgi, raw ASGI" if app != "static"
                          else "granian --interface asgi, Starlette StaticFiles",
                          stop_signal=signal.SIGINT)
        spec.skip = "not used for WSGI" if target is None else _missing(
            "granian", *(["starlette"] if app == "static" else []))
        spec.argv = [py, "-m", "granian", "--interface", "asgi", "--host", host, "--port",
                     "{port}", "--workers", "1", "--runtime-threads", "1", "--http", "1",
                     "--no-ws", "--loop", "uvloop", "--log-level", "warning",
                     "--no-access-log", *(["--factory"] if app == "static" else []),
                     str(target)]
        return spec
    if name == "gunicorn":
        return ServerSpec(name, "gunicorn, 1 sync worker (closes each connection)",
                          [py, "-m", "gunicorn", "--workers", "1", "--bind", f"{host}:{{port}}",
                           "--log-level", "warning", "harness.apps:hello_wsgi"],
                          skip=_missing("gunicorn") if app == "wsgi" else "WSGI only")
    if name == "waitress":
        return ServerSpec(name, "waitress (4 threads, its default)",
                          [py, "-m", "waitress", f"--listen={host}:{{port}}", "--threads=4",
                           "harness.apps:hello_wsgi"],
                          skip=_missing("waitress") if app == "wsgi" else "WSGI only")
    if name == "nginx":
        conf = env.tmp / "nginx.conf"
        return ServerSpec(name, "nginx, 1 worker (open_file_cache, sendfile)",
                          ["nginx", "-e", str(env.tmp / "nginx-error.log"), "-c", str(conf),
                           "-p", str(env.tmp)],
                          skip=None if shutil.which("nginx") else "nginx not installed")
    raise ValueError(name)


NGINX_CONF = """\
# One worker process, no master: the process the harness started is the one serving.
worker_processes 1;
master_process off;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 1s;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        root {www};
        location = / {{
            default_type "text/html; charset=utf-8";
            return 200 "{hello}";
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    spec: ServerSpec
    proc: Proc
    port: int
    command: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.stop()


class StartError(RuntimeError):
    pass


def _probe(port: int, path: str) -> tuple[int, int] | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, len(body)
    except (OSError, http.client.HTTPException):
        return None


def start(spec: ServerSpec, env: Env, check_path: str, check_len: int,
          timeout: float = 20.0) -> Running:
    """Start spec pinned to the server core; return once check_path answers 200 with
    a body of check_len bytes."""
    last = ""
    for attempt in range(3):
        port = 0 if spec.banner else free_port()
        if spec.name == "nginx":
            (env.tmp / "nginx.conf").write_text(NGINX_CONF.format(
                tmp=env.tmp, port=port, www=env.www, hello=HELLO.decode()))
        argv = pinned(SERVER_CORE, spec.command(port))
        log = env.tmp / f"{spec.name}-{attempt}.log"
        proc = Proc.start(argv, stdout=log, cwd=str(env.bench),
                          env={**env.child_env, **spec.extra_env}, stop_signal=spec.stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.alive():
            if spec.banner and not port:
                m = re.search(r"Access http://[^\s:]+:(\d+)", log.read_text("utf-8", "replace"))
                if m:
                    port = int(m.group(1))
            if port:
                got = _probe(port, check_path)
                if got == (200, check_len):
                    return Running(spec, proc, port, argv)
                if got is not None:
                    last = f"GET {check_path} gave status/length {got}, wanted (200, {check_len})"
                    break
            time.sleep(0.05)
        proc.stop()
        text = log.read_text("utf-8", "replace")[-600:]
        last = last or f"did not answer within {timeout:.0f} s: {text}"
        if "in use" not in text:  # only a port taken in the meantime is worth a retry
            break
    raise StartError(f"{spec.name}: {last}")


def version_of(name: str, python: str) -> str:
    """A peer's version, for RESULTS.md."""
    cmds = {
        "nginx": ["nginx", "-v"], "wrk": ["wrk", "-v"], "curl": ["curl", "--version"],
        "hyperfine": ["hyperfine", "--version"], "lynx": ["lynx", "-version"],
        "w3m": ["w3m", "-version"],
    }
    if name in cmds:
        if not shutil.which(cmds[name][0]):
            return "not installed"
        out = subprocess.run(cmds[name], capture_output=True, text=True, timeout=10)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0] if text else "?"
    code = ("import importlib.metadata as m, sys\n"
            "try: print(m.version(sys.argv[1]))\n"
            "except Exception: print('not installed')")
    out = subprocess.run([python, "-c", code, name], capture_output=True, text=True, timeout=30)
    return out.stdout.strip() or "?"
