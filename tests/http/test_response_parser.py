"""The response parser, bytes in and events out, with no socket (RFC 9112).

Every response is fed whole, one byte at a time, cut in two at every offset
and cut at random points (hypothesis): the same events must come out each way.
Then what only a response parser has to know: a response to HEAD, a 204 and
a 304 have no body whatever their Content-Length says (RFC 9110 sections
9.3.2, 15.3.5, 15.4.5); 1xx responses come before the final one (RFC 9110
section 15.2); a body with no framing ends when the connection does (RFC 9112
section 6.3 items 4 and 8), and one with framing that ends early is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sockweb.http.errors import RemoteProtocolError
from sockweb.http.events import Data, EndOfMessage, ResponseHead
from sockweb.http.response_parser import ResponseLimits, ResponseParser

Norm = tuple[object, ...]
END: Norm = ("end",)
ERROR: Norm = ("error",)


def normalise(events: Iterable[object]) -> list[Norm]:
    """Events as comparable tuples; adjacent Data pieces are joined."""
    out: list[Norm] = []
    for event in events:
        if isinstance(event, ResponseHead):
            out.append(("head", event.status, event.reason, event.http_version,
                        list(event.headers.raw), event.keep_alive))
        elif isinstance(event, Data):
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + event.data)  # type: ignore[operator]
            else:
                out.append(("data", event.data))
        elif isinstance(event, EndOfMessage):
            out.append(END)
        elif isinstance(event, RemoteProtocolError):
            out.append(ERROR)
        else:
            raise AssertionError(f"unexpected event {event!r}")
    return out


def head(status: int, reason: bytes, version: str = "1.1",
         fields: list[tuple[bytes, bytes]] | None = None, keep: bool = True) -> Norm:
    return ("head", status, reason, version, fields or [], keep)


def run(
    pieces: Iterable[bytes], method: bytes = b"GET", eof: bool = False,
    parser: ResponseParser | None = None, limits: ResponseLimits | None = None,
) -> list[Norm]:
    if parser is None:
        parser = ResponseParser(limits) if limits else ResponseParser()
    parser.expect(method)
    events: list[object] = []
    for piece in pieces:
        events.extend(parser.feed(piece))
    if eof:
        events.extend(parser.feed_eof())
    return normalise(events)


def bytewise(data: bytes) -> list[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


def cut(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at each offset in ``cuts`` that falls inside it."""
    points = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    return [data[a:b] for a, b in pairwise(points)]


# -- valid responses -----------------------------------------------------------

CL = (b"Content-Length", b"5")

# name -> (method of the request, bytes, feed_eof after them, expected events)
VALID: dict[str, tuple[bytes, bytes, bool, list[Norm]]] = {
    "content_length": (
        b"GET", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", False,
        [head(200, b"OK", fields=[CL]), ("data", b"hello"), END],
    ),
    "content_length_zero": (
        b"GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False,
        [head(200, b"OK", fields=[(b"Content-Length", b"0")]), END],
    ),
    "chunked_extensions_trailers_rfc9112_7_1": (
        b"GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=\"a;b\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        False,
        [head(200, b"OK", fields=[(b"Transfer-Encoding", b"chunked")]),
         ("data", b"hello world"), END],
    ),
    "empty_reason_phrase_rfc9112_4": (
        b"GET", b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", False,
        [head(200, b"", fields=[(b"Content-Length", b"2")]), ("data", b"ok"), END],
    ),
    "http10_keep_alive_rfc9112_9_3": (
        b"GET", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        False,
        [head(200, b"OK", "1.0", [(b"Connection", b"keep-alive"), (b"Content-Length", b"2")]),
         ("data", b"ok"), END],
    ),
    "http11_connection_close": (
        b"GET", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", False,
        [head(200, b"OK", fields=[(b"Connection", b"close"), (b"Content-Length", b"2")],
              keep=False), ("data", b"ok"), END],
    ),
    "head_with_content_length_rfc9110_9_3_2": (
        b"HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", False,
        [head(200, b"OK", fields=[(b"Content-Length", b"1000")]), END],
    ),
    "head_with_chunked_rfc9110_9_3_2": (
        b"HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", False,
        [head(200, b"OK", fields=[(b"Transfer-Encoding", b"chunked")]), END],
    ),
    "no_content_204_rfc9110_15_3_5": (
        b"GET", b"HTTP/1.1 204 No Content\r\n\r\n", False,
        [head(204, b"No Content"), END],
    ),
    "not_modified_304_with_content_length_rfc9110_15_4_5": (
        b"GET", b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n\r\n", False,
        [head(304, b"Not Modified", fields=[(b"ETag", b'"x"'), (b"Content-Length", b"99")]),
         END],
    ),
    "interim_1xx_then_final_rfc9110_15_2": (
        b"GET",
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        False,
        [head(100, b"Continue"), END,
         head(103, b"Early Hints", fields=[(b"Link", b"</s.css>; rel=preload")]), END,
         head(200, b"OK", fields=[(b"Content-Length", b"2")]), ("data", b"ok"), END],
    ),
    "connect_2xx_has_no_body_rfc9110_9_3_6": (
        b"CONNECT", b"HTTP/1.1 200 Connection established\r\n\r\n", False,
        [head(200, b"Connection established"), END],
    ),
    "close_delimited_http10_rfc9112_6_3_8": (
        b"GET", b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", True,
        [head(200, b"OK", "1.0", [(b"Content-Type", b"text/plain")], keep=False),
         ("data", b"until the end"), END],
    ),
    "close_delimited_http11_rfc9112_6_3_8": (
        b"GET", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", True,
        [head(200, b"OK", fields=[(b"Connection", b"close")], keep=False),
         ("data", b"until the end"), END],
    ),
    "close_delimited_empty_body": (
        b"GET", b"HTTP/1.0 200 OK\r\n\r\n", True,
        [head(200, b"OK", "1.0", keep=False), END],
    ),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_response_whole(name: str) -> None:
    method, data, eof, expected = VALID[name]
    assert run([data], method, eof) == expected


@pytest.mark.parametrize("name", list(VALID))
def test_valid_response_byte_by_byte(name: str) -> None:
    method, data, eof, expected = VALID[name]
    assert run(bytewise(data), method, eof) == expected


@pytest.mark.parametrize("name", list(VALID))
def test_valid_response_cut_in_two_at_every_offset(name: str) -> None:
    method, data, eof, expected = VALID[name]
    for cut in range(1, len(data)):
        assert run([data[:cut], data[cut:]], method, eof) == expected, f"cut at {cut}"


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(VALID)),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_valid_response_cut_at_random_points(name: str, cuts: list[int]) -> None:
    method, data, eof, expected = VALID[name]
    assert run(cut(data, cuts), method, eof) == expected


