"""The cookie jar: RFC 6265 storage and matching, and curl's cookie files."""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from sockweb.client.api import Client
from sockweb.client.cookies import CookieJar
from sockweb.http.headers import Headers
from tests.wire import read_head


def receive(jar: CookieJar, url: str, *set_cookies: str, status: int = 200) -> None:
    response = Headers([(b"Set-Cookie", value.encode("latin-1")) for value in set_cookies])
    jar.extract(url, Headers([(b"Accept", b"*/*")]), status, response)


def pairs(header: str | None) -> set[str]:
    return set(header.split("; ")) if header else set()


def test_simple_round_trip() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "a=1", "b=two words")
    assert pairs(jar.header_for("http://example.com/")) == {"a=1", "b=two words"}
    assert len(jar) == 2
    assert sorted(jar) == [("a", "1", "example.com", "/"), ("b", "two words", "example.com", "/")]


def test_no_cookies_no_header() -> None:
    jar = CookieJar()
    assert jar.header_for("http://example.com/") is None
    receive(jar, "http://example.com/")
    assert len(jar) == 0


def test_set_cookie_on_a_redirect_counts_rfc6265_section_3() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/login", "sid=abc; Path=/", status=302)
    assert jar.header_for("http://example.com/home") == "sid=abc"


def test_secure_only_over_https_rfc6265_section_5_4() -> None:
    jar = CookieJar()
    receive(jar, "https://example.com/", "s=1; Secure", "p=2")
    assert pairs(jar.header_for("https://example.com/")) == {"s=1", "p=2"}
    assert pairs(jar.header_for("http://example.com/")) == {"p=2"}


def test_httponly_stored_and_sent() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "h=1; HttpOnly", "l=2; httponly")
    assert pairs(jar.header_for("http://example.com/")) == {"h=1", "l=2"}


def test_host_only_cookie_stays_on_its_host_rfc6265_section_5_3() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "host=1")
    assert jar.header_for("http://example.com/") == "host=1"
    assert jar.header_for("http://www.example.com/") is None
    assert jar.header_for("http://notexample.com/") is None


def test_domain_cookie_reaches_subdomains_rfc6265_section_5_1_3() -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", "d=1; Domain=example.com")
    for url in ("http://example.com/", "http://www.example.com/", "http://a.b.example.com/"):
        assert jar.header_for(url) == "d=1", url
    assert jar.header_for("http://badexample.com/") is None
    assert jar.header_for("http://example.org/") is None


def test_domain_must_cover_the_request_host() -> None:
    jar = CookieJar()
    receive(
        jar, "http://www.example.com/", "x=1; Domain=other.com", "y=2; Domain=sub.www.example.com"
    )
    assert len(jar) == 0


@pytest.mark.parametrize(("host", "domain"), [("example.com", "com"), ("foo.co.uk", "co.uk")])
def test_public_suffix_domain_rejected(host: str, domain: str) -> None:
    jar = CookieJar()
    receive(jar, f"http://{host}/", f"evil=1; Domain={domain}")
    assert len(jar) == 0


def test_path_matching_rfc6265_section_5_1_4() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "p=1; Path=/docs")
    assert jar.header_for("http://example.com/docs") == "p=1"
    assert jar.header_for("http://example.com/docs/") == "p=1"
    assert jar.header_for("http://example.com/docs/a/b?q=1") == "p=1"
    assert jar.header_for("http://example.com/documents") is None
    assert jar.header_for("http://example.com/") is None


def test_default_path_rfc6265_section_5_1_4() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/shop/cart/view", "d=1")
    assert jar.header_for("http://example.com/shop/cart/other") == "d=1"
    assert jar.header_for("http://example.com/shop/") is None


def test_longer_path_first_rfc6265_section_5_4() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "n=root; Path=/", "n=deep; Path=/a/b")
    assert jar.header_for("http://example.com/a/b/c") == "n=deep; n=root"


def test_max_age_zero_deletes_rfc6265_section_5_2_2() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "gone=1", "kept=1")
    receive(jar, "http://example.com/", "gone=; Max-Age=0")
    assert jar.header_for("http://example.com/") == "kept=1"
    assert len(jar) == 1


