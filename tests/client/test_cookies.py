"""The cookie jar: RFC 6265 storage and matching, and curl's cookie files."""

from __future__ import annotations

import http.cookiejar
import os
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from sockweb.client.cookies import CookieJar
from sockweb.http.headers import Headers


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
