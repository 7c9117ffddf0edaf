"""Undo Content-Encoding as the body streams in, and turn bytes into text.

Decoding (RFC 9110 section 8.4, Content-Encoding)::

    make_decoder("gzip, br", max_size=N).iter_decode(chunk)
        chunk -> [br stage] -> [gzip stage] -> meter -> pieces of decoded bytes

A coding list names the codings in the order they were applied, so the
stages run in reverse (section 8.4: "listed in the order in which they were
applied"). Each stage is a generator that turns one input into pieces of at
most ``_PIECE`` bytes (a zstd piece is one block, at most 128 KiB), asking
its library for one piece at a time; the next stage consumes a piece before
the one above makes another, and the meter at the end counts them against
``max_size``. So the memory one step takes is a piece per stage plus the
libraries' windows, however far the body expands and whether or not there
is a limit: a 1 GiB "gzip, gzip" bomb streams through in a few MiB.

``iter_decode`` and ``iter_flush`` are that stream. ``decode`` and ``flush``
join what one input decodes to, for callers that want a ``bytes``: that is
bounded only by ``max_size``, so a caller without a limit should iterate.

Text (``decode_text``) follows the WHATWG encoding sniffing order, cut down
to what a client without a parser can do: BOM, Content-Type charset, an HTML
``<meta>`` in the first 1024 bytes, strict UTF-8, then windows-1252.
"""

from __future__ import annotations

import codecs
import io
import re
import sys
from collections.abc import Iterator

from ..http.errors import SockwebError

# zlib, brotli and zstandard are imported by the first body coded with them:
# most responses are not, and the three cost a `sockweb get` 6 ms to import.

# The most a zlib or br stage asks its library for in one call. A piece is
# what one step of decoding holds per stage, and what max_size is overshot by
# at most; 64 KiB is the connection's read size, so a normal body takes a
# handful of calls per read and no piece is slower to hand on than a read.
_PIECE = 64 * 1024
# RFC 8878 section 3.1.1.2.4: no zstd block decodes to more than 128 KiB.
# zstandard has no output limit per call, so the zstd stage feeds its library
# one block at a time and this is the most one call can make.
_ZSTD_MAX_BLOCK = 128 * 1024
# RFC 9659 section 3: a zstd content coding may need at most an 8 MiB window;
# a frame asking for more is refused instead of allocating what it asks.
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024
# Content codings stacked on one body: each is a stage that feeds the next, so
# thousands of "gzip, gzip, ..." would nest calls past Python's limit (and cost
# a decompressor each). curl (since 7.88, CVE-2023-23916) and urllib3 refuse
# more than five; so does sockweb.
MAX_CODINGS = 5


class DecodingError(SockwebError):
    """The body is not valid in its declared Content-Encoding."""

    exit_code = 61  # curl: "Unrecognized transfer encoding"


class BodyTooLarge(DecodingError):
    """The decoded body passed the size the caller allowed."""

    exit_code = 63  # curl: "Maximum file size exceeded"


