"""Bytes in, events out: the request parser over httptools (llhttp).

llhttp does the tokenising and the framing checks (Content-Length with
Transfer-Encoding, duplicate lengths, bad chunk sizes, obs-fold); this adapter
turns its callbacks into :mod:`sockweb.http.events`, enforces
:class:`~sockweb.http.limits.Limits`, and names every failure with its status.

``feed(data)`` returns the events the bytes completed. A failure is returned
as the last item, a :class:`RemoteProtocolError`; after it the parser is dead
and the connection must close once the earlier requests have been answered.
"""

from __future__ import annotations

import contextlib
import re

import httptools

from . import framing
from .errors import RemoteProtocolError
from .events import END_OF_MESSAGE, Data, RequestHead, Upgraded
from .headers import Headers
from .hosts import valid_host_field
from .limits import DEFAULT_LIMITS, Limits

Event = RequestHead | Data | RemoteProtocolError | object

# RFC 9110 section 5.6.2 tchar: what a method is made of.
_TOKEN_PREFIX = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
# Longer than any registered method; past it a "method" is garbage (400).
MAX_METHOD = 32
# The fields that change how a request is framed or kept: a head with none of
# them (and one Host) takes the short path in on_headers_complete.
_FRAMING = frozenset(
    [b"connection", b"content-length", b"transfer-encoding", b"expect", b"upgrade"])
_FRAMING_BUT_CONNECTION = _FRAMING - {b"connection"}
# Host values found valid (RFC 9112 section 3.2), so that a new connection
# with a usual Host pays one set look-up for the check, not a regex (a kept
# connection compares with its last Host, cheaper still). Bounded: emptied
# when full, so a client sending ever new names costs a regex each, never memory.
_VALID_HOSTS: set[bytes] = set()
MAX_VALID_HOSTS = 256
# A chunk-size line: hex digits, then extensions or the line's end.
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[;\r\n]")


# What Headers.adopt() does (the parser's lists become the head's, no copy),
# written out in on_headers_complete: the call cost 80 ns a request.
_new_headers = Headers.__new__
_new_head = RequestHead.__new__


class _Stop(Exception):
    """Raised inside a callback to stop llhttp with our own error."""