def test_expires_in_the_past_deletes_rfc6265_section_5_2_1() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "gone=1")
    receive(jar, "http://example.com/", "gone=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert jar.header_for("http://example.com/") is None
    assert len(jar) == 0


def test_max_age_beats_expires_rfc6265_section_5_3() -> None:
    jar = CookieJar()
    past = formatdate(time.time() - 3600, usegmt=True)
    receive(jar, "http://example.com/", f"m=1; Expires={past}; Max-Age=3600")
    assert jar.header_for("http://example.com/") == "m=1"


def test_future_expiry_kept() -> None:
    jar = CookieJar()
    future = formatdate(time.time() + 3600, usegmt=True)
    receive(jar, "http://example.com/", f"f=1; Expires={future}")
    assert jar.header_for("http://example.com/") == "f=1"


@pytest.mark.parametrize("samesite", ["Strict", "Lax", "None", "bogus", ""])
def test_samesite_parsed_without_trouble(samesite: str) -> None:
    jar = CookieJar()
    receive(jar, "https://example.com/", f"s=1; SameSite={samesite}; Secure")
    assert jar.header_for("https://example.com/", "POST") == "s=1"


def test_malformed_set_cookie_does_not_crash() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "", ";;;", "=novalue", "a=1; Max-Age=soon; Expires=never")
    jar.header_for("http://example.com/")


def test_localhost_and_ports() -> None:
    jar = CookieJar()
    receive(jar, "http://localhost:8080/", "lh=1")
    receive(jar, "http://127.0.0.1:9000/", "ip=1")
    # RFC 6265 section 8.5: cookies do not isolate by port.
    assert jar.header_for("http://localhost:9999/") == "lh=1"
    assert jar.header_for("http://127.0.0.1:9000/x") == "ip=1"
    assert ("lh", "1", "localhost", "/") in list(jar)


def test_set_by_hand_and_clear() -> None:
    jar = CookieJar()
    jar.set("host", "1", "example.com")
    jar.set("wide", "2", ".example.com", path="/app")
    assert jar.header_for("http://example.com/app/x") == "wide=2; host=1"
    assert jar.header_for("http://www.example.com/app") == "wide=2"
    jar.clear()
    assert len(jar) == 0
    assert jar.header_for("http://example.com/") is None


def test_threads_share_one_jar() -> None:
    jar = CookieJar()

    def work(n: int) -> None:
        for i in range(100):
            receive(jar, f"http://h{n}.example/", f"c{i}={i}")
            jar.header_for(f"http://h{n}.example/")
            list(jar)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(jar) == 400


# -- files ------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    jar = CookieJar()
    future = formatdate(time.time() + 3600, usegmt=True)
    receive(
        jar,
        "https://example.com/a/b",
        "session=1",
        f"persist=2; Expires={future}",
        "sec=3; Secure; HttpOnly",
        "wide=4; Domain=example.com; Path=/",
    )
    receive(jar, "http://localhost:8000/", "lh=5")
    path = tmp_path / "cookies.txt"
    jar.save(str(path))
    assert os.stat(path).st_mode & 0o777 == 0o600

    again = CookieJar()
    again.load(str(path))
    assert sorted(again) == sorted(jar)
    for url in (
        "https://example.com/a/x",
        "http://example.com/a/",
        "http://www.example.com/",
        "http://localhost:8000/",
    ):
        assert pairs(again.header_for(url)) == pairs(jar.header_for(url)), url

    text = path.read_text()
    assert text.startswith("# Netscape HTTP Cookie File\n")
    assert "#HttpOnly_example.com\tFALSE\t/a\tTRUE\t0\tsec\t3\n" in text
    assert ".example.com\tTRUE\t/\tFALSE\t0\twide\t4\n" in text
    assert "localhost\tFALSE\t/\tFALSE\t0\tlh\t5\n" in text


def test_saved_file_readable_by_the_stdlib(tmp_path: Path) -> None:
    jar = CookieJar()
    future = int(time.time()) + 3600
    receive(jar, "http://example.com/", f"a=1; Max-Age={future - int(time.time())}")
    path = tmp_path / "cookies.txt"
    jar.save(str(path))
    mozilla = http.cookiejar.MozillaCookieJar()
    mozilla.load(str(path))
    assert [(c.name, c.value) for c in mozilla] == [("a", "1")]


