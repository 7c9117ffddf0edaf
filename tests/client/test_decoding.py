"""Content-Encoding decoders, fed whole and in random splits; bombs; charsets."""

from __future__ import annotations

import contextlib
import gzip
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

from sockweb.client.decoding import (
    BodyTooLarge,
    Decoder,
    DecodingError,
    accept_encoding,
    charset_from_content_type,
    decode_text,
    make_decoder,
)
from sockweb.http.errors import SockwebError
from tests.wire import read_head

MB = 1024 * 1024
# Half incompressible, half very compressible: both code paths of every codec.
DATA = random.Random(7).randbytes(200_000) + b"sockweb decodes this line. " * 40_000


def splits(blob: bytes, seed: int, biggest: int = 9000) -> Iterator[bytes]:
    rng = random.Random(seed)
    i = 0
    while i < len(blob):
        n = rng.choice((1, 1, 2, 3, rng.randint(1, biggest)))
        yield blob[i : i + n]
        i += n


def run(decoder: Decoder, chunks: Iterable[bytes]) -> bytes:
    out = [decoder.decode(chunk) for chunk in chunks]
    out.append(decoder.flush())
    return b"".join(out)


def raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_round_trip_whole(coding: str) -> None:
    assert run(make_decoder(coding, max_size=None), [ENCODERS[coding](DATA)]) == DATA


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_round_trip_random_splits(coding: str, seed: int) -> None:
    blob = ENCODERS[coding](DATA)
    assert run(make_decoder(coding, max_size=None), splits(blob, seed)) == DATA


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_round_trip_one_byte_at_a_time(coding: str) -> None:
    data = DATA[:30_000] + DATA[-30_000:]
    blob = ENCODERS[coding](data)
    assert run(make_decoder(coding, max_size=None), [bytes([b]) for b in blob]) == data


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_deflate_raw_fallback(chunk: int) -> None:
    blob = raw_deflate(DATA)
    pieces = [blob[i : i + chunk] for i in range(0, len(blob), chunk)]
    assert run(make_decoder("deflate", max_size=None), pieces) == DATA


def test_gzip_several_members_rfc1952_section_2_2() -> None:
    blob = gzip.compress(b"first ") + gzip.compress(b"") + gzip.compress(b"second")
    for pieces in ([blob], [bytes([b]) for b in blob]):
        assert run(make_decoder("gzip", max_size=None), pieces) == b"first second"


@pytest.mark.parametrize("junk", [b"\x00", b"\x00" * 100, b"<html>oops</html>"])
def test_gzip_trailing_junk_after_a_member_is_ignored(junk: bytes) -> None:
    blob = gzip.compress(b"payload") + junk
    assert run(make_decoder("gzip", max_size=None), [blob]) == b"payload"
    assert run(make_decoder("gzip", max_size=None), [bytes([b]) for b in blob]) == b"payload"


def test_zstd_several_frames() -> None:
    cctx = zstandard.ZstdCompressor()
    blob = cctx.compress(b"one ") + cctx.compress(DATA) + cctx.compress(b" three")
    expected = b"one " + DATA + b" three"
    assert run(make_decoder("zstd", max_size=None), splits(blob, 1)) == expected


def test_zstd_window_over_rfc9659_limit_refused() -> None:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=24)
    big = random.Random(1).randbytes(MB) * 18  # a repeat 16 MiB back needs the window
    blob = zstandard.ZstdCompressor(compression_params=params).compress(big)
    with pytest.raises(DecodingError, match="zstd"):
        run(make_decoder("zstd", max_size=None), [blob])


def test_stacked_codings_rfc9110_section_8_4() -> None:
    # "gzip, br": gzip was applied first, so br comes off first.
    blob = brotli.compress(gzip.compress(DATA))
    assert run(make_decoder("gzip, br", max_size=None), splits(blob, 2)) == DATA
    blob = gzip.compress(zstandard.ZstdCompressor().compress(DATA))
    assert run(make_decoder(" zstd ,GZIP", max_size=None), [blob]) == DATA


