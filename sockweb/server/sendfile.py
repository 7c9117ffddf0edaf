"""Streaming a body of bytes and file slices: sendfile where it can be had.

asyncio's ``loop.sendfile`` is not available under uvloop, so zero-copy is
done here: once the transport has flushed everything it holds, ``os.sendfile``
writes straight from the file to a duplicate of the socket's descriptor, and
the loop watches that duplicate for writability. The duplicate has its own
number, so the event loop does not confuse it with the transport's own.

Where sendfile cannot be used (TLS, no real socket, or it fails as
unsupported), slices are read in blocks and written through the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Awaitable, Callable

from .response import FileSlice, Part

BLOCK = 256 * 1024
_CORK: int | None = getattr(socket, "TCP_CORK", None)


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
        self._tcp = self._native and sock.family in (socket.AF_INET, socket.AF_INET6)

    async def send(self, parts: list[Part]) -> None:
        # Like nginx's tcp_nopush: with the socket corked, the head and the
        # file's first bytes leave in full segments instead of a small one
        # first; uncorking at the end pushes out the tail.
        cork = self._tcp and _CORK is not None and len(parts) > 1
        if cork:
            self._cork(1)
        try:
            await self._send(parts)
        finally:
            if cork:
                self._cork(0)

    def _cork(self, on: int) -> None:
        sock = self._transport.get_extra_info("socket")
        with contextlib.suppress(OSError):  # closed meanwhile
            sock.setsockopt(socket.IPPROTO_TCP, _CORK, on)

    async def _send(self, parts: list[Part]) -> None:
        for part in parts:
            if isinstance(part, bytes):
                self._transport.write(part)
                await self._drain()
            elif self._native:
                try:
                    await self._sendfile(part)
                except OSError as exc:
                    if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                        raise
                    self._native = False
                    await self._copy(part)
            else:
                await self._copy(part)

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

    async def _sendfile(self, part: FileSlice) -> None:
        out = os.dup(self._sock_fd)
        try:
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
        finally:
            os.close(out)

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