class RequestParser:
    __slots__ = (
        "_body_size",
        "_chunk_from",
        "_chunked",
        "_error",
        "_events",
        "_fields",
        "_head_keep",
        "_head_size",
        "_hosts",
        "_index",
        "_lenient",
        "_max_count",
        "_max_field",
        "_max_head",
        "_in_body",
        "in_head",
        "_limits",
        "_parser",
        "_since_emit",
        "_progress",
        "_start",
        "_tail",
        "_undecided",
        "_websocket",
        "upgrades",
        "_max_line",
        "_max_url",
        "_url",
        "dead",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS, upgrades: bool = False) -> None:
        self._limits = limits
        # Hand a WebSocket upgrade over (an app that speaks it is there).
        self.upgrades = upgrades
        self._websocket = False
        self._parser = httptools.HttpRequestParser(self)
        self._events: list[Event] = []
        self._url = b""
        self._max_line = limits.max_request_line
        # Past this a target may make the line too long, with the longest method.
        self._max_url = self._max_line - 10 - MAX_METHOD
        self._fields: list[tuple[bytes, bytes]] = []
        # Lower-cased name -> values, built as fields arrive; handed to Headers.
        self._index: dict[bytes, list[bytes]] = {}
        self._head_size = 0
        self._max_field = limits.max_field_size
        self._max_head = limits.max_header_size
        self._max_count = limits.max_header_count
        # A request has begun and its head is not complete yet (a plain
        # attribute: the connection reads it once per request).
        self.in_head = False
        # (len(target), head size) at the end of the last read that left the
        # head incomplete: unchanged means no field came out since.
        self._progress: tuple[int, int] | None = None
        # Bytes llhttp holds for a header it has not handed over yet: bounded
        # here because httptools buffers a field until its end.
        self._since_emit = 0
        self._body_size = 0
        self._error: RemoteProtocolError | None = None
        self.dead = False
        # The first bytes of a message whose method is still incomplete, so an
        # unknown method split across reads is still told apart from garbage.
        self._start = b""
        self._undecided: bytes | None = None
        self._in_body = False
        # The body being read is chunked; the body size when the last chunk
        # header of this read came (None: none did, or its chunk is complete);
        # the last bytes of the previous read in that body.
        self._chunked = False
        self._chunk_from: int | None = None
        self._tail = b""
        # llhttp told to go on after a message it takes as the last one.
        self._lenient = False
        self._head_keep = False  # the keep verdict of the last head with a body
        # [Host] of the last request whose one Host was checked: the next
        # request with the same one takes the short path without a check.
        # ([] equals no list of fields, nor the None of a head without Host.)
        self._hosts: list[bytes] = []

    @property
    def between_messages(self) -> bool:
        """Every byte fed so far belonged to a complete message, and none failed."""
        return not (self.in_head or self._in_body or self.dead
                    or self._undecided is not None)

    def close(self) -> None:
        """Done with this connection: drop llhttp's parser, which holds this
        object's callbacks (a reference cycle), so both are freed at once
        instead of waiting for the cyclic garbage collector."""
        self.dead = True
        self._undecided = None
        self._parser = None  # type: ignore[assignment]
        self._events = []

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        self._events = events
        if self.dead:
            if self._undecided is not None:
                # llhttp refused the method already; wait to see whether it was
                # a whole token (501) or garbage (400), so the split cannot
                # matter.
                self._judge_method(self._undecided + data)
            return events
        idle_at_start = not self.in_head and not self._in_body
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            rest = data[upgrade.args[0]:] if upgrade.args else b""
            if self.upgrades and self._websocket:
                # The caller takes the connection over; HTTP parsing ends here.
                self.dead = True
                events.append(Upgraded(rest))
                return events
            # We speak no other protocol: the request was answered as plain
            # HTTP; parse whatever follows it as the next request.
            self._parser = httptools.HttpRequestParser(self)
            self._lenient = False
            if rest:
                events.extend(self.feed(rest))
            self._events = events
        except httptools.HttpParserCallbackError:
            self._fail(self._error or RemoteProtocolError("malformed request"))
        except httptools.HttpParserInvalidMethodError:
            self.dead = True
            completed = events.count(END_OF_MESSAGE)
            if not completed:
                self._judge_method(self._start + data)
            elif idle_at_start:
                self._judge_method(data[_message_start(data, completed):])
            else:
                # Where the refused message began cannot be told without the
                # bytes of the one before it: call it malformed.
                self._fail(RemoteProtocolError("malformed request line"))
        except httptools.HttpParserError as exc:
            self._fail(_classify(str(exc)))
        if self.in_head and not self.dead:
            # A head split across reads (rare): the bookkeeping that whole
            # heads never need is done here, not in every callback.
            self._partial_head(data)
        else:
            if self._start:
                self._start = b""
            if self._chunked:
                self._chunk_read(data)
        return events

    def _chunk_read(self, data: bytes) -> None:
        """At the end of a read in a chunked body: refuse a chunk whose declared
        size alone takes the body past its limit, without waiting for its bytes
        (413 as nginx does; a Content-Length is refused the same way).

        httptools does not tell a chunk's size, but when the read ended
        inside a chunk whose size line came in it, that chunk's data so far is
        the last bytes of the read, and its size line ends just before them.
        """
        if not self._in_body or self.dead:
            self._chunked = False
            self._chunk_from = None
            self._tail = b""
            return
        start = self._chunk_from
        if start is not None:
            self._chunk_from = None
            got = self._body_size - start
            before = self._tail + data[:len(data) - got]
            # The size line ends with its LF right before the data (not so for
            # a read that ended in the trailer fields after the last chunk).
            if before[-1:] == b"\n":
                line_start = before.rfind(b"\n", 0, len(before) - 1)
                size = _CHUNK_SIZE.match(before, line_start + 1) if line_start >= 0 else None
                if (size is not None
                        and start + int(size.group(1), 16) > self._limits.max_body_size):
                    self._fail(RemoteProtocolError("request body too large", 413))
                    return
        # Enough for a size line (with an extension or two) cut across reads.
        self._tail = (self._tail + data)[-256:]

    def _partial_head(self, data: bytes) -> None:
        if not self._url:
            self._start = (self._start + data)[:64]
        elif self._start:
            self._start = b""
        # llhttp hands a field over only once it is whole, and httptools
        # buffers it until then: bound the bytes fed since the last field
        # (or the target) came out, or since the message began.
        progress = (len(self._url), self._head_size)
        if progress != self._progress:
            self._progress = progress
            self._since_emit = 0
            return
        self._since_emit += len(data)
        if self._since_emit > self._limits.max_field_size:
            status = 414 if not self._fields and self._url else 431
            self._fail(RemoteProtocolError("request head too large", status))

    def _judge_method(self, start: bytes) -> None:
        """501 for a method token we do not know, 400 for anything else."""
        start = start.lstrip(b"\r\n")
        token = _TOKEN_PREFIX.match(start)
        size = token.end() if token else 0
        if size == len(start) and size < MAX_METHOD:
            self._undecided = start  # all token so far: the verdict needs more bytes
            return
        self._undecided = None
        if 0 < size < MAX_METHOD and start[size:size + 1] == b" ":
            self._fail(RemoteProtocolError("unknown method", 501))
        else:
            self._fail(RemoteProtocolError("malformed request line"))

    def _fail(self, error: RemoteProtocolError) -> None:
        self.dead = True
        self._events.append(error)

    def _stop(self, message: str, status: int) -> None:
        self._error = RemoteProtocolError(message, status)
        raise _Stop(message)

    # -- httptools callbacks -------------------------------------------------
    # Per-message state is reset when a head completes (and after trailers),
    # not when the next message begins: that keeps on_message_begin to two
    # stores on the path every request takes.
    def on_message_begin(self) -> None:
        self.in_head = True
        self._progress = None

    def on_url(self, url: bytes) -> None:
        # Usually one call; b"" + url is url itself, no copy.
        url = self._url = self._url + url
        # The whole line counts: method, two spaces, target and "HTTP/1.1"
        # (the method is only looked at when the target alone comes close).
        if (len(url) > self._max_url
                and len(url) + 10 + len(self._parser.get_method()) > self._max_line):
            self._stop("request line too long", 414)

    def on_header(self, name: bytes, value: bytes) -> None:
        # RFC 9110 section 5.5: whitespace around a value is not part of it;
        # llhttp drops the leading OWS only.
        value = value.rstrip(b" \t")
        fields = self._fields
        fields.append((name, value))
        low = name.lower()
        values = self._index.get(low)
        if values is None:
            self._index[low] = [value]
        else:
            values.append(value)
        size = len(name) + len(value) + 4
        head_size = self._head_size = self._head_size + size
        if (size > self._max_field or head_size > self._max_head
                or len(fields) > self._max_count):
            self._stop("request header fields too large", 431)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._in_body = True
        parser = self._parser
        method = parser.get_method()
        index = self._index
        headers = _new_headers(Headers)
        headers.raw = self._fields
        headers._index = index
        # The head owns those now; trailer fields, if any, go elsewhere.
        self._fields = []
        self._index = {}
        self._head_size = 0
        target = self._url
        self._url = b""
        # With no Connection field, llhttp keeps an HTTP/1.1 request alive and
        # no other version it accepts (0.9, 1.0, 2.0): that tells 1.1 without
        # get_http_version(), which costs more than the rest of this method.
        # (A head whose only field is Host has no framing field to look for.)
        # Its one Host is the one of the last request, which was found valid:
        # a list compared with a list, cheaper than len() and a look-up.
        hosts = index.get(b"host")
        if (hosts == self._hosts
                and (len(index) == 1 or index.keys().isdisjoint(_FRAMING))
                and parser.should_keep_alive() and method != b"CONNECT"):
            # The common request: HTTP/1.1, no body, persistent, nothing to
            # check. Its RequestHead is filled in here, without the call of
            # its __init__ (a class's __init__ costs 3.11 a frame of its own).
            head = _new_head(RequestHead)
            head.method = method
            head.target = target
            head.http_version = "1.1"
            head.headers = headers
            head.keep_alive = True
            head.expect_continue = False
            head.body_expected = False
            self._events.append(head)
            return
        self._body_size = 0
        if hosts is not None:
            # RFC 9112 section 3.2: a Host with an invalid value is a 400 (how
            # many there must be is check_request_head's rule).
            if len(hosts) == 1:
                host = hosts[0]
                if host not in _VALID_HOSTS and not _valid_host(host):
                    self._stop("invalid Host header", 400)
                self._hosts = [host]
            elif not all(host in _VALID_HOSTS or _valid_host(host) for host in hosts):
                self._stop("invalid Host header", 400)
        version = parser.get_http_version()
        if (b"connection" in index and index.keys().isdisjoint(_FRAMING_BUT_CONNECTION)
                and ((version == "1.1" and hosts is not None and len(hosts) == 1)
                     or (version == "1.0" and (hosts is None or len(hosts) == 1)))
                and method != b"CONNECT"):
            # Connection is the only framing field (Connection: close, an HTTP/1.0
            # keep-alive): no length, coding, expectation or upgrade to check.
            # llhttp has read the Connection tokens already: when it does not
            # keep the connection (a close token in 1.1, no keep-alive token in
            # 1.0), neither does RFC 9112 section 9.3, unless llhttp took a
            # Proxy-Connection field for a Connection one. Otherwise the RFC's
            # rule decides (in 1.0 a close token beside keep-alive still wins).
            if parser.should_keep_alive():
                keep = framing.keep_alive(version, headers)
            elif b"proxy-connection" in index or self._lenient:
                keep = self._keep_past_llhttp(framing.keep_alive(version, headers))
            else:
                keep = False
            self._events.append(RequestHead(method, target, version, headers, keep))
            return
        try:
            framing.check_request_head(version, method, headers)
            expect = framing.expects_continue(version, headers)
        except RemoteProtocolError as exc:
            self._error = exc
            raise _Stop(str(exc)) from None
        self._websocket = self.upgrades and b"websocket" in (
            headers.get_raw(b"upgrade") or b"").lower()
        length = framing.declared_length(headers)
        if length is not None and length > self._limits.max_body_size:
            self._stop("request body too large", 413)
        chunked = length is None and b"transfer-encoding" in headers
        self._chunked = chunked
        self._chunk_from = None
        self._tail = b""
        keep = framing.keep_alive(version, headers)
        if not parser.should_keep_alive():
            keep = self._keep_past_llhttp(keep)
        self._head_keep = keep  # the verdict a chunked body's trailer must not change
        self._events.append(
            RequestHead(method, target, version, headers, keep, expect, bool(length) or chunked))

    def _keep_past_llhttp(self, keep: bool) -> bool:
        """``keep`` (RFC 9112 section 9.3's verdict), for a message after which
        llhttp would close: llhttp goes on to the next message exactly when
        the verdict is to keep the connection.

        They differ on Proxy-Connection, which RFC 9110 section 7.6.1 does not
        define (the field is no Connection, nginx ignores it) but llhttp reads
        as Connection: without this, the request after a "Proxy-Connection:
        close" on a kept connection would be refused as data after the close.
        """
        if keep is not self._lenient:
            self._parser.set_dangerous_leniencies(lenient_keep_alive=keep)
            self._lenient = keep
        return keep

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._limits.max_body_size:
            self._stop("request body too large", 413)
        self._events.append(Data(body))

    def on_chunk_header(self) -> None:
        # Where this chunk's data begins (the size is looked at in _chunk_read).
        self._chunk_from = self._body_size

    def on_chunk_complete(self) -> None:
        self._chunk_from = None

    def on_message_complete(self) -> None:
        self._in_body = False
        if self._fields:  # trailer fields: not kept
            index = self._index
            if self._head_keep and (b"connection" in index or b"proxy-connection" in index):
                # llhttp reads a Connection (or Proxy-Connection) in the trailer
                # as in the head, and would close; RFC 9110 section 6.5.1: a
                # trailer field is no framing or connection field. The head's
                # verdict stands (llhttp asks after this callback returns).
                self._keep_past_llhttp(True)
            self._fields = []
            self._index = {}
            self._head_size = 0
        self._events.append(END_OF_MESSAGE)