def test_more_than_five_stacked_codings_refused_like_curl() -> None:
    """curl and urllib3 refuse a sixth coding: each is a decompressor feeding the next."""
    blob = b"five"
    for _ in range(5):
        blob = gzip.compress(blob)
    assert run(make_decoder(", ".join(["gzip"] * 5), max_size=None), [blob]) == b"five"
    assert run(make_decoder("identity, " * 9 + "gzip", max_size=None),
               [gzip.compress(b"x")]) == b"x"  # identity is no coding
    with pytest.raises(DecodingError, match="6 content codings"):
        make_decoder("gzip, br, gzip, zstd, gzip, deflate", max_size=None)


@pytest.mark.parametrize("value", [None, "", "identity", "Identity", " identity , "])
def test_identity_passes_through(value: str | None) -> None:
    decoder = make_decoder(value, max_size=None)
    assert decoder.codings == ()
    assert run(decoder, [b"abc", b"", b"def"]) == b"abcdef"


def stream(decoder: Decoder, chunks: Iterable[bytes]) -> list[bytes]:
    """The pieces iter_decode and iter_flush make, each read before the next call."""
    pieces = [piece for chunk in chunks for piece in decoder.iter_decode(chunk)]
    return pieces + list(decoder.iter_flush())


# The most one piece may hold: 64 KiB asked of zlib and brotli (brotli's buffer
# rounding lets it reach 96 KiB), one 128 KiB block of zstd (RFC 8878 3.1.1.2.4).
PIECE_BOUND = 128 * 1024
# 6 MiB that compress well (from 128 KiB of random bytes, 8 bits cut to 4), so
# one 64 KiB read decodes to many pieces.
BIG = bytes(b & 0x0F for b in random.Random(5).randbytes(128 * 1024)) * 48
# As ENCODERS, but brotli at quality 5: its default 11 takes seconds on BIG.
QUICK = {**ENCODERS, "br": lambda data: brotli.compress(data, quality=5)}


@pytest.mark.parametrize(
    "coding", ["gzip", "deflate", "br", "zstd", "gzip, gzip", "gzip, br", "zstd, deflate"]
)
def test_iter_decode_yields_bounded_pieces_rfc9110_section_8_4(coding: str) -> None:
    blob = BIG
    for name in coding.split(", "):  # applied in the order listed
        blob = QUICK[name](blob)
    chunks = [blob[i : i + 64 * 1024] for i in range(0, len(blob), 64 * 1024)]
    pieces = stream(make_decoder(coding, max_size=None), chunks)
    assert b"".join(pieces) == BIG
    assert max(map(len, pieces)) <= PIECE_BOUND
    assert len(pieces) >= len(BIG) // PIECE_BOUND
    assert b"" not in pieces


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_iter_decode_random_splits(coding: str) -> None:
    blob = ENCODERS[coding](DATA)
    for seed in range(2):
        assert b"".join(stream(make_decoder(coding, max_size=None), splits(blob, seed))) == DATA


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd", "gzip, gzip"])
def test_iter_decode_limit_refuses(coding: str) -> None:
    blob = BIG
    for name in coding.split(", "):
        blob = QUICK[name](blob)
    limit = 1 * MB
    decoder = make_decoder(coding, max_size=limit)
    got = 0
    with pytest.raises(BodyTooLarge):
        for piece in decoder.iter_decode(blob):
            got += len(piece)
    assert limit - PIECE_BOUND < got <= limit  # every byte handed on was within the limit
    with pytest.raises(DecodingError, match="after an error"):
        list(decoder.iter_decode(b""))


def test_iter_decode_abandoned_spends_the_decoder() -> None:
    decoder = make_decoder("gzip", max_size=None)
    pieces = decoder.iter_decode(gzip.compress(BIG))
    next(pieces)
    with pytest.raises(DecodingError, match="before its last pieces"):
        decoder.iter_decode(b"")
    pieces.close()
    with pytest.raises(DecodingError, match="after an error"):
        decoder.flush()


def test_decode_and_iter_decode_agree_on_identity() -> None:
    decoder = make_decoder(None, max_size=None)
    assert stream(decoder, [b"abc", b"", b"def"]) == [b"abc", b"def"]