# What `curl -c` writes, lines as curl formats them (including its #HttpOnly_).
CURL_FILE = """\
# Netscape HTTP Cookie File
# https://curl.se/docs/http-cookies.html
# This file was generated by libcurl! Edit at your own risk.

.example.com\tTRUE\t/\tFALSE\t0\tsession\tyes
#HttpOnly_example.com\tFALSE\t/\tTRUE\t{future}\tsid\tsecret
#HttpOnly_localhost\tFALSE\t/api\tFALSE\t0\ttoken\tt1
www.example.com\tFALSE\t/\tFALSE\t1\texpired\tlong-ago
example.com\tFALSE\t/\tFALSE\t0\tempty\t
example.com\tFALSE\t/\tFALSE\t0\t\tnameless
this line is not a cookie
"""


def test_load_a_file_curl_wrote(tmp_path: Path) -> None:
    path = tmp_path / "curl.txt"
    path.write_text(CURL_FILE.format(future=int(time.time()) + 86400))
    jar = CookieJar()
    jar.load(str(path))
    assert sorted(jar) == [
        ("empty", "", "example.com", "/"),
        ("nameless", "", "example.com", "/"),
        ("session", "yes", ".example.com", "/"),
        ("sid", "secret", "example.com", "/"),
        ("token", "t1", "localhost", "/api"),
    ]
    assert pairs(jar.header_for("https://example.com/")) == {
        "session=yes",
        "sid=secret",
        "empty=",
        "nameless",
    }
    assert jar.header_for("http://www.example.com/") == "session=yes"
    assert jar.header_for("http://localhost:3000/api/v1") == "token=t1"

    # Saved again, curl's marks survive.
    out = tmp_path / "again.txt"
    jar.save(str(out))
    text = out.read_text()
    assert "#HttpOnly_localhost\tFALSE\t/api\tFALSE\t0\ttoken\tt1\n" in text
    assert "\t\tnameless\n" in text
    assert "expired" not in text


def test_load_lenient_subdomain_flag(tmp_path: Path) -> None:
    # Hand-written: TRUE without the leading dot that curl would add.
    path = tmp_path / "hand.txt"
    path.write_text("example.com\tTRUE\t/\tFALSE\t0\tw\t1\n")
    jar = CookieJar()
    jar.load(str(path))
    assert jar.header_for("http://sub.example.com/") == "w=1"


def test_load_missing_file(tmp_path: Path) -> None:
    jar = CookieJar()
    jar.load(str(tmp_path / "absent.txt"), missing_ok=True)
    assert len(jar) == 0
    with pytest.raises(FileNotFoundError):
        jar.load(str(tmp_path / "absent.txt"))


def test_load_merges_and_save_replaces(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    jar = CookieJar()
    jar.set("a", "1", "example.com")
    jar.save(str(path))
    jar.save(str(path))  # overwriting leaves no temporary file behind
    assert os.listdir(tmp_path) == ["c.txt"]
    other = CookieJar()
    other.set("b", "2", "example.com")
    other.load(str(path))
    assert pairs(other.header_for("http://example.com/")) == {"a=1", "b=2"}


def test_latin1_bytes_survive_a_file(tmp_path: Path) -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "u=caf\xc3\xa9")  # UTF-8 bytes, as headers decode
    path = tmp_path / "c.txt"
    jar.save(str(path))
    assert b"u\tcaf\xc3\xa9\n" in path.read_bytes()
    again = CookieJar()
    again.load(str(path))
    assert again.header_for("http://example.com/") == "u=caf\xc3\xa9"


# -- IP addresses and one-label domains (RFC 6265 sections 5.1.3 and 5.3) ------------


def test_domain_attribute_on_an_ip_host_is_refused_rfc6265_section_5_1_3() -> None:
    """RFC 6265 section 5.1.3: the suffix rule never applies to an IP address.

    127.0.0.1 may not widen a cookie to "0.1" (and from there to 127.1.0.1).
    """
    jar = CookieJar()
    receive(jar, "http://127.0.0.1:8000/", "a=1; Domain=0.1", "b=2; Domain=.0.0.1", "c=3; Domain=1")
    assert len(jar) == 0
    assert jar.header_for("http://127.0.0.1/") is None
    assert jar.header_for("http://127.1.0.1/") is None


