"""HTTPS: --certfile/--keyfile with trustme certificates, checked by curl and Python's ssl."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import ssl
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from tests.server.test_sockets import TIMEOUT, Sockweb, launch, run_cli

__all__ = ["launch"]  # the fixture, shared with test_sockets


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    root = tmp_path_factory.mktemp("certs")
    paths = {name: root / f"{name}.pem" for name in ("ca", "cert", "key", "both")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(paths["cert"]), append=True)
    cert.private_key_pem.write_to_path(str(paths["key"]))
    cert.private_key_and_cert_chain_pem.write_to_path(str(paths["both"]))
    return paths


@pytest.fixture
def https(launch: Callable[..., Sockweb], certs: dict[str, Path], site: Path) -> Sockweb:
    return launch("--host", "127.0.0.1", "--port", "0", "--certfile", str(certs["cert"]),
                  "--keyfile", str(certs["key"]), str(site))


def client_context(certs: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certs["ca"]))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def curl(*args: str) -> bytes:
    return subprocess.run(["curl", "-sS", "--fail", *args], capture_output=True, check=True,
                          timeout=TIMEOUT).stdout


def test_banner_says_https(https: Sockweb) -> None:
    assert https.access == [f"https://127.0.0.1:{https.port}"]


def test_curl_with_the_ca(https: Sockweb, certs: dict[str, Path]) -> None:
    url = f"https://127.0.0.1:{https.port}/hello.txt"
    assert curl("--cacert", str(certs["ca"]), url) == b"hello, world\n"
    # And for a name in the certificate, not only an address.
    assert curl("--cacert", str(certs["ca"]), "--resolve", f"localhost:{https.port}:127.0.0.1",
                f"https://localhost:{https.port}/hello.txt") == b"hello, world\n"


def test_python_client_gets_tls12_or_later_and_alpn_http11(https: Sockweb,
                                                           certs: dict[str, Path]) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", https.port, timeout=TIMEOUT,
                                       context=client_context(certs))
    try:
        conn.request("GET", "/hello.txt")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"hello, world\n")
        sock = conn.sock
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.selected_alpn_protocol() == "http/1.1", "h2 offered, not taken"
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
        conn.request("GET", "/index.html")  # keep-alive over TLS
        assert conn.getresponse().read().startswith(b"<!doctype html>")
    finally:
        conn.close()


def test_tls_11_is_refused(https: Sockweb, certs: dict[str, Path]) -> None:
    ctx = client_context(certs)
    with warnings.catch_warnings():  # the client side of this test is deprecated on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", https.port), timeout=TIMEOUT) as raw, \
            pytest.raises(ssl.SSLError):
        ctx.wrap_socket(raw, server_hostname="localhost").close()
    assert https.proc.poll() is None


def test_plain_http_on_the_tls_port_does_not_hurt(https: Sockweb, certs: dict[str, Path]) -> None:
    with socket.create_connection(("127.0.0.1", https.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            reply = sock.recv(65536)
        except ConnectionResetError:
            reply = b""
        assert b"hello, world" not in reply
    url = f"https://127.0.0.1:{https.port}/hello.txt"
    assert curl("--cacert", str(certs["ca"]), url) == b"hello, world\n"
    assert https.proc.poll() is None
    assert not any("Traceback" in line for line in https.errors), https.errors


def test_large_file_over_tls_arrives_intact(https: Sockweb, certs: dict[str, Path],
                                            site: Path) -> None:
    # Over TLS the kernel cannot sendfile(): the body goes through read + write.
    data = os.urandom(1 << 20) * 9 + b"tail"
    (site / "large.bin").write_bytes(data)
    url = f"https://127.0.0.1:{https.port}/large.bin"
    got = curl("--cacert", str(certs["ca"]), url)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    conn = http.client.HTTPSConnection("127.0.0.1", https.port, timeout=TIMEOUT,
                                       context=client_context(certs))
    try:
        conn.request("GET", "/large.bin", headers={"Range": "bytes=1000-"})
        resp = conn.getresponse()
        assert resp.status == 206
        assert resp.read() == data[1000:]
    finally:
        conn.close()


def test_certificate_and_key_in_one_file(launch: Callable[..., Sockweb],
                                         certs: dict[str, Path]) -> None:
    server = launch("--host", "127.0.0.1", "--port", "0", "--hello",
                    "--certfile", str(certs["both"]))
    body = curl("--cacert", str(certs["ca"]), f"https://127.0.0.1:{server.port}/")
    assert b"Hello World" in body


def test_https_with_workers(launch: Callable[..., Sockweb], certs: dict[str, Path]) -> None:
    server = launch("--host", "127.0.0.1", "--port", "0", "--hello", "--workers", "2",
                    "--certfile", str(certs["cert"]), "--keyfile", str(certs["key"]))
    assert server.access == [f"https://127.0.0.1:{server.port}"]
    for _ in range(4):
        assert b"Hello World" in curl("--cacert", str(certs["ca"]),
                                      f"https://127.0.0.1:{server.port}/")
    assert server.stop() == 0


# -- what cannot start: one line, exit 2 ----------------------------------------
def test_missing_certificate_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("--hello", "--port", "0", "--certfile", str(tmp_path / "no.pem"))
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: cannot use TLS: no such file: {tmp_path / 'no.pem'}"


def test_key_that_does_not_match_is_one_line_exit_2(certs: dict[str, Path],
                                                    tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    trustme.CA().issue_cert("localhost").private_key_pem.write_to_path(str(other))
    out = run_cli("--hello", "--port", "0", "--certfile", str(certs["cert"]),
                  "--keyfile", str(other))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sockweb: cannot use TLS with "), lines


def test_encrypted_key_is_refused_without_prompting(certs: dict[str, Path],
                                                    tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(certs["key"].read_bytes(), password=None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    out = run_cli("--hello", "--port", "0", "--certfile", str(certs["cert"]),
                  "--keyfile", str(locked), stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert out.stderr.strip() == (f"sockweb: cannot use TLS: the key in {locked} is encrypted; "
                                  "give sockweb an unencrypted key")


def test_keyfile_without_certfile_is_one_line_exit_2(certs: dict[str, Path]) -> None:
    out = run_cli("--hello", "--port", "0", "--keyfile", str(certs["key"]))
    assert (out.returncode, out.stderr.strip()) == (2, "sockweb: --keyfile needs --certfile")