def test_zstd_skippable_frame_and_block_split_at_every_byte() -> None:
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    skippable = struct.pack("<II", 0x184D2A5E, 7) + b"ignored"
    blob = skippable + cctx.compress(b"one ") + skippable + cctx.compress(DATA[:20_000])
    expected = b"one " + DATA[:20_000]
    assert b"".join(stream(make_decoder("zstd", max_size=None), [bytes([b]) for b in blob])) \
        == expected
    for cut in (3, 5, len(blob) - 3):  # in a magic number, a frame header, a checksum
        decoder = make_decoder("zstd", max_size=None)
        with pytest.raises(DecodingError, match="ended"):
            stream(decoder, [blob[:cut]])


def test_zstd_reserved_block_type_refused() -> None:
    blob = bytearray(zstandard.ZstdCompressor().compress(b"x" * 100))
    # Magic (4), a descriptor with a one-byte content size (2): the block header follows.
    blob[6] |= 0b110
    with pytest.raises(DecodingError, match="zstd"):
        run(make_decoder("zstd", max_size=None), [bytes(blob)])


def test_identity_still_bounded() -> None:
    decoder = make_decoder(None, max_size=5)
    assert decoder.decode(b"12345") == b"12345"
    with pytest.raises(BodyTooLarge):
        decoder.decode(b"6")


@pytest.mark.parametrize("value", ["compress", "x-compress", "gzip, lzma", "bzip2"])
def test_unknown_coding_named(value: str) -> None:
    name = value.split(",")[-1].strip()
    with pytest.raises(DecodingError, match=name):
        make_decoder(value, max_size=None)