@pytest.mark.parametrize("domain", ["127.0.0.1", ".127.0.0.1", "127.0.0.1".upper()])
def test_domain_equal_to_the_ip_is_host_only_rfc6265_section_5_3(domain: str) -> None:
    """RFC 6265 sections 5.1.3 and 5.3 step 6: a Domain equal to the IP host matches it and
    nothing else; the jar keeps it as curl does, a host-only line ``127.0.0.1 FALSE``."""
    jar = CookieJar()
    receive(jar, "http://127.0.0.1:8000/", f"a=1; Domain={domain}")
    assert jar.header_for("http://127.0.0.1/") == "a=1"
    assert jar.header_for("http://127.1.0.1/") is None
    assert jar.header_for("http://x.127.0.0.1/") is None
    assert list(jar) == [("a", "1", "127.0.0.1", "/")]


@pytest.mark.parametrize(
    ("set_cookie", "stored"),
    [("a=1", "::1"), ("a=1; Domain=::1", "::1"), ("a=1; Domain=1", None), ("a=1; Domain=:1", None)],
)
def test_ipv6_host_rfc6265_section_5_1_3(set_cookie: str, stored: str | None) -> None:
    """RFC 6265 section 5.1.3 for an IPv6 literal, bracketed in the URL but not in the
    cookie's domain (curl writes ``::1`` too): exact match or nothing."""
    jar = CookieJar()
    receive(jar, "http://[::1]:8000/", set_cookie)
    assert [domain for _, _, domain, _ in jar] == ([stored] if stored else [])
    assert jar.header_for("http://[::1]/") == ("a=1" if stored else None)
    assert jar.header_for("http://[::2:1]/") is None


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        # "local" would reach every dotless host: to the stdlib, "x" is "x.local".
        ("http://localhost/", "local"),
        ("http://www.example.com/", "com"),
        ("http://www.example.com/", "."),
        ("http://localhost/", "."),
        ("http://intranet/", "."),
    ],
)
def test_one_label_or_empty_domain_refused_rfc6265_section_5_3_step_5(
    url: str, domain: str
) -> None:
    """RFC 6265 section 5.3 step 5: without the Public Suffix List, a Domain of one label
    (or nothing after its dot) other than the host itself is refused, as curl refuses it."""
    jar = CookieJar()
    receive(jar, url, f"a=1; Domain={domain}")
    assert len(jar) == 0
    for other in ("http://localhost/", "http://intranet/", "http://foo.local/", "http://[::1]/"):
        assert jar.header_for(other) is None, other


@pytest.mark.parametrize("host", ["localhost", "intranet"])
def test_one_label_domain_equal_to_the_host_is_host_only_rfc6265_section_5_3_step_5(
    host: str,
) -> None:
    """RFC 6265 section 5.3 step 5: a Domain that is a public suffix but identical to the
    request host makes a host-only cookie. The stdlib kept ``.localhost`` and then never
    sent it to localhost, only to its subdomains."""
    jar = CookieJar()
    receive(jar, f"http://{host}:8000/", f"a=1; Domain={host}")
    assert jar.header_for(f"http://{host}/") == "a=1"
    assert jar.header_for(f"http://www.{host}/") is None
    assert list(jar) == [("a", "1", host, "/")]


def test_empty_domain_attribute_is_ignored_rfc6265_section_5_2_3() -> None:
    """RFC 6265 section 5.2.3: an empty Domain attribute is ignored, so the cookie is
    host-only (curl agrees); the stdlib dropped the cookie."""
    jar = CookieJar()
    receive(jar, "http://127.0.0.1:8000/", "a=1; Domain=")
    receive(jar, "http://www.example.com/", "b=2; Domain=")
    assert jar.header_for("http://127.0.0.1/") == "a=1"
    assert jar.header_for("http://www.example.com/") == "b=2"
    assert jar.header_for("http://example.com/") is None


