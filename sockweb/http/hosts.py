"""The host and port of a URL: domain names (IDNA, punycode), IPv4, IPv6.

What the WHATWG URL Standard's host parser does, as urls.py's docstring
describes it: a domain is lower-cased, NFKC-normalised and IDNA-encoded, and
refused if it holds a forbidden code point; a domain that ends in a number is
an IPv4 address in any form the standard accepts, rewritten dotted; an IPv6
literal is validated and compressed. Then the port, whose default is dropped.
Its own module because it is the largest single step of parsing a URL and
needs nothing of the URL type. unicodedata, the IDNA codec and ipaddress
load only for the hosts that need them (non-ASCII or punycode names, IPv6).
At the end, the stricter check of a request's Host field, which is RFC 3986
syntax rather than the URL Standard's.

``DEFAULT_PORTS`` is defined here, the lowest module that uses it, so that
this module need not import urls.py; urls.py is its public home and
re-exports it (and ``InvalidURL``, which errors.py defines with the others).
"""

from __future__ import annotations

import re

from .errors import InvalidURL
from .percent import _decode

DEFAULT_PORTS = {"http": 80, "https": 443}


def _short(text: str) -> str:
    """Quote ``text`` for a message; a 100 kB host must not become a 100 kB error line."""
    return repr(text if len(text) <= 64 else text[:60] + "...")


# -- hosts ---------------------------------------------------------------------

# Forbidden domain code points: the forbidden host code points, C0, "%", DEL.
_FORBIDDEN_HOST = r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]"
_IDEOGRAPHIC_DOTS = str.maketrans("\u3002\uff0e\uff61", "...")
# Controls, unassigned, private use, surrogates, separators (Cf is allowed: ZWJ, ZWNJ).
_NOT_IN_NAMES = frozenset({"Cc", "Cn", "Co", "Cs", "Zs", "Zl", "Zp"})
_DEC = "0123456789"
_OCT = "01234567"
_HEX = "0123456789abcdefABCDEF"


def _only(text: str, alphabet: str) -> bool:
    """``text`` is one or more characters of ``alphabet`` (a regex's [...]+, compiled never)."""
    return bool(text) and not text.strip(alphabet)


def _parse_host(text: str, scheme: str) -> str:
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidURL(f"invalid IPv6 address {_short(text)}")
        return _parse_ipv6(text[1:-1])
    domain = _domain_to_ascii(_decode(text))
    if _ends_in_number(domain):
        return _parse_ipv4(domain)
    if scheme == "file" and domain == "localhost":
        return ""
    return domain


def _domain_to_ascii(domain: str) -> str:
    if not domain.isascii():
        import unicodedata

        # What UTS 46 mapping does first, so that full-width letters and dots
        # are ASCII before we decide which labels need IDNA at all.
        domain = unicodedata.normalize("NFKC", domain).lower().translate(_IDEOGRAPHIC_DOTS)
    plain = domain.isascii() and domain.replace(".", "").replace("-", "").isalnum()
    found = None if plain else re.search(_FORBIDDEN_HOST, domain)
    if found:
        raise InvalidURL(f"forbidden character {_short(found.group())} in host {_short(domain)}")
    labels = []
    for label in domain.lower().split("."):
        if label.isascii():
            if label.startswith("xn--"):
                _check_punycode(label)
            labels.append(label)
            continue
        if _has_bad_code_point(label):
            raise InvalidURL(f"invalid international domain name {_short(label)}")
        from encodings import idna

        try:
            labels.append(idna.ToASCII(label).decode("ascii"))
        except UnicodeError as exc:
            raise InvalidURL(f"invalid international domain name {_short(label)} ({exc})") from None
    return ".".join(labels)


def _has_bad_code_point(label: str) -> bool:
    # The IDNA 2003 codec lets unassigned code points through; UTS 46 does not.
    import unicodedata

    return any(unicodedata.category(ch) in _NOT_IN_NAMES for ch in label)


def _check_punycode(label: str) -> None:
    # Not a round trip through the IDNA 2003 codec: that would refuse IDNA 2008
    # names such as "xn--zca" (ß). Refuse what no IDNA version can produce.
    import unicodedata

    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        decoded = ""
    if (
        decoded.isascii()
        or unicodedata.normalize("NFC", decoded) != decoded
        or _has_bad_code_point(decoded)
    ):
        raise InvalidURL(f"invalid punycode label {_short(label)}")


