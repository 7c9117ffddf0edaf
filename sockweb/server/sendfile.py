"""Streaming a body of bytes and file slices: sendfile where it can be had.

asyncio's ``loop.sendfile`` is not available under uvloop, so zero-copy is
done here: once the transport has flushed everything it holds, ``os.sendfile``
writes straight from the file to a duplicate of the socket's descriptor, and
the loop watches that duplicate for writability. The duplicate has its own
number, so the event loop does not confuse it with the transport's own.

One duplicate serves a whole body. The bytes before and between file parts
(the head, multipart boundaries) are sent on it with MSG_MORE when the
transport holds nothing: the kernel keeps them for the file's first bytes, so
they leave in full segments, as nginx's ``tcp_nopush`` intends; sendfile marks
all but its own last bytes the same way, and the end is pushed. Setting and
clearing TCP_CORK around the body did the same, but under wrk on loopback a
corked 1 MiB response cost the server about twice the CPU (170-280 µs against
120-130 with MSG_MORE, benchmarks/PROFILE.md).

Where sendfile cannot be used (TLS, no real socket, or it fails as
unsupported), slices are read in blocks and written through the transport.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections.abc import Awaitable, Callable

from .response import FileSlice, Part

BLOCK = 256 * 1024
_MORE: int = getattr(socket, "MSG_MORE", 0)


class FileShrank(Exception):
    """The file got shorter after its length was sent: the body cannot be completed."""


class BodySender:
    """Sends the parts of one body; ``drain`` waits while the transport is paused."""

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        drain: Callable[[], Awaitable[None]],
        progress: Callable[[], None],
    ) -> None:
        self._transport = transport
        self._drain = drain
        self._progress = progress
        self._loop = asyncio.get_running_loop()
        sock = transport.get_extra_info("socket")
        self._native = sock is not None and transport.get_extra_info("sslcontext") is None
        self._sock_fd = sock.fileno() if sock is not None else -1
        self._family = sock.family if self._native else socket.AF_UNSPEC
        self._tcp = self._native and self._family in (socket.AF_INET, socket.AF_INET6)
        self._out: socket.socket | None = None  # the duplicate, while a body is sent

    async def send(self, parts: list[Part]) -> None:
        if not self._native or all(isinstance(part, bytes) for part in parts):
            await self._send(parts)
            return
        # The socket object owns the duplicate and closes it.
        out = self._out = socket.socket(self._family, socket.SOCK_STREAM, 0,
                                        os.dup(self._sock_fd))
        try:
            await self._send(parts)
        finally:
            self._out = None
            out.close()

    async def _send(self, parts: list[Part]) -> None:
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if isinstance(part, bytes):
                if self._out is not None and not self._transport.get_write_buffer_size():
                    part = self._send_more(self._out, part, more=i < last)
                if part:
                    self._transport.write(part)
                    await self._drain()
            elif self._out is not None:
                try:
                    await self._sendfile(part, self._out.fileno())
                except OSError as exc:
                    if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                        raise
                    self._out = None  # copy the rest; send() still closes the duplicate
                    await self._copy(part)
            else:
                await self._copy(part)

    def _send_more(self, out: socket.socket, data: bytes, more: bool) -> bytes:
        """Send ``data`` on the duplicate now, held for what follows if ``more``;
        what did not fit is returned, for the transport to write in order."""
        try:
            sent = out.send(data, _MORE if more and self._tcp else 0)
        except BlockingIOError:
            return data
        return data[sent:]

    async def _copy(self, part: FileSlice) -> None:
        offset, remaining = part.offset, part.count
        while remaining:
            block = os.pread(part.fd, min(BLOCK, remaining), offset)
            if not block:
                raise FileShrank
            self._transport.write(block)
            offset += len(block)
            remaining -= len(block)
            self._progress()
            await self._drain()

    async def _sendfile(self, part: FileSlice, out: int) -> None:
        # Bytes already queued in the transport must reach the socket first.
        while self._transport.get_write_buffer_size():
            await self._writable(out)
        offset, remaining = part.offset, part.count
        while remaining:
            try:
                sent = os.sendfile(out, part.fd, offset, remaining)
            except BlockingIOError:
                await self._writable(out)
                continue
            if sent == 0:
                raise FileShrank
            offset += sent
            remaining -= sent
            self._progress()

    async def _writable(self, fd: int) -> None:
        waiter = self._loop.create_future()

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        self._loop.add_writer(fd, ready)
        try:
            await waiter
        finally:
            self._loop.remove_writer(fd)