def test_a_deletion_for_another_domain_is_refused_rfc6265_section_5_3() -> None:
    """RFC 6265 section 5.3 step 6 comes before step 11: a cookie whose Domain does not
    cover the host is ignored, expired or not. The stdlib deleted the victim's cookie
    before its policy looked at the domain."""
    jar = CookieJar()
    receive(jar, "https://www.example.com/", "sid=secret; Domain=example.com; Path=/")
    receive(jar, "https://127.0.0.1/", "ip=1")
    receive(jar, "http://evil.test/", "sid=; Domain=example.com; Path=/; Max-Age=0")
    receive(jar, "http://127.1.0.1/", "ip=; Domain=127.0.0.1; Path=/; Max-Age=0")
    assert jar.header_for("https://example.com/") == "sid=secret"
    assert jar.header_for("https://127.0.0.1/") == "ip=1"
    # The host itself still deletes, with or without the Domain.
    receive(jar, "https://www.example.com/", "sid=; Domain=example.com; Path=/; Max-Age=0")
    receive(jar, "https://127.0.0.1/", "ip=; Domain=127.0.0.1; Path=/; Max-Age=0")
    assert len(jar) == 0


JAR_LINES = [
    # (line's domain, subdomain flag, hosts that get the cookie, hosts that do not)
    (".0.0.1", "TRUE", [], ["127.0.0.1", "127.1.0.1"]),
    ("0.1", "TRUE", [], ["127.0.0.1", "10.0.0.1"]),
    (".127.0.0.1", "TRUE", ["127.0.0.1"], ["x.127.0.0.1", "127.0.0.2"]),
    ("127.0.0.1", "FALSE", ["127.0.0.1"], ["x.127.0.0.1"]),
    ("::1", "FALSE", ["[::1]"], ["[::2:1]"]),
    (".::1", "TRUE", ["[::1]"], ["[::2:1]"]),
    ("[::1]", "FALSE", ["[::1]"], ["[::2:1]"]),  # as sockweb used to write it
    (".com", "TRUE", [], ["example.com", "www.example.com"]),
    ("com", "TRUE", [], ["example.com"]),
    (".local", "TRUE", [], ["localhost", "intranet", "foo.local", "[::1]"]),
    (".localhost", "TRUE", ["localhost"], ["intranet"]),
    (".intranet", "TRUE", ["intranet"], ["www.intranet", "localhost"]),
    ("", "TRUE", [], ["localhost", "example.com", "[::1]"]),
    (".", "TRUE", [], ["localhost", "example.com", "[::1]"]),
]


@pytest.mark.parametrize(("domain", "flag", "sent", "not_sent"), JAR_LINES)
def test_loaded_lines_follow_the_same_rules_rfc6265_section_5_1_3(
    tmp_path: Path, domain: str, flag: str, sent: list[str], not_sent: list[str]
) -> None:
    """RFC 6265 section 5.1.3 for cookies read from a curl file: an IP address matches only
    itself, and a one-label domain only the host of that name (what curl 7.88 sends)."""
    path = tmp_path / "jar.txt"
    path.write_text(f"{domain}\t{flag}\t/\tFALSE\t0\ta\t1\n")
    jar = CookieJar()
    jar.load(str(path))
    for host in sent:
        assert jar.header_for(f"http://{host}:8000/") == "a=1", host
    for host in not_sent:
        assert jar.header_for(f"http://{host}:8000/") is None, host


# -- over real sockets -----------------------------------------------------------------


class CookieServer:
    """A raw-socket HTTP/1.1 server in a thread: answers every request with the
    Set-Cookie fields it was given and records each request's Cookie field."""

    def __init__(self, host: str, set_cookies: list[str]) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.set_cookies = set_cookies
        self.cookies: list[str | None] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = read_head(conn)
                fields = data.decode("latin-1").split("\r\n")[1:]
                found = [f[7:].strip() for f in fields if f.lower().startswith("cookie:")]
                self.cookies.append(found[0] if found else None)
                extra = "".join(f"Set-Cookie: {value}\r\n" for value in self.set_cookies)
                conn.sendall(
                    f"HTTP/1.1 200 OK\r\n{extra}Content-Length: 2\r\nConnection: close\r\n\r\nok"
                    .encode("latin-1")
                )

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)