# Responses after which the connection persists (RFC 9112 section 9.3), so a
# next response may follow on the same parser.
def _persists(events: list[Norm]) -> bool:
    return bool([e for e in events if e[0] == "head"][-1][5])


KEEP_ALIVE = [n for n, (_, _, eof, events) in VALID.items() if not eof and _persists(events)]


@settings(max_examples=100, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(sorted(KEEP_ALIVE)), min_size=2, max_size=5
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_responses_in_sequence_on_one_parser(names: list[str], cuts: list[int]) -> None:
    """One parser per connection: each response, however cut, leaves it ready for the next."""
    parser = ResponseParser()
    for name in names:
        method, data, _, expected = VALID[name]
        assert run(cut(data, cuts), method, parser=parser) == expected, name
        assert not parser.in_message
        assert parser.reusable


NEXT = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
NEXT_EVENTS = [head(200, b"OK", fields=[(b"Content-Length", b"4")]), ("data", b"next"), END]


@pytest.mark.parametrize("name", KEEP_ALIVE)
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_next_response_on_the_same_parser(name: str, split: str) -> None:
    """After a bodiless response (HEAD, 204, 304) the next one parses as usual."""
    method, data, _, expected = VALID[name]
    parser = ResponseParser()
    pieces = [data] if split == "whole" else bytewise(data)
    assert run(pieces, method, parser=parser) == expected
    assert run([NEXT] if split == "whole" else bytewise(NEXT), parser=parser) == NEXT_EVENTS


def test_head_response_then_get_response_with_the_same_length() -> None:
    """RFC 9110 section 9.3.2: the 1000 bytes HEAD announced are not awaited; the next
    response's body is not taken as them."""
    parser = ResponseParser()
    assert run([b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"], b"HEAD", parser=parser) == [
        head(200, b"OK", fields=[(b"Content-Length", b"4")]), END]
    assert run([NEXT], b"GET", parser=parser) == NEXT_EVENTS


def test_in_message_and_reusable_track_the_body() -> None:
    parser = ResponseParser()
    parser.expect(b"GET")
    assert not parser.in_message
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
    assert parser.in_message
    parser.feed(b"cd")
    assert not parser.in_message
    assert parser.reusable


def test_close_delimited_body_ends_only_at_eof_and_uses_the_connection_up() -> None:
    """RFC 9112 section 6.3 item 8 and section 9.3: no end before the close, no reuse after."""
    parser = ResponseParser()
    parser.expect(b"GET")
    events = normalise(parser.feed(b"HTTP/1.0 200 OK\r\n\r\nsome"))
    assert END not in events
    assert parser.in_message
    assert normalise(parser.feed(b" more")) == [("data", b" more")]
    assert normalise(parser.feed_eof()) == [END]
    assert not parser.reusable


@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_transfer_coding_not_chunked_reads_to_close_rfc9112_6_3_4(split: str) -> None:
    """RFC 9112 section 6.3 item 4: in a response, a Transfer-Encoding whose final
    coding is not chunked means the body runs until the server closes."""
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"
    parser = ResponseParser()
    events = run([data] if split == "whole" else bytewise(data), eof=True, parser=parser)
    assert events == [head(200, b"OK", fields=[(b"Transfer-Encoding", b"gzip")]),
                      ("data", b"abc"), END]
    assert not parser.reusable


# -- truncated and malformed ----------------------------------------------------

TRUNCATED = {
    "content_length_short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    "chunked_mid_chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "chunked_no_last_chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
    "chunked_in_trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n"),
    "head_cut": b"HTTP/1.1 200 OK\r\nContent-Len",
    "status_line_cut": b"HTTP/1.1 20",
}


@pytest.mark.parametrize("name", list(TRUNCATED))
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_truncated_response_errors_at_eof_rfc9112_8(name: str, split: str) -> None:
    """RFC 9112 section 8: a message whose framing says more is incomplete, not short."""
    data = TRUNCATED[name]
    events = run([data] if split == "whole" else bytewise(data), eof=True)
    assert events[-1] == ERROR
    assert END not in events


def test_truncated_body_error_names_the_body() -> None:
    parser = ResponseParser()
    parser.expect(b"GET")
    parser.feed(TRUNCATED["content_length_short"])
    (error,) = parser.feed_eof()
    assert isinstance(error, RemoteProtocolError)
    assert "body" in str(error)
    assert parser.dead
    assert not parser.reusable


def test_eof_with_nothing_received_is_no_event() -> None:
    """The connection layer, not the parser, says "closed without a response"."""
    parser = ResponseParser()
    parser.expect(b"GET")
    assert parser.feed_eof() == []


def test_eof_after_a_complete_response_is_no_event() -> None:
    parser = ResponseParser()
    parser.expect(b"GET")
    parser.feed(NEXT)
    assert parser.feed_eof() == []


MALFORMED = {
    "status_not_a_number": b"HTTP/1.1 2x0 OK\r\n\r\n",
    "not_http": b"HTTQ/1.1 200 OK\r\n\r\n",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "content_length_not_a_number": b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    "bad_chunk_size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
    "space_before_colon_rfc9112_5_1": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
}


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_malformed_response_is_an_error_and_the_parser_stays_dead(name: str, split: str) -> None:
    parser = ResponseParser()
    data = MALFORMED[name]
    events = run([data] if split == "whole" else bytewise(data), parser=parser)
    assert events[-1] == ERROR
    assert parser.dead
    assert not parser.reusable
    assert parser.feed(NEXT) == []
    assert parser.feed_eof() == []


# -- limits ----------------------------------------------------------------------

SMALL = ResponseLimits(max_status_line=64, max_field_size=64, max_header_size=256,
                       max_header_count=5)


def test_header_count_limit() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(6))
    data = b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n"
    assert run([data], limits=SMALL)[-1] == ERROR
    five = b"".join(b"X-%d: v\r\n" % i for i in range(5))
    assert run([b"HTTP/1.1 200 OK\r\n" + five + b"\r\n"], limits=SMALL, eof=True)[-1] == END