def _valid_host(host: bytes) -> bool:
    """Check a Host value not seen lately, and remember it if valid."""
    if not valid_host_field(host):
        return False
    if len(_VALID_HOSTS) >= MAX_VALID_HOSTS:
        _VALID_HOSTS.clear()
    _VALID_HOSTS.add(host)
    return True


class _Counter:
    """httptools callbacks that only count complete messages."""

    def __init__(self) -> None:
        self.completed = 0

    def on_message_complete(self) -> None:
        self.completed += 1


def _completed(data: bytes) -> int:
    counter = _Counter()
    with contextlib.suppress(httptools.HttpParserError):
        httptools.HttpRequestParser(counter).feed_data(data)
    return counter.completed


def _message_start(data: bytes, completed: int) -> int:
    """Where the message after the first ``completed`` ones begins in ``data``.

    Only on the error path: httptools does not tell where it stopped, so a
    fresh parser is run on prefixes, in a binary search (O(n log n) bytes).
    """
    low, high = 0, len(data)
    while low < high:
        mid = (low + high) // 2
        if _completed(data[:mid]) >= completed:
            high = mid
        else:
            low = mid + 1
    return low


def _classify(reason: str) -> RemoteProtocolError:
    """Name llhttp's refusal with the status RFC 9110 gives it."""
    if reason == "Invalid HTTP version":
        return RemoteProtocolError("unsupported HTTP version", 505)
    return RemoteProtocolError(f"malformed request: {reason}", 400)
