"""Real peers for the client: nginx, a Flask app under werkzeug, TLS, tinyproxy.

Each is started on 127.0.0.1 with an ephemeral port and stopped by its pid.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@dataclass
class Peer:
    url: str
    port: int
    root: Path | None = None


@pytest.fixture(scope="session")
def docroot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files the static peers serve: text that gzips, binary, a big file, a subdir."""
    root = tmp_path_factory.mktemp("docroot")
    (root / "index.html").write_text("<!doctype html><title>t</title><h1>Index</h1>\n")
    (root / "text.txt").write_text("The quick brown fox jumps over the lazy dog.\n" * 2000)
    (root / "data.json").write_text('{"hello": "world"}\n')
    (root / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (root / "big.bin").write_bytes(os.urandom(1024 * 1024) * 3)
    # Past the 1 MiB a splice or a recv_into moves at once, many times over.
    (root / "large.bin").write_bytes(os.urandom(4 * 1024 * 1024) * 12 + b"tail")
    (root / "page.gz").write_bytes(gzip.compress(b"already gzipped\n"))
    (root / "sub").mkdir()
    (root / "sub" / "a file.txt").write_text("space in the name\n")
    return root


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory, docroot: Path) -> Iterator[Peer]:
    """nginx from Debian with gzip on, keep-alive and ranges, on an ephemeral port."""
    work = tmp_path_factory.mktemp("nginx")
    port = free_port()
    for d in ("logs", "tmp"):
        (work / d).mkdir()
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {work}/logs/access.log;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    types {{ text/html html; text/plain txt; application/json json;
             application/octet-stream bin; application/gzip gz; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30;
    gzip on; gzip_min_length 100; gzip_types text/plain application/json;
    server {{
        listen 127.0.0.1:{port};
        root {docroot};
        location = /chunked {{ gzip off; return 200 "chunked body\\n"; }}
        location /redirect {{ return 301 /text.txt; }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_listening(port, proc)
    yield Peer(f"http://127.0.0.1:{port}", port, docroot)
    stop(proc, signal.SIGQUIT)


@pytest.fixture(scope="session")
def http_server(docroot: Path) -> Iterator[Peer]:
    """Python's own ``python -m http.server`` (HTTP/1.0 replies, close-delimited)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(docroot)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_listening(port, proc)
    yield Peer(f"http://127.0.0.1:{port}", port, docroot)
    stop(proc)


@pytest.fixture(scope="session")
def sockweb_server(docroot: Path) -> Iterator[Peer]:
    proc = subprocess.Popen([sys.executable, "-m", "sockweb", "serve", str(docroot), "--host",
                             "127.0.0.1", "--port", "0", "--no-access-log"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    port = int(line.rsplit(":", 1)[1])
    yield Peer(f"http://127.0.0.1:{port}", port, docroot)
    stop(proc, signal.SIGINT)


@pytest.fixture(scope="session")
def flask_app() -> Iterator[Peer]:
    """tests/client/flask_app.py under werkzeug's threaded server."""
    proc = subprocess.Popen([sys.executable, str(HERE / "flask_app.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        stop(proc)
        raise RuntimeError(f"flask app did not start: {line!r}")
    port = int(line.split()[1])
    wait_listening(port, proc)
    yield Peer(f"http://127.0.0.1:{port}", port)
    stop(proc)


@dataclass
class TLSPeer(Peer):
    cafile: str = ""


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> object:
    import trustme

    return trustme.CA()


def _tls_nginx(
    work: Path, docroot: Path, cert: Path, key: Path
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    for d in ("logs", "tmp"):
        (work / d).mkdir(exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; master_process off; worker_processes 1; pid {work}/nginx.pid;
error_log {work}/logs/error.log crit;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert}; ssl_certificate_key {key};
        root {docroot};
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_listening(port, proc)
    return port, proc


@pytest.fixture(scope="session")
def tls_servers(
    tmp_path_factory: pytest.TempPathFactory, docroot: Path, tls_ca: object
) -> Iterator[dict[str, TLSPeer]]:
    """nginx over TLS with: a good certificate, an expired one, one for another host,
    and one from a CA the client does not trust. ``cafile`` is the good CA's PEM."""
    import datetime

    import trustme

    ca: trustme.CA = tls_ca  # type: ignore[assignment]
    base = tmp_path_factory.mktemp("tls")
    ca_file = base / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    certs = {
        "good": ca.issue_cert("127.0.0.1", "localhost"),
        "expired": ca.issue_cert("127.0.0.1", "localhost", not_before=past,
                                 not_after=past + datetime.timedelta(days=1)),
        "wrong_host": ca.issue_cert("other.example"),
        "unknown_issuer": trustme.CA().issue_cert("127.0.0.1", "localhost"),
    }
    procs = []
    peers: dict[str, TLSPeer] = {}
    for name, cert in certs.items():
        work = base / name
        work.mkdir()
        cert_file, key_file = work / "cert.pem", work / "key.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
        port, proc = _tls_nginx(work, docroot, cert_file, key_file)
        procs.append(proc)
        peers[name] = TLSPeer(f"https://127.0.0.1:{port}", port, docroot, str(ca_file))
    yield peers
    for proc in procs:
        stop(proc, signal.SIGQUIT)


@pytest.fixture(scope="session")
def tinyproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """A real forward proxy (Debian's tinyproxy) that also does CONNECT."""
    work = tmp_path_factory.mktemp("tinyproxy")
    port = free_port()
    conf = work / "tinyproxy.conf"
    conf.write_text(f"""
Port {port}
Listen 127.0.0.1
Timeout 30
MaxClients 20
LogLevel Critical
Allow 127.0.0.1
DisableViaHeader Yes
""")
    proc = subprocess.Popen(["tinyproxy", "-d", "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_listening(port, proc)
    yield Peer(f"http://127.0.0.1:{port}", port)
    stop(proc)
