"""sockweb.browser.load.to_url: what was typed, as a URL.

A scheme is taken as given, and only http, https and file are fetched; a path
that exists, or that is written as one, is a file; anything else is a host
only when it plausibly is one, and otherwise the file it was likelier meant as.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sockweb.browser.load import to_url
from sockweb.http.urls import InvalidURL


@pytest.mark.parametrize(("typed", "url"), [
    ("example.com", "http://example.com/"),
    ("docs.python.org/3/", "http://docs.python.org/3/"),
    ("localhost", "http://localhost/"),
    ("localhost:9000/x", "http://localhost:9000/x"),
    ("box:8080", "http://box:8080/"),
    ("127.0.0.1", "http://127.0.0.1/"),
    ("[::1]:8080/", "http://[::1]:8080/"),
    ("example.com/page.html?q=1", "http://example.com/page.html?q=1"),
    ("http://a.test/x", "http://a.test/x"),
])
def test_a_plausible_host_is_fetched_over_http(typed: str, url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert to_url(typed) == url


@pytest.mark.parametrize("typed", ["nope.html", "./nope.html", "dir/file.html", "foo",
                                   "index.htm?x", "notes.txt", ".hidden"])
def test_anything_else_that_is_no_file_is_still_a_file(typed: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    name = typed.removeprefix("./").replace("?", "%3F")
    assert to_url(typed) == f"file://{tmp_path}/{name}"


def test_an_existing_file_wins_over_a_host(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.com").write_text("x")
    assert to_url("example.com") == f"file://{tmp_path}/example.com"


@pytest.mark.parametrize(("typed", "scheme"), [
    ("mailto:a@b", "mailto"), ("javascript:alert(1)", "javascript"),
    ("data:text/html,hi", "data"), ("about:blank", "about"), ("FTP://x/", "ftp"),
    ("gopher://x", "gopher"), ("news:comp.lang.python", "news"),
])
def test_other_schemes_are_refused_by_name(typed: str, scheme: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        to_url(typed)
    assert str(caught.value) == f"unsupported scheme {scheme!r}"