class _Stage:
    """One content coding undone, one bounded piece at a time.

    ``decode`` and ``finish`` are generators; each must be run to its end
    before the stage is given anything else (the Decoder sees to that).
    """

    name = ""

    def decode(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def finish(self) -> Iterator[bytes]:
        raise NotImplementedError

    def _truncated(self) -> DecodingError:
        return DecodingError(f"{self.name} body ended before its compressed stream did")


class _Zlib(_Stage):
    """gzip (RFC 1952, several members allowed) and deflate (RFC 1950 or raw)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name == "gzip"
        import zlib

        self._zlib = zlib
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip else None
        self._fed = False
        self._head = b""  # deflate only: the bytes seen before the wrapper is known
        self._later_member = False
        self._member_output = False
        self._ignoring = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if self._obj is None:
            # Servers have long sent raw deflate under "deflate" and browsers
            # accept both; the RFC 1950 header's CM and FCHECK tell them apart.
            self._head += data
            if len(self._head) < 2:
                return
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            wbits = self._zlib.MAX_WBITS
            self._obj = self._zlib.decompressobj(wbits if wrapped else -wbits)
            data, self._head = self._head, b""
        zlib = self._zlib
        obj = self._obj
        while not self._ignoring:
            if obj.eof:
                if not data:
                    return
                if not self._gzip:
                    raise DecodingError("data after the end of the deflate stream")
                # RFC 1952 section 2.2: a gzip file is a series of members.
                obj = self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._later_member, self._member_output = True, False
            try:
                # At most a piece: the input zlib did not reach waits in
                # unconsumed_tail for the next call.
                out = obj.decompress(data, _PIECE)
            except zlib.error as exc:
                if self._later_member and not self._member_output:
                    # Padding or junk after a complete member, as urllib3 also
                    # tolerates: the body before it is whole.
                    self._ignoring = True
                    return
                raise DecodingError(f"invalid {self.name} data: {exc}") from exc
            if out:
                self._member_output = True
                yield out
            if obj.eof:
                data = obj.unused_data
            else:
                data = obj.unconsumed_tail
                # A full piece may leave output inside zlib with no input left.
                if not data and len(out) < _PIECE:
                    return

    def finish(self) -> Iterator[bytes]:
        if not self._fed or self._ignoring:
            return
        if self._obj is None or not self._obj.eof:
            if self._later_member and not self._member_output:
                return  # a stub of trailing junk too short for zlib to refuse
            raise self._truncated()
        yield from ()


class _Brotli(_Stage):
    name = "br"

    def __init__(self) -> None:
        import brotli  # type: ignore[import-untyped]  # ships no type information

        self._error = brotli.error
        self._obj = brotli.Decompressor()
        self._fed = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        obj = self._obj
        if data and obj.is_finished():
            raise DecodingError("data after the end of the br stream")
        try:
            # brotli keeps the input it could not decode within the limit;
            # until it has neither that nor output, ask for another piece.
            out = obj.process(data, output_buffer_limit=_PIECE)
            while out or not obj.can_accept_more_data():
                if out:
                    yield out
                out = obj.process(b"", output_buffer_limit=_PIECE)
        except self._error as exc:
            raise DecodingError(f"invalid br data: {exc}") from exc

    def finish(self) -> Iterator[bytes]:
        if self._fed and not self._obj.is_finished():
            raise self._truncated()
        yield from ()


# What the zstd stage reads next, and how many bytes it is (RFC 8878 section 3.1).
_MAGIC, _FRAME_HEADER, _SKIPPABLE_SIZE, _BLOCK_HEADER = range(4)
_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MAGIC = 0x184D2A50  # the low four bits are free
_DID_SIZE = (0, 1, 2, 4)  # Frame_Header_Descriptor's Dictionary_ID_flag -> bytes


class _Zstd(_Stage):
    """zstd (RFC 8878), any number of frames back to back, skippable ones too.

    zstandard's decompressobj returns all that its input decodes to, however
    much: there is no max_length as zlib has. So this stage reads the frame
    and block headers itself, just their sizes, and hands zstandard the input
    one block at a time; RFC 8878 caps a block's output at 128 KiB. Knowing
    where frames end also tells a cut-short body from a whole one.
    """

    name = "zstd"

    def __init__(self) -> None:
        import zstandard

        self._error = zstandard.ZstdError
        self._obj = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW).decompressobj(
            write_size=_PIECE, read_across_frames=True)
        self._next, self._want = _MAGIC, 4  # the next header and its size
        self._head = b""  # that header's bytes so far
        self._skip = 0  # bytes before it: frame header rest, block content, checksum
        self._block_end = False  # the skip ends a block: a place to cut
        self._checksum = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        start = pos = 0
        end = len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                pos += step
                self._skip -= step
            else:
                take = min(self._want - len(self._head), end - pos)
                self._head += data[pos : pos + take]
                pos += take
                if len(self._head) == self._want:
                    self._read_head()
            if self._block_end and not self._skip:
                self._block_end = False
                yield from self._run(view[start:pos])
                start = pos
        if start < end:
            yield from self._run(view[start:])

    def _read_head(self) -> None:
        head, kind = self._head, self._next
        self._head = b""
        if kind == _BLOCK_HEADER:
            value = int.from_bytes(head, "little")
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            if kind == 3 or size > _ZSTD_MAX_BLOCK:
                raise DecodingError("invalid zstd data: bad block header")
            # A raw or compressed block's content is its size; an RLE block's is one byte.
            self._skip = 1 if kind == 1 else size
            self._block_end = True
            if last:
                self._skip += 4 * self._checksum
                self._next, self._want = _MAGIC, 4
        elif kind == _MAGIC:
            magic = int.from_bytes(head, "little")
            if magic == _ZSTD_MAGIC:
                self._next, self._want = _FRAME_HEADER, 1
            elif magic & ~0xF == _SKIPPABLE_MAGIC:
                self._next, self._want = _SKIPPABLE_SIZE, 4
            else:
                raise DecodingError("invalid zstd data: no frame starts here")
        elif kind == _FRAME_HEADER:
            descriptor = head[0]
            single_segment = descriptor >> 5 & 1
            fcs = descriptor >> 6
            self._checksum = bool(descriptor >> 2 & 1)
            self._skip = (1 - single_segment + _DID_SIZE[descriptor & 3]
                          + (single_segment if fcs == 0 else 1 << fcs))
            self._next, self._want = _BLOCK_HEADER, 3
        else:  # _SKIPPABLE_SIZE: user data zstandard passes over
            self._skip = int.from_bytes(head, "little")
            self._next, self._want = _MAGIC, 4

    def _run(self, data: memoryview) -> Iterator[bytes]:
        try:
            out = self._obj.decompress(data)
        except self._error as exc:
            raise DecodingError(f"invalid zstd data: {exc}") from exc
        if out:
            yield out

    def finish(self) -> Iterator[bytes]:
        if self._skip or self._head or self._next != _MAGIC:
            raise self._truncated()
        yield from ()


class Decoder:
    """Undoes the content codings of one body.

    Stream it: ``iter_decode`` each chunk and ``iter_flush`` at the end, each
    run to its end before the next call; or ``decode`` each chunk and then
    ``flush``, which join those pieces. A Decoder that raised, or whose
    pieces were abandoned half read, is spent: the libraries' state is
    undefined then, so later calls raise DecodingError rather than guess.
    """

    def __init__(self, codings: list[str], max_size: int | None) -> None:
        self.codings = tuple(codings)
        self._max_size = max_size
        self._total = 0
        self._broken = False
        self._busy = False
        # In decoding order: the last coding applied comes off first.
        self._stages = [_make_stage(name) for name in reversed(codings)]

    def iter_decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data``, each at most 128 KiB (or ``data`` itself,
        for a body with no coding), made one at a time as they are asked for."""
        self._guard()
        if not self._stages:
            self._count(len(data))
            return iter((data,)) if data else iter(())
        return self._metered(self._stages[0].decode(data), final=False)

    def iter_flush(self) -> Iterator[bytes]:
        """The last decoded pieces; raises DecodingError if a stream was cut short."""
        self._guard()
        if not self._stages:
            return iter(())
        return self._metered(self._stages[0].finish(), final=True)

    def decode(self, data: bytes) -> bytes:
        """All that ``data`` decodes to, joined: bounded only by max_size."""
        if not self._stages:
            self._guard()
            self._count(len(data))
            return data
        return _join(self.iter_decode(data))

    def flush(self) -> bytes:
        """The last decoded bytes, joined; raises DecodingError if a stream was cut short."""
        return _join(self.iter_flush())

    def _metered(self, pieces: Iterator[bytes], final: bool) -> Iterator[bytes]:
        for stage in self._stages[1:]:
            pieces = _through(stage, pieces, final)
        self._busy = True
        done = False
        try:
            for piece in pieces:
                self._count(len(piece))
                yield piece
            done = True
        finally:
            self._busy = False
            # An error, or pieces left unread (GeneratorExit): the stages
            # stopped somewhere in the middle of their input.
            self._broken = self._broken or not done

    def _count(self, size: int) -> None:
        self._total += size
        if self._max_size is not None and self._total > self._max_size:
            self._broken = True
            raise BodyTooLarge(f"decoded body larger than {self._max_size} bytes")

    def _guard(self) -> None:
        if self._broken:
            raise DecodingError("decoder used again after an error")
        if self._busy:
            self._broken = True
            raise DecodingError("decoder given more before its last pieces were read")


def _through(stage: _Stage, pieces: Iterator[bytes], final: bool) -> Iterator[bytes]:
    """``stage`` applied to each piece of the stage above, as each is made."""
    for piece in pieces:
        yield from stage.decode(piece)
    if final:
        yield from stage.finish()


def _join(pieces: Iterator[bytes]) -> bytes:
    first = next(pieces, b"")
    second = next(pieces, None)
    if second is None:
        return first
    # A BytesIO rather than a list to join: getvalue() hands over its buffer
    # without a copy, so a large output is never held twice.
    out = io.BytesIO()
    out.write(first)
    out.write(second)
    for piece in pieces:
        out.write(piece)
    return out.getvalue()


def _make_stage(name: str) -> _Stage:
    if name in ("gzip", "deflate"):
        return _Zlib(name)
    try:
        if name == "br":
            return _Brotli()
        if name == "zstd":
            return _Zstd()
    except ImportError:  # pragma: no cover - brotli and zstandard are declared dependencies
        pass
    raise DecodingError(f"unsupported content coding {name!r}")


def make_decoder(content_encoding: str | None, *, max_size: int | None) -> Decoder:
    """A Decoder for a Content-Encoding value; DecodingError for a coding we lack."""
    names = [c.strip().lower() for c in (content_encoding or "").split(",")]
    # "x-gzip" is RFC 9110 section 8.4.1.3's alias; identity changes nothing.
    codings = ["gzip" if n == "x-gzip" else n for n in names if n and n != "identity"]
    if len(codings) > MAX_CODINGS:
        raise DecodingError(f"the response has {len(codings)} content codings; "
                            f"more than {MAX_CODINGS} are refused, as curl does")
    return Decoder(codings, max_size)


_accept_encoding: str | None = None


def accept_encoding() -> str:
    """The Accept-Encoding value for the codings this interpreter can undo.

    Whether brotli and zstandard are installed is asked of the import system
    without importing them (they load with the first body that needs them).
    """
    global _accept_encoding
    if _accept_encoding is None:
        from importlib.machinery import PathFinder

        names = ["gzip", "deflate"]
        names += [coding for coding, module in (("br", "brotli"), ("zstd", "zstandard"))
                  if module in sys.modules or PathFinder.find_spec(module) is not None]
        _accept_encoding = ", ".join(names)
    return _accept_encoding


# -- text -----------------------------------------------------------------------

# Compiled on first use (through re's cache), not on import.
_CHARSET_PARAM = r""";\s*charset\s*=\s*(?:"([^"]*)"|([^\s;,"]+))"""
_META_CHARSET = rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)"""
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# windows-1252 as WHATWG defines it: Python's cp1252 refuses the five bytes
# 0x81 0x8D 0x8F 0x90 0x9D, which the web maps to the C1 controls instead.
_windows_1252: dict[int, str] | None = None


def _windows_1252_table() -> dict[int, str]:
    global _windows_1252
    if _windows_1252 is None:  # built on first use: it loads the cp1252 codec
        _windows_1252 = {
            b: bytes([b]).decode("cp1252")
            for b in range(0x80, 0xA0)
            if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
        }
    return _windows_1252


def charset_from_content_type(value: str | None) -> str | None:
    """The charset parameter of a Content-Type value, lower-cased, or None."""
    if not value:
        return None
    match = re.search(_CHARSET_PARAM, value, re.IGNORECASE)
    if match is None:
        return None
    label = (match.group(1) if match.group(1) is not None else match.group(2)).strip().lower()
    return label or None


def _codec(label: str | None) -> str | None:
    from .charsets import codec_for_label

    return codec_for_label(label)


def _decode(content: bytes, codec: str) -> str:
    if codec == "windows-1252":
        return content.decode("latin-1").translate(_windows_1252_table())
    if codec == "replacement":  # WHATWG: the whole body is one U+FFFD
        return "\ufffd" if content else ""
    if codec == "x-user-defined":  # bytes 0x80-0xFF are U+F780-U+F7FF
        return content.decode("latin-1").translate({b: 0xF700 + b for b in range(0x80, 0x100)})
    from . import charsets

    if codec == "gb18030":
        return content.decode(codec, errors=charsets.GB18030_ERRORS)
    if codec in charsets.C1_CODECS:
        return content.decode(codec, errors=charsets.C1_ERRORS)
    if codec == "koi8-u":
        return content.decode(codec).translate(charsets.KOI8_U_FIX)
    return content.decode(codec, errors="replace")


def decode_text(content: bytes, content_type: str | None) -> str:
    """The body as text, its encoding found the way a browser would find it."""
    # A BOM outranks the label (WHATWG "decode"): it cannot be there by chance,
    # while a stale charset in a server's configuration is common.
    for bom, bom_codec in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(bom_codec, errors="replace")
    codec = _codec(charset_from_content_type(content_type))
    if codec is None and content_type is not None and "html" in content_type.lower():
        match = re.search(_META_CHARSET, content[:1024], re.IGNORECASE)
        if match is not None:
            codec = _codec(match.group(1).decode("ascii"))
            # A byte-oriented <meta> cannot truly announce UTF-16 (WHATWG).
            if codec is not None and codec.startswith("utf-16"):
                codec = "utf-8"
    if codec is not None:
        return _decode(content, codec)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return _decode(content, "windows-1252")