@pytest.fixture
def servers() -> Iterator[Callable[[str, list[str]], CookieServer]]:
    started: list[CookieServer] = []

    def start(host: str, set_cookies: list[str]) -> CookieServer:
        server = CookieServer(host, set_cookies)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_ip_host_cannot_widen_its_cookie_over_sockets_rfc6265_section_5_1_3(
    servers: Callable[[str, list[str]], CookieServer], tmp_path: Path
) -> None:
    """RFC 6265 section 5.1.3, end to end: 127.0.0.1 says Domain=0.1, and neither
    127.1.0.1 nor 127.0.0.1 is sent the cookie; Domain=127.0.0.1 comes back to its host only,
    and is saved as the host-only line curl writes."""
    first = servers("127.0.0.1", ["wide=1; Domain=0.1", "own=2; Domain=127.0.0.1"])
    second = servers("127.1.0.1", [])
    with Client(trust_env=False) as client:
        client.get(first.url + "/set")
        client.get(first.url + "/again")
        client.get(second.url + "/")
        path = tmp_path / "jar.txt"
        client.cookies.save(str(path))
    assert first.cookies == [None, "own=2"]
    assert second.cookies == [None]
    assert "127.0.0.1\tFALSE\t/\tFALSE\t0\town\t2\n" in path.read_text()


def test_loaded_ip_lines_over_sockets_rfc6265_section_5_1_3(
    servers: Callable[[str, list[str]], CookieServer], tmp_path: Path
) -> None:
    """RFC 6265 section 5.1.3 for a jar file: ``.0.0.1 TRUE`` goes to no IP address."""
    path = tmp_path / "jar.txt"
    path.write_text(
        ".0.0.1\tTRUE\t/\tFALSE\t0\twide\t1\n.127.0.0.1\tTRUE\t/\tFALSE\t0\town\t2\n"
    )
    server = servers("127.0.0.1", [])
    jar = CookieJar()
    jar.load(str(path))
    with Client(cookies=jar, trust_env=False) as client:
        client.get(server.url + "/")
    assert server.cookies == ["own=2"]


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this host")
def test_ipv6_host_over_sockets_rfc6265_section_5_1_3(
    servers: Callable[[str, list[str]], CookieServer], tmp_path: Path
) -> None:
    """RFC 6265 sections 5.1.3 and 5.3 step 6 for [::1]: Domain=::1 is host-only, Domain=1
    is refused, and the file names the host as curl does, without brackets."""
    server = servers("::1", ["own=1; Domain=::1", "bad=2; Domain=1", "plain=3"])
    with Client(trust_env=False) as client:
        client.get(server.url + "/")
        client.get(server.url + "/")
        path = tmp_path / "jar.txt"
        client.cookies.save(str(path))
    assert server.cookies[0] is None
    assert pairs(server.cookies[1]) == {"own=1", "plain=3"}
    text = path.read_text()
    assert "::1\tFALSE\t/\tFALSE\t0\town\t1\n" in text
    assert "[" not in text


def test_curl_and_sockweb_agree_on_ip_cookies_rfc6265_section_5_1_3(
    servers: Callable[[str, list[str]], CookieServer], tmp_path: Path
) -> None:
    """What curl stores from an IP host (refusing Domain=0.1, keeping Domain=127.0.0.1 as
    host-only), sockweb reads back and sends to that host alone."""
    first = servers("127.0.0.1", ["wide=1; Domain=0.1", "own=2; Domain=127.0.0.1"])
    second = servers("127.1.0.1", [])
    path = tmp_path / "curl.txt"
    subprocess.run(
        ["curl", "-s", "-o", os.devnull, "--noproxy", "*", "-c", str(path), first.url + "/"],
        check=True, timeout=30,
    )
    jar = CookieJar()
    jar.load(str(path))
    assert list(jar) == [("own", "2", "127.0.0.1", "/")]
    with Client(cookies=jar, trust_env=False) as client:
        client.get(first.url + "/")
        client.get(second.url + "/")
    assert first.cookies == [None, "own=2"]
    assert second.cookies == [None]


def test_the_last_of_a_repeated_attribute_wins_rfc6265_5_3() -> None:
    """Section 5.3 steps 4 and 7-11 take the last Domain, Path, Expires,
    Max-Age of a Set-Cookie; http.cookiejar on its own keeps the first."""
    jar = CookieJar()
    receive(jar, "http://www.example.com/", "a=1; Domain=www.example.com; Domain=example.com",
            "b=2; Path=/nowhere; path=/", "c=3; Max-Age=0; Max-Age=100",
            "d=4; Max-Age=100; Max-Age=0")
    assert pairs(jar.header_for("http://other.example.com/")) == {"a=1"}
    assert pairs(jar.header_for("http://www.example.com/x")) == {"a=1", "b=2", "c=3"}
