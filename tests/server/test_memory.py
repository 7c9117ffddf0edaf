"""What a connection leaves behind when it closes: nothing for the cyclic
garbage collector, so memory is freed at once and collections stay short."""

from __future__ import annotations

import asyncio
import gc
import io
import socket
import threading

from sockweb.server.config import ServerConfig
from sockweb.server.listener import Server


def test_closed_connections_leave_no_reference_cycles() -> None:
    async def main() -> list[str]:
        server = Server(ServerConfig(hello=True, access_log=False, host="127.0.0.1", port=0),
                        out=io.StringIO())
        await server.start()

        def clients() -> None:
            for _ in range(50):
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                    assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")

        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            thread = threading.Thread(target=clients)
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.01)
            thread.join()
            while server._state is not None and server._state.connections:
                await asyncio.sleep(0.01)
            gc.collect()
            names = [type(o).__name__ for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
            await server.shutdown()
        return names

    garbage = asyncio.run(main())
    ours = {"HttpProtocol", "RequestParser", "HttpRequestParser", "RequestHead", "Headers"}
    assert not ours & set(garbage), sorted(set(garbage))