def test_field_size_limit() -> None:
    data = b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 100 + b"\r\nContent-Length: 0\r\n\r\n"
    assert run([data], limits=SMALL) == [ERROR]


def test_status_line_limit() -> None:
    data = b"HTTP/1.1 200 " + b"R" * 100 + b"\r\nContent-Length: 0\r\n\r\n"
    assert run([data], limits=SMALL) == [ERROR]


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Endless: ", id="one_endless_field"),
        pytest.param(b"HTTP/1.1 200 OK\r\nA: b\r\nX-Endless: ", id="endless_field_after_one"),
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Endless", id="endless_field_name"),
        pytest.param(b"HTTP/1.1 200 ", id="endless_reason"),
    ],
)
@pytest.mark.parametrize("piece", [1, 7, 100, 4096])
def test_endless_head_is_refused_once_past_the_limit(prefix: bytes, piece: int) -> None:
    """A head that never ends is refused after max_header_size bytes, in whatever pieces."""
    limits = ResponseLimits(max_status_line=256, max_field_size=256, max_header_size=1024,
                    max_header_count=10)
    parser = ResponseParser(limits)
    parser.expect(b"GET")
    stream = prefix + b"a" * 8192
    events: list[object] = []
    fed = 0
    for i in range(0, len(stream), piece):
        events.extend(parser.feed(stream[i:i + piece]))
        fed = i + piece
        if events:
            break
    assert normalise(events) == [ERROR]
    # Refused within a feed or two of the limit, not after everything was buffered.
    assert fed <= len(prefix) + limits.max_header_size + 2 * piece


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=40_000), max_size=8))
def test_head_over_the_limit_is_refused_however_it_is_cut(cuts: list[int]) -> None:
    """max_header_size bounds what the parser holds, whatever the sizes of the feeds."""
    limits = ResponseLimits(max_header_size=16 * 1024)
    data = b"HTTP/1.1 200 OK\r\nA: b\r\nX-Endless: " + b"a" * 40_000
    events = run(cut(data, cuts), limits=limits)
    assert events == [ERROR]


def test_default_limits_accept_a_large_normal_head() -> None:
    cookies = b"".join(b"Set-Cookie: c%d=%s\r\n" % (i, b"v" * 200) for i in range(40))
    data = b"HTTP/1.1 200 OK\r\n" + cookies + b"Content-Length: 0\r\n\r\n"
    events = run([data])
    assert events[-1] == END
    assert len(events[0][4]) == 41  # type: ignore[arg-type]
