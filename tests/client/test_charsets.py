"""Encoding labels as browsers read them (WHATWG Encoding Standard section 4.2).

A label names the standard's encoding, whose decoder may be wider than
Python's codec of the same name; a label the standard does not list is no
encoding at all, whatever Python would make of it.
"""

from __future__ import annotations

import codecs
import socket

import pytest

from sockweb.client.api import Client
from sockweb.client.charsets import _ENCODINGS, codec_for_label
from sockweb.client.decoding import decode_text

from .test_api import RawServer


def test_every_encoding_has_a_decoder() -> None:
    for codec, labels in _ENCODINGS:
        assert labels.split()
        if codec not in ("windows-1252", "replacement", "x-user-defined"):
            codecs.lookup(codec)


@pytest.mark.parametrize(("label", "raw", "text"), [
    # Shift_JIS is Windows-31J: NEC row 13 (circled digits) and the fullwidth tilde.
    ("shift_jis", b"\x87\x40\x87\x41 \x81\x60", "\u2460\u2461 \uff5e"),
    ("shift_jis", b"\x81\x60\x81\x50\x81\x8f\x81\x91", "\uff5e\uffe3\uffe5\uffe0"),
    # EUC-KR is windows-949: its extended Hangul (UHC) rows.
    ("euc-kr", b"\x8c\x63\xb9\xe6\xb0\xa2\xc7\xcf", "\ub620\ubc29\uac01\ud558"),
    # Big5 is Big5-HKSCS.
    ("big5", b"\x87\x40", "\u43f0"),
    # GBK and gb2312 decode with gb18030's decoder: the euro sign at 0x80.
    ("gbk", b"\xd6\xd0\xce\xc4 \x80", "\u4e2d\u6587 \u20ac"),
    ("gb2312", b"\x80", "\u20ac"),
    ("gb18030", b"\x81\x80 \x80 \xff", "\u4e90 \u20ac \ufffd"),  # 0x80 as a trail byte is no €
    # iso-8859-1 and ascii are windows-1252.
    ("iso-8859-1", b"\x93q\x94 \x80", "\u201cq\u201d \u20ac"),
    ("us-ascii", b"\x99", "\u2122"),
    # Bytes Python's windows-125x leave undefined are the C1 code points of WHATWG's indexes.
    ("windows-1250", b"\x81\x83 \x80", "\x81\x83 \u20ac"),
    ("windows-874", b"\x81 \xdb", "\x81 \ufffd"),
    ("windows-1253", b"\x81 \xaa", "\x81 \ufffd"),
    # KOI8-U is KOI8-RU: 0xAE and 0xBE are Belarusian short u.
    ("koi8-u", b"\xae\xbe \xad", "\u045e\u040e \u0491"),
    ("koi8-ru", b"\xae", "\u045e"),
    # x-user-defined: the high half to the Private Use Area.
    ("x-user-defined", b"a\x80\xff", "a\uf780\uf7ff"),
])
def test_label_names_the_standards_decoder(label: str, raw: bytes, text: str) -> None:
    assert decode_text(raw, f"text/html; charset={label}") == text


@pytest.mark.parametrize("label", ["iso-2022-kr", "hz-gb-2312", "iso-2022-cn", "csiso2022kr"])
def test_replacement_labels_decode_to_one_replacement_character(label: str) -> None:
    """They hid script from filters: the whole body becomes one U+FFFD."""
    assert decode_text(b"\x1b$)C\x0e<script>", f"text/html; charset={label}") == "\ufffd"
    assert decode_text(b"", f"text/html; charset={label}") == ""


@pytest.mark.parametrize("label", ["utf-7", "base64", "rot13", "hex", "uu", "bogus", "utf-32"])
def test_labels_the_standard_does_not_list_are_ignored(label: str) -> None:
    """Before: utf-7 was honoured (a way around XSS filters) and base64 raised LookupError."""
    assert codec_for_label(label) is None
    assert decode_text(b"+AGEAYgBj- caf\xc3\xa9", f"text/html; charset={label}") == \
        "+AGEAYgBj- caf\u00e9"


def test_labels_are_trimmed_of_ascii_white_space_and_case_folded() -> None:
    assert codec_for_label(" \tShift_JIS\n") == "cp932"
    assert codec_for_label("\u00a0utf-8") is None  # only ASCII white space is trimmed


def test_response_text_uses_the_standards_decoder_over_a_socket() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is None:
            return
        body = "\u2460 \uff5e".encode("cp932")
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
                          b"Content-Length: %d\r\n\r\n%b" % (len(body), body))

    with RawServer(handler) as server, Client() as client:
        assert client.get(server.url).text == "\u2460 \uff5e"
