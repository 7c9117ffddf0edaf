"""Character encoding labels, as the WHATWG Encoding Standard reads them.

A page or a server names its encoding with a label (``charset=`` in
Content-Type, ``<meta charset>``). Browsers know a fixed list of labels, and
several name another encoding than Python's codec of the same name would:

* ``shift_jis`` is decoded as Windows-31J (cp932: the NEC and IBM rows that
  pages use: circled digits, the fullwidth tilde), ``euc-kr`` as
  windows-949, ``big5`` as Big5-HKSCS, and ``gb2312``/``gbk`` with the
  gb18030 decoder (the euro sign at 0x80);
* ``iso-8859-1``, ``ascii`` and ``latin1`` mean windows-1252;
* ``iso-2022-kr``, ``iso-2022-cn`` and ``hz-gb-2312`` are the "replacement"
  encoding: the whole body decodes to one U+FFFD (they hid script from
  filters);
* any other label is no encoding: Python's ``utf-7`` (a way around an XSS
  filter), ``base64`` or ``rot13`` must not be honoured because a page says so.

The table is the standard's (section 4.2, "Names and labels"), each
encoding mapped to the Python codec that decodes it.
"""

from __future__ import annotations

import codecs

__all__ = ["C1_CODECS", "C1_ERRORS", "GB18030_ERRORS", "KOI8_U_FIX", "REPLACEMENT",
           "WINDOWS_1252", "X_USER_DEFINED", "codec_for_label"]

REPLACEMENT = "replacement"
WINDOWS_1252 = "windows-1252"  # decoded by client.decoding, cp1252 being narrower
X_USER_DEFINED = "x-user-defined"

_ENCODINGS = (
    ("utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"),
    ("cp866", "866 cp866 csibm866 ibm866"),
    ("iso8859-2", "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2"
                  " iso_8859-2:1987 l2 latin2"),
    ("iso8859-3", "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3"
                  " iso_8859-3:1988 l3 latin3"),
    ("iso8859-4", "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4"
                  " iso_8859-4:1988 l4 latin4"),
    ("iso8859-5", "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595"
                  " iso_8859-5 iso_8859-5:1988"),
    ("iso8859-6", "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114"
                  " iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596"
                  " iso_8859-6 iso_8859-6:1987"),
    ("iso8859-7", "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126"
                  " iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek"),
    # ISO-8859-8 and ISO-8859-8-I differ only in how text is laid out, not decoded.
    ("iso8859-8", "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138"
                  " iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual"
                  " csiso88598i iso-8859-8-i logical"),
    ("iso8859-10", "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6"),
    ("iso8859-13", "iso-8859-13 iso8859-13 iso885913"),
    ("iso8859-14", "iso-8859-14 iso8859-14 iso885914"),
    ("iso8859-15", "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9"),
    ("iso8859-16", "iso-8859-16"),
    ("koi8-r", "cskoi8r koi koi8 koi8-r koi8_r"),
    ("koi8-u", "koi8-ru koi8-u"),
    ("mac-roman", "csmacintosh mac macintosh x-mac-roman"),
    ("cp874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"),
    ("cp1250", "cp1250 windows-1250 x-cp1250"),
    ("cp1251", "cp1251 windows-1251 x-cp1251"),
    (WINDOWS_1252, "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1"
                   " iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1"
                   " us-ascii windows-1252 x-cp1252"),
    ("cp1253", "cp1253 windows-1253 x-cp1253"),
    ("cp1254", "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9"
               " iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254"),
    ("cp1255", "cp1255 windows-1255 x-cp1255"),
    ("cp1256", "cp1256 windows-1256 x-cp1256"),
    ("cp1257", "cp1257 windows-1257 x-cp1257"),
    ("cp1258", "cp1258 windows-1258 x-cp1258"),
    ("mac-cyrillic", "x-mac-cyrillic x-mac-ukrainian"),
    ("gb18030", "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58"
                " x-gbk gb18030"),
    ("big5hkscs", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"),
    ("euc_jp", "cseucpkdfmtjapanese euc-jp x-euc-jp"),
    ("iso2022_jp", "csiso2022jp iso-2022-jp"),
    ("cp932", "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis"),
    ("cp949", "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989"
              " ksc5601 ksc_5601 windows-949"),
    (REPLACEMENT, "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement"),
    # Without a BOM, Python's "utf-16" would guess the machine's byte order.
    ("utf-16-be", "unicodefffe utf-16be"),
    ("utf-16-le", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le"),
    (X_USER_DEFINED, "x-user-defined"),
)
_LABELS = {label: codec for codec, labels in _ENCODINGS for label in labels.split()}

# The standard strips ASCII white space around a label, and only that.
_WS = "\t\n\f\r "


def _gb18030_errors(exc: UnicodeError) -> tuple[str, int]:
    """The WHATWG gb18030 decoder reads a lone 0x80 as U+20AC (€), which
    Python's codec refuses; any other bad sequence is U+FFFD, as "replace"."""
    assert isinstance(exc, UnicodeDecodeError)
    if exc.object[exc.start] == 0x80:
        return "\u20ac", exc.start + 1
    return "\ufffd", exc.end


GB18030_ERRORS = "sockweb-gb18030"
codecs.register_error(GB18030_ERRORS, _gb18030_errors)


def _c1_errors(exc: UnicodeError) -> tuple[str, int]:
    """The WHATWG single-byte indexes give the bytes 0x80-0x9F that Python's
    windows-125x and cp874 leave undefined (0x81 in windows-1250...) the C1
    code point of the same number; anything else undefined is U+FFFD."""
    assert isinstance(exc, UnicodeDecodeError)
    byte = exc.object[exc.start]
    return (chr(byte) if 0x80 <= byte <= 0x9F else "\ufffd"), exc.start + 1


C1_ERRORS = "sockweb-c1"
codecs.register_error(C1_ERRORS, _c1_errors)
# The Python codecs whose undefined bytes C1_ERRORS fills in as WHATWG does.
C1_CODECS = frozenset({"cp874", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256",
                       "cp1257", "cp1258"})
# WHATWG's KOI8-U is KOI8-RU: 0xAE and 0xBE are ў and Ў where Python's koi8_u
# has two box-drawing characters, which no other byte decodes to.
KOI8_U_FIX = {0x255D: 0x045E, 0x256C: 0x040E}


def codec_for_label(label: str | None) -> str | None:
    """The codec (a Python codec name, or one of this module's three names) for
    an encoding label, or None for a label browsers do not know."""
    if not label:
        return None
    return _LABELS.get(label.strip(_WS).lower())