def _ends_in_number(domain: str) -> bool:
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return _only(last, _DEC) or _ipv4_number(last) is not None


def _ipv4_number(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        digits, radix, pattern = part[2:], 16, _HEX
    elif len(part) > 1 and part[0] == "0":
        digits, radix, pattern = part[1:], 8, _OCT
    elif part:
        digits, radix, pattern = part, 10, _DEC
    else:
        return None
    if not digits:
        return 0  # "0x" and "0" alone are zero
    if not _only(digits, pattern):
        return None
    digits = digits.lstrip("0") or "0"
    # Anything this long is out of range anyway; int() would refuse 4300+ digits.
    return 1 << 64 if len(digits) > 40 else int(digits, radix)


def _parse_ipv4(domain: str) -> str:
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or None in numbers:
        raise InvalidURL(f"invalid IPv4 address {_short(domain)}")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise InvalidURL(f"invalid IPv4 address {_short(domain)}")
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n << (8 * (3 - i))
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))


def _parse_ipv6(text: str) -> str:
    # Zone identifiers ("%eth0") are refused by the standard; ipaddress takes them.
    if "%" in text:
        raise InvalidURL(f"invalid IPv6 address {_short(text)}")
    import ipaddress

    try:
        packed = ipaddress.IPv6Address(text).packed
    except ValueError:
        raise InvalidURL(f"invalid IPv6 address {_short(text)}") from None
    # Serialised by hand: ipaddress prints IPv4-mapped addresses dotted on
    # newer Pythons, and the standard wants hex pieces with the first longest
    # run of two or more zero pieces compressed.
    pieces = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best, best_len, i = -1, 1, 0
    while i < 8:
        j = i
        while j < 8 and pieces[j] == 0:
            j += 1
        if j - i > best_len:
            best, best_len = i, j - i
        i = max(j, i + 1)
    hexes = [f"{p:x}" for p in pieces]
    if best < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best]) + "::" + ":".join(hexes[best + best_len :])


def _split_port(hostport: str) -> tuple[str, str | None]:
    # The first ":" outside brackets starts the port, as in the standard's host state.
    if ":" not in hostport:
        return hostport, None
    inside = False
    for i, ch in enumerate(hostport):
        if ch == "[":
            inside = True
        elif ch == "]":
            inside = False
        elif ch == ":" and not inside:
            return hostport[:i], hostport[i + 1 :]
    return hostport, None


def _parse_port(text: str, scheme: str) -> int | None:
    if not _only(text, _DEC) or len(text.lstrip("0")) > 5 or int(text) > 65535:
        raise InvalidURL(f"invalid port {_short(text)}")
    port = int(text)
    return None if DEFAULT_PORTS.get(scheme) == port else port


# -- the Host field ------------------------------------------------------------

# RFC 9112 section 3.2: Host = uri-host [ ":" port ], in RFC 3986's terms
# (sections 3.2.2 and 3.2.3): a reg-name of unreserved characters, sub-delims
# and pct-encoded octets (which an IPv4 address is too), or an IP-literal in
# brackets; then digits. An empty Host is valid: a client sends one for a
# target without an authority. "a..b" fits reg-name, so it passes (nginx
# refuses it); spaces, "/", '"', "<", ">", "@", non-ASCII bytes do not.
_HOST_FIELD = re.compile(
    rb"(?:\[([^\]]*)\]|(?:[-A-Za-z0-9._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?")
# IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
_IPV_FUTURE = re.compile(rb"[vV][0-9A-Fa-f]+\.[-A-Za-z0-9._~!$&'()*+,;=:]+")


def valid_host_field(value: bytes) -> bool:
    """Is ``value`` a valid Host field value (RFC 9112 section 3.2)?

    Syntax only: no lookup, no normalisation (the server has nothing to route
    by name). The parser caches the verdict for the values it sees often.
    """
    match = _HOST_FIELD.fullmatch(value)
    if match is None:
        return False
    literal = match.group(1)
    if literal is None:
        return True
    if literal[:1] in (b"v", b"V"):
        return _IPV_FUTURE.fullmatch(literal) is not None
    # IPv6address; ipaddress would also take a "%zone", which RFC 3986 does not.
    if b"%" in literal or not literal.isascii():
        return False
    import ipaddress

    try:
        ipaddress.IPv6Address(literal.decode("ascii"))
    except ValueError:
        return False
    return True
