"""WebSockets (RFC 6455) to ASGI apps, with the `websockets` library as the peer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets

from tests.conftest import ServerProcess

APPS = str(Path(__file__).parent / "ws_apps")


@pytest.fixture
def ws_server(start_server) -> ServerProcess:  # type: ignore[no-untyped-def]
    return start_server("--app", "ws_echo:app", "--app-dir", APPS)  # type: ignore[no-any-return]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_echo_text_and_bytes_rfc6455_5_6(ws_server: ServerProcess) -> None:
    async def main() -> list[object]:
        url = f"ws://127.0.0.1:{ws_server.port}/ws"
        async with websockets.connect(url) as ws:
            await ws.send("hello")
            text = await ws.recv()
            await ws.send(b"bytes")
            binary = await ws.recv()
            big = "x" * 200_000  # several frames' worth
            await ws.send(big)
            echoed = await ws.recv()
            return [text, binary, len(echoed)]

    assert run(main()) == ["echo:hello", "echo:bytes", 200_005]


def test_subprotocol_negotiated_rfc6455_4_2_2(ws_server: ServerProcess) -> None:
    async def main() -> str | None:
        async with websockets.connect(f"ws://127.0.0.1:{ws_server.port}/ws",
                                      subprotocols=["chat", "superchat"]) as ws:
            return ws.subprotocol

    assert run(main()) == "chat"


def test_app_close_code_reaches_the_client_rfc6455_7_4(ws_server: ServerProcess) -> None:
    async def main() -> int | None:
        async with websockets.connect(f"ws://127.0.0.1:{ws_server.port}/ws") as ws:
            await ws.send("bye")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert run(main()) == 1000


def test_close_before_accept_is_403(ws_server: ServerProcess) -> None:
    """ASGI: websocket.close before websocket.accept rejects the handshake with 403."""
    async def main() -> int:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"ws://127.0.0.1:{ws_server.port}/deny"):
                pass
        return refused.value.response.status_code

    assert run(main()) == 403
    ws_server.wait_for_output('"GET /deny HTTP/1.1" 403')


def test_http_still_served_beside_websockets(ws_server: ServerProcess) -> None:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{ws_server.port}/") as r:
        assert r.read() == b"http"


def test_shutdown_closes_websockets_with_1001_rfc6455_7_4_1(ws_server: ServerProcess) -> None:
    import os
    import signal

    async def main() -> int | None:
        async with websockets.connect(f"ws://127.0.0.1:{ws_server.port}/ws") as ws:
            await ws.send("hi")
            await ws.recv()
            os.kill(ws_server.proc.pid, signal.SIGINT)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert run(main()) == 1001
    assert ws_server.proc.wait(10) == 0


def test_starlette_websocket_endpoint(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server("--app", "ws_echo:starlette_app", "--app-dir", APPS)

    async def main() -> str:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/upper") as ws:
            await ws.send("shout")
            return str(await ws.recv())

    assert run(main()) == "SHOUT"


def test_many_clients_and_abrupt_disconnects_leave_the_server_well(
    ws_server: ServerProcess,
) -> None:
    import socket

    for _ in range(20):
        # A handshake, then the TCP connection simply dropped.
        with socket.create_connection(("127.0.0.1", ws_server.port), timeout=5) as sock:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 101 ")

    async def main() -> list[str]:
        async def one(i: int) -> str:
            async with websockets.connect(f"ws://127.0.0.1:{ws_server.port}/ws") as ws:
                await ws.send(str(i))
                return str(await ws.recv())

        return list(await asyncio.gather(*(one(i) for i in range(50))))

    assert run(main()) == [f"echo:{i}" for i in range(50)]
    assert not any("Traceback" in line for line in ws_server.errors), ws_server.errors
