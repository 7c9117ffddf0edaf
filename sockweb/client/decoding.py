"""Undo Content-Encoding as the body streams in, and turn bytes into text.

Decoding (RFC 9110 section 8.4)::

    make_decoder("gzip, br", max_size=N)
        raw chunk -> [br stage] -> [gzip stage] -> meter -> decoded bytes

A coding list names the codings in the order they were applied, so the
stages run in reverse. Every stage pushes its output downstream in pieces of
at most ``_PIECE`` bytes the moment the library produces them, and the meter
at the end counts them against ``max_size``. A decompression bomb therefore
costs at most ``max_size`` plus a piece per stage before BodyTooLarge is
raised: no stage ever holds the whole expansion of even one input chunk.

Text (``decode_text``) follows the WHATWG encoding sniffing order, cut down
to what a client without a parser can do: BOM, Content-Type charset, an HTML
``<meta>`` in the first 1024 bytes, strict UTF-8, then windows-1252.
"""

from __future__ import annotations

import codecs
import io
import re
import sys
from collections.abc import Callable

from ..http.errors import SockwebError

# zlib, brotli and zstandard are imported by the first body coded with them:
# most responses are not, and the three cost a `sockweb get` 6 ms to import.

# The most a stage emits per library call. Overshooting max_size by one piece
# is harmless, and 64 KiB keeps a normal body to a handful of calls per chunk.
_PIECE = 64 * 1024
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


_Sink = Callable[[bytes], None]


class _Stage:
    """One content coding undone; pushes decoded pieces into ``sink``."""

    name = ""

    def __init__(self, sink: _Sink) -> None:
        self._sink = sink
        self._fed = False

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def _truncated(self) -> DecodingError:
        return DecodingError(f"{self.name} body ended before its compressed stream did")


class _Zlib(_Stage):
    """gzip (RFC 1952, several members allowed) and deflate (RFC 1950 or raw)."""

    def __init__(self, sink: _Sink, name: str) -> None:
        super().__init__(sink)
        self.name = name
        self._gzip = name == "gzip"
        import zlib

        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip else None
        self._head = b""  # deflate only: the bytes seen before the wrapper is known
        self._later_member = False
        self._member_output = False
        self._ignoring = False

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        if self._obj is None:
            import zlib

            # Servers have long sent raw deflate under "deflate" and browsers
            # accept both; the RFC 1950 header's CM and FCHECK tell them apart.
            self._head += data
            if len(self._head) < 2:
                return
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        self._run(data)

    def _run(self, data: bytes) -> None:
        import zlib

        obj = self._obj
        assert obj is not None
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
                self._sink(out)
            if obj.eof:
                data = obj.unused_data
            else:
                data = obj.unconsumed_tail
                # A full piece may leave output inside zlib with no input left.
                if not data and len(out) < _PIECE:
                    return

    def finish(self) -> None:
        if not self._fed or self._ignoring:
            return
        if self._obj is None or not self._obj.eof:
            if self._later_member and not self._member_output:
                return  # a stub of trailing junk too short for zlib to refuse
            raise self._truncated()


class _Brotli(_Stage):
    name = "br"

    def __init__(self, sink: _Sink) -> None:
        super().__init__(sink)
        import brotli  # type: ignore[import-untyped]  # ships no type information

        self._brotli = brotli
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        obj = self._obj
        if data and obj.is_finished():
            raise DecodingError("data after the end of the br stream")
        try:
            out = obj.process(data, output_buffer_limit=_PIECE)
            # The decoder may hold output after taking all input: drain it
            # piece by piece until it has neither output nor unread input.
            while out or not obj.can_accept_more_data():
                if out:
                    self._sink(out)
                out = obj.process(b"", output_buffer_limit=_PIECE)
        except self._brotli.error as exc:
            raise DecodingError(f"invalid br data: {exc}") from exc

    def finish(self) -> None:
        if self._fed and not self._obj.is_finished():
            raise self._truncated()