def test_error_tree() -> None:
    assert issubclass(BodyTooLarge, DecodingError)
    assert issubclass(DecodingError, SockwebError)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_garbage_raises_decoding_error(coding: str) -> None:
    decoder = make_decoder(coding, max_size=None)
    with pytest.raises(DecodingError):
        run(decoder, [b"\x1f\x8b\x08\x00 this is not compressed at all" * 10])
    with pytest.raises(DecodingError, match="after an error"):
        decoder.decode(b"more")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_truncated_stream_raises_at_flush(coding: str) -> None:
    blob = ENCODERS[coding](DATA)
    decoder = make_decoder(coding, max_size=None)
    decoder.decode(blob[: len(blob) // 2])
    with pytest.raises(DecodingError, match="ended"):
        decoder.flush()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_empty_body_is_fine(coding: str) -> None:
    # HEAD responses and 204s may still carry Content-Encoding.
    assert run(make_decoder(coding, max_size=None), []) == b""


def test_max_size_exact_fit_is_allowed() -> None:
    blob = gzip.compress(DATA)
    assert run(make_decoder("gzip", max_size=len(DATA)), [blob]) == DATA
    with pytest.raises(BodyTooLarge):
        run(make_decoder("gzip", max_size=len(DATA) - 1), [blob])


def test_accept_encoding() -> None:
    assert accept_encoding() == "gzip, deflate, br, zstd"


# -- decompression bombs ------------------------------------------------------

ZEROS = bytes(MB)
BOMB_SIZE = 1024 * MB  # 1 GiB once decoded
LIMIT = 10 * MB


def gzip_bomb() -> Iterator[bytes]:
    obj = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for _ in range(BOMB_SIZE // MB):
        yield obj.compress(ZEROS)
    yield obj.flush()


def br_bomb() -> Iterator[bytes]:
    obj = brotli.Compressor(quality=5)
    for _ in range(BOMB_SIZE // MB):
        yield obj.process(ZEROS)
    yield obj.finish()


def zstd_bomb() -> Iterator[bytes]:
    obj = zstandard.ZstdCompressor(level=3).compressobj()
    for _ in range(BOMB_SIZE // MB):
        yield obj.compress(ZEROS)
    yield obj.flush()


BOMBS = {"gzip": gzip_bomb, "br": br_bomb, "zstd": zstd_bomb}


@pytest.fixture(scope="module")
def whole_bombs() -> dict[str, bytes]:
    """Each 1 GiB bomb built by streaming compression; only the small result is kept."""
    return {name: b"".join(make()) for name, make in BOMBS.items()}


def measure(decode: Callable[[], None]) -> tuple[int, float]:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(BodyTooLarge):
            decode()
        return tracemalloc.get_traced_memory()[1], time.monotonic() - started
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("coding", sorted(BOMBS))
def test_bomb_in_one_chunk_stops_at_max_size(coding: str, whole_bombs: dict[str, bytes]) -> None:
    blob = whole_bombs[coding]
    assert len(blob) < 2 * MB  # the whole bomb fits in a single read
    decoder = make_decoder(coding, max_size=LIMIT)
    peak, took = measure(lambda: run(decoder, [blob]))
    # The limit plus a few 64 KiB pieces, never the gigabyte.
    assert peak < LIMIT + 5 * MB, f"peak {peak / MB:.1f} MiB"
    assert took < 5


@pytest.mark.parametrize("coding", sorted(BOMBS))
def test_bomb_streamed_stops_early(coding: str) -> None:
    fed = 0

    def chunks() -> Iterator[bytes]:
        nonlocal fed
        for chunk in BOMBS[coding]():
            for i in range(0, len(chunk), 16 * 1024):
                fed += 1
                yield chunk[i : i + 16 * 1024]

    decoder = make_decoder(coding, max_size=LIMIT)
    peak, took = measure(lambda: run(decoder, chunks()))
    assert peak < LIMIT + 5 * MB, f"peak {peak / MB:.1f} MiB"
    assert took < 5
    assert fed < 20  # stopped within the first few chunks of a 1 GiB body


def test_stacked_bomb_stops_at_max_size(whole_bombs: dict[str, bytes]) -> None:
    # The gzip bomb under br: the outer layer expands little, the inner a lot.
    blob = brotli.compress(whole_bombs["gzip"], quality=1)
    decoder = make_decoder("gzip, br", max_size=LIMIT)
    peak, _ = measure(lambda: run(decoder, [blob]))
    assert peak < LIMIT + 6 * MB, f"peak {peak / MB:.1f} MiB"


# -- charsets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "charset"),
    [
        ("text/html; charset=UTF-8", "utf-8"),
        ("text/html;charset=utf-8", "utf-8"),
        ('text/plain; format=flowed; Charset="ISO-8859-1"', "iso-8859-1"),
        ("text/plain; charset = koi8-r ; x=y", "koi8-r"),
        ("text/plain", None),
        ("text/plain; charset=", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_from_content_type(value: str | None, charset: str | None) -> None:
    assert charset_from_content_type(value) == charset


def test_charset_parameter_wins() -> None:
    assert decode_text("Привет".encode("koi8-r"), "text/plain; charset=koi8-r") == "Привет"


def test_unknown_charset_falls_through_to_utf8() -> None:
    assert decode_text("é".encode(), "text/plain; charset=no-such-thing") == "é"


@pytest.mark.parametrize("label", ["iso-8859-1", "latin1", "US-ASCII", "windows-1252"])
def test_latin1_labels_mean_windows_1252_whatwg(label: str) -> None:
    # 0x80 is the euro sign in windows-1252 and a C1 control in real latin-1.
    assert decode_text(b"\x80 caf\xe9", f"text/plain; charset={label}") == "\u20ac café"


def test_windows_1252_undefined_bytes_become_c1_controls() -> None:
    assert decode_text(b"\x81\x8d\x8f\x90\x9d\x9f", "text/plain; charset=cp1252") == (
        "\x81\x8d\x8f\x90\x9d\u0178"
    )


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"\xef\xbb\xbfhello \xc3\xa9", "hello é"),
        ("\ufeffhello é".encode("utf-16-le"), "hello é"),
        ("\ufeffhello é".encode("utf-16-be"), "hello é"),
    ],
)
def test_bom_sniffing(content: bytes, text: str) -> None:
    assert decode_text(content, None) == text
    # A BOM outranks a stale label (WHATWG "decode").
    assert decode_text(content, "text/plain; charset=iso-8859-1") == text


@pytest.mark.parametrize(
    "meta",
    [
        b'<meta charset="koi8-r">',
        b"<META CHARSET=koi8-r>",
        b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">',
    ],
)
def test_html_meta_charset(meta: bytes) -> None:
    content = (
        b"<!doctype html><html><head>"
        + meta
        + b"</head><body>"
        + ("Привет".encode("koi8-r") + b"</body></html>")
    )
    assert "Привет" in decode_text(content, "text/html")
    # Only HTML is searched for <meta>, and only its first 1024 bytes.
    assert "Привет" not in decode_text(content, "text/plain")
    late = b"<html>" + b" " * 1100 + content
    assert "Привет" not in decode_text(late, "text/html")


def test_meta_claiming_utf16_means_utf8() -> None:
    content = b'<meta charset="utf-16"><p>caf\xc3\xa9</p>'
    assert "café" in decode_text(content, "text/html")


def test_utf8_then_windows_1252_fallback() -> None:
    assert decode_text("naïve ☃".encode(), None) == "naïve ☃"
    assert decode_text(b"na\xefve \x93quoted\x94", "text/plain") == "naïve \u201cquoted\u201d"


def test_invalid_bytes_in_declared_charset_replaced() -> None:
    assert decode_text(b"ok \xff", "text/plain; charset=utf-8") == "ok \ufffd"


def test_os_urandom_text_never_raises() -> None:
    for content_type in (None, "text/html", "text/plain; charset=utf-8", "text/x; charset=bogus"):
        decode_text(os.urandom(5000), content_type)


# -- a bomb over a real socket, with no limit ------------------------------------

STACKED_SIZE = 256 * MB  # decoded; 256 KiB of gzip, then some 600 bytes of "gzip, gzip"


@pytest.fixture(scope="module")
def stacked_bomb() -> bytes:
    """``Content-Encoding: gzip, gzip`` over 256 MiB of zeros, built without holding them."""
    inner = b"".join(gzip_bomb_of(STACKED_SIZE))
    return gzip.compress(inner, 9)


def gzip_bomb_of(size: int) -> Iterator[bytes]:
    obj = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for _ in range(size // MB):
        yield obj.compress(ZEROS)
    yield obj.flush()


@pytest.fixture
def bomb_url(stacked_bomb: bytes) -> Iterator[str]:
    """A raw-socket server on an ephemeral port answering every request with the bomb."""
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Encoding: gzip, gzip\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(stacked_bomb))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # to see `stop` soon: closing does not wake accept()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:  # the timeout
                continue
            conn.settimeout(10)
            with conn:
                read_head(conn)
                with contextlib.suppress(OSError):  # the client may hang up early
                    conn.sendall(head + stacked_bomb)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/bomb"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_stacked_bomb_over_a_socket_streams_in_bounded_memory(bomb_url: str) -> None:
    """No max_size, as `sockweb get` has by default: 256 MiB pass in a few MiB."""
    from sockweb.client.api import Client

    tracemalloc.start()
    started = time.monotonic()
    try:
        total = 0
        largest = 0
        with Client(max_content_size=None) as client, \
                client.stream("GET", bomb_url) as response:
            assert response.headers["content-encoding"] == "gzip, gzip"
            decoder = make_decoder(response.headers["content-encoding"], max_size=None)
            for chunk in response.iter_raw():
                for piece in decoder.iter_decode(chunk):
                    total += len(piece)
                    largest = max(largest, len(piece))
            for piece in decoder.iter_flush():
                total += len(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == STACKED_SIZE
    assert largest <= PIECE_BOUND
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MiB"
    assert time.monotonic() - started < 5


def test_sockweb_get_of_a_stacked_bomb_peaks_small(bomb_url: str) -> None:
    """`python -m sockweb.cli get URL > /dev/null`, its peak RSS measured by a parent
    that runs nothing else (curl --compressed peaks at 11 MB on a 1 GiB bomb)."""
    measure_child = (
        "import resource, subprocess, sys\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", measure_child, sys.executable, "-m", "sockweb.cli", "get",
         bomb_url],
        capture_output=True, text=True, timeout=60, check=True,
    )
    rc, maxrss_kib = map(int, done.stdout.split())
    assert rc == 0, done.stderr
    assert maxrss_kib < 64 * 1024, f"peak RSS {maxrss_kib / 1024:.0f} MiB"
    assert time.monotonic() - started < 10
