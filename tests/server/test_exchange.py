"""AppExchange.start(): what an app's response head becomes, without a socket.

ASGI "Response Start - send event": ``headers`` is an iterable of two-item
iterables of bytes. A field's verdict is kept between responses (exchange.py),
so every rule must hold the second time a field is sent as well as the first.
"""

from __future__ import annotations

import time

import pytest

from sockweb.http.errors import LocalProtocolError
from sockweb.http.events import RequestHead
from sockweb.http.headers import Headers
from sockweb.server import exchange as exchange_module
from sockweb.server.exchange import AppExchange


class _Transport:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        self.aborted = True


class _Clock:
    time = staticmethod(time.monotonic)


class _Connection:
    """The little of HttpProtocol an exchange uses."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.peer = "-"
        self.app_addresses = None
        self.loop = _Clock()
        self.closing = False
        self.write_paused = False

    async def _drain(self) -> None:
        raise AssertionError("never paused here")

    def close_after_response(self) -> None:
        self.closing = True


def _exchange(version: str = "1.1") -> tuple[AppExchange, _Connection]:
    conn = _Connection()
    head = RequestHead(b"GET", b"/", version, Headers([(b"Host", b"t")]), True)
    return AppExchange(conn, head, b"/", b"", None), conn  # type: ignore[arg-type]


def _answer(fields: object, body: bytes = b"hello") -> tuple[bytes, _Connection]:
    exchange, conn = _exchange()
    exchange.start(200, fields)  # type: ignore[arg-type]
    assert not exchange.write(body, False)
    return conn.transport.data, conn


@pytest.mark.parametrize("fields", [
    [(b"content-type", b"text/plain"), (b"content-length", b"5")],
    [[b"content-type", b"text/plain"], [b"content-length", b"5"]],
    [(bytearray(b"content-type"), bytearray(b"text/plain")), (b"content-length", b"5")],
    ((b"content-type", b"text/plain"), (b"content-length", b"5")),
])
def test_fields_as_any_pairs_of_bytes_asgi_response_start(fields: object) -> None:
    for _ in range(2):  # the second time from the kept verdicts
        data, conn = _answer(fields)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\ncontent-type: text/plain" in head
        assert b"\r\nContent-Length: 5" in head
        assert b"chunked" not in head and not conn.closing
        assert body == b"hello"


@pytest.mark.parametrize("field", [
    (b"x-bad", b"a\r\nSet-Cookie: evil=1"), (b"x-bad", b"a\nb"), (b"x-bad", b"a\x00b"),
    (b"bad name", b"v"), (b"", b"v"),
])
def test_a_refused_field_is_refused_every_time_rfc9110_5_5(field: tuple[bytes, bytes]) -> None:
    for _ in range(2):
        exchange, _conn = _exchange()
        with pytest.raises(LocalProtocolError):
            exchange.start(200, [field])
    assert field not in exchange_module._FIELD_KINDS


def test_content_length_is_checked_every_time_rfc9110_8_6() -> None:
    for _ in range(2):
        exchange, _conn = _exchange()
        exchange.start(200, [(b"content-length", b"5")])
        with pytest.raises(LocalProtocolError):
            exchange.write(b"too long", False)
    for _ in range(2):
        exchange, _conn = _exchange()
        with pytest.raises(LocalProtocolError):
            exchange.start(200, [(b"content-length", b"5"), (b"content-length", b"6")])


@pytest.mark.parametrize("name", [b"content-length", b"Content-Length", b"CONTENT-LENGTH",
                                  b"content-Length", bytearray(b"Content-Length")])
@pytest.mark.parametrize("value", [b"5\r\nSet-Cookie: evil=1", b"5\n", b"5\x00", b" 5", b"+5",
                                   b"-5", b"5 ", b"", b"five", "5".encode("utf-16")])
def test_a_bad_content_length_is_refused_however_its_name_is_spelt_rfc9110_8_6(
        name: bytes, value: bytes) -> None:
    """The usual spellings of the name skip the field's validation (exchange.py),
    so the digits-only rule on the value is all that stands between an app's
    value and the wire: no CR, LF, NUL, sign or space gets through."""
    for _ in range(2):
        exchange, conn = _exchange()
        with pytest.raises(LocalProtocolError):
            exchange.start(200, [(name, value)])
        assert conn.transport.data == b""


def test_a_content_length_too_long_for_int_is_refused_not_a_crash_rfc9110_8_6() -> None:
    """Python's int() refuses more than sys.get_int_max_str_digits()
    digits (4,300 by default) with a ValueError; the app hears the same
    LocalProtocolError as for any other bad Content-Length (however many of
    the digits are leading zeros)."""
    for value in (b"9" * 5000, b"0" * 4999 + b"5"):
        exchange, conn = _exchange()
        with pytest.raises(LocalProtocolError, match="invalid Content-Length"):
            exchange.start(200, [(b"content-length", value)])
        assert conn.transport.data == b""


def test_content_length_however_spelt_frames_the_body_rfc9110_8_6() -> None:
    for name in (b"content-length", b"Content-Length", b"CONTENT-LENGTH", b"Content-length"):
        data, _ = _answer([(name, b"5")])
        assert data.count(b"ontent-") == 1 and b"\r\nContent-Length: 5\r\n" in data
        assert data.endswith(b"\r\n\r\nhello")


def test_connection_close_from_the_app_closes_every_time_rfc9112_9_6() -> None:
    for _ in range(2):
        data, conn = _answer([(b"connection", b"close"), (b"content-length", b"5")])
        assert conn.closing
        assert b"\r\nConnection: close\r\n" in data
        assert data.count(b"onnection:") == 1  # the server's own, not the app's


def test_fields_the_server_owns_are_dropped_every_time() -> None:
    fields = [(b"date", b"yesterday"), (b"server", b"other"), (b"content-length", b"5")]
    for _ in range(2):
        data, _ = _answer(fields)
        assert b"yesterday" not in data and b"other" not in data
        assert b"\r\nServer: sockweb\r\n" in data


def test_long_values_are_not_kept() -> None:
    cookie = (b"set-cookie", b"session=" + b"x" * 500)
    data, _ = _answer([cookie, (b"content-length", b"5")])
    assert cookie[1] in data
    assert cookie not in exchange_module._FIELD_KINDS


def test_changing_values_never_stop_the_table_from_learning() -> None:
    """Content-Length changes with every body: never kept. Fields whose values
    keep changing fill the table, which is then emptied, not frozen."""
    for size in range(3):
        _answer([(b"content-length", b"%d" % (size + 5))], b"x" * (size + 5))
        assert (b"content-length", b"%d" % (size + 5)) not in exchange_module._FIELD_KINDS
    for i in range(exchange_module._MAX_KINDS + 10):
        exchange, _conn = _exchange()
        exchange.start(200, [(b"etag", b'"%d"' % i)])
    assert len(exchange_module._FIELD_KINDS) <= exchange_module._MAX_KINDS
    _answer([(b"x-late", b"1"), (b"content-length", b"5")])
    assert (b"x-late", b"1") in exchange_module._FIELD_KINDS