class _Zstd(_Stage):
    """zstd (RFC 8878), any number of frames back to back.

    zstandard's decompressobj() returns a chunk's whole expansion at once, so
    the writer interface is used instead: it hands each ``write_size`` piece
    to our sink as it is made, and the meter downstream can stop it there.
    zstandard does not say where a frame ends, so a truncated zstd body cannot
    be told from a complete one: the transfer framing has to catch that.
    """

    name = "zstd"

    def __init__(self, sink: _Sink) -> None:
        super().__init__(sink)
        import zstandard

        self._error = zstandard.ZstdError
        decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        # Only write() is asked of the sink: this object, not a real IO.
        self._writer = decompressor.stream_writer(
            self, write_size=_PIECE, write_return_read=True  # type: ignore[arg-type]
        )

    def write(self, piece: bytes) -> int:
        self._sink(bytes(piece))
        return len(piece)

    def feed(self, data: bytes) -> None:
        if not data:
            return
        try:
            self._writer.write(data)
        except self._error as exc:
            raise DecodingError(f"invalid zstd data: {exc}") from exc

    def finish(self) -> None:
        pass


class Decoder:
    """Undoes the content codings of one body; ``decode`` each chunk, then ``flush``.

    A Decoder that raised is spent: the libraries' state is undefined after
    an error, so later calls raise DecodingError again rather than guess.
    """

    def __init__(self, codings: list[str], max_size: int | None) -> None:
        self.codings = tuple(codings)
        self._max_size = max_size
        # A BytesIO rather than a list to join: getvalue() hands over its
        # buffer without a copy, so a large output is never held twice.
        self._out = io.BytesIO()
        self._total = 0
        self._broken = False
        # Built innermost first, so each stage's sink is the stage applied
        # before it; kept in decoding order, the last coding applied first.
        self._stages: list[_Stage] = []
        sink: _Sink = self._meter
        for name in codings:
            stage = _make_stage(name, sink)
            self._stages.insert(0, stage)
            sink = stage.feed

    def _count(self, size: int) -> None:
        self._total += size
        if self._max_size is not None and self._total > self._max_size:
            raise BodyTooLarge(f"decoded body larger than {self._max_size} bytes")

    def _meter(self, piece: bytes) -> None:
        self._count(len(piece))
        self._out.write(piece)

    def decode(self, data: bytes) -> bytes:
        self._guard()
        try:
            if not self._stages:
                self._count(len(data))
                return data
            self._stages[0].feed(data)
        except BaseException:
            self._fail()
            raise
        return self._take()

    def flush(self) -> bytes:
        """The last decoded bytes; raises DecodingError if a stream was cut short."""
        self._guard()
        try:
            for stage in self._stages:
                stage.finish()
        except BaseException:
            self._fail()
            raise
        return self._take()

    def _guard(self) -> None:
        if self._broken:
            raise DecodingError("decoder used again after an error")

    def _fail(self) -> None:
        self._broken = True
        self._out = io.BytesIO()

    def _take(self) -> bytes:
        if not self._out.tell():
            return b""
        out = self._out.getvalue()
        self._out = io.BytesIO()
        return out


def _make_stage(name: str, sink: _Sink) -> _Stage:
    if name in ("gzip", "deflate"):
        return _Zlib(sink, name)
    try:
        if name == "br":
            return _Brotli(sink)
        if name == "zstd":
            return _Zstd(sink)
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
# The WHATWG Encoding Standard folds these labels into another encoding:
# servers that say latin-1 or ascii mean windows-1252 in practice.
_WHATWG_LABELS = {
    label: codec
    for codec, labels in (
        (
            "windows-1252",
            "iso-8859-1 iso8859-1 iso_8859-1 latin1 latin-1 l1 cp819 ibm819 iso-ir-100"
            " csisolatin1 us-ascii ascii ansi_x3.4-1968 windows-1252 cp1252 x-cp1252",
        ),
        ("cp1254", "iso-8859-9 iso8859-9 latin5 l5"),
        ("cp874", "iso-8859-11 tis-620"),
        ("gbk", "gb2312 gb_2312-80 x-gbk"),
        # Without a BOM, Python's "utf-16" would guess the machine's byte order.
        ("utf-16-le", "utf-16"),
    )
    for label in labels.split()
}
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
    if not label:
        return None
    label = label.strip().lower()
    label = _WHATWG_LABELS.get(label, label)
    if label == "windows-1252":
        return label
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode(content: bytes, codec: str) -> str:
    if codec == "windows-1252":
        return content.decode("latin-1").translate(_windows_1252_table())
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
