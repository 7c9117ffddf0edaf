"""Idle connections kept per origin for reuse (RFC 9112 section 9.3).

The bookkeeping is separate from sockets: a connection goes back only if it
is reusable, at most ``per_origin`` wait per origin and ``total`` in all, the
oldest goes first, and one idle longer than ``idle_timeout`` is dropped (the
server has likely closed it; nginx's keepalive_timeout is 75 s, uvicorn's 5 s).
"""

from __future__ import annotations

import _thread
import time
from collections import OrderedDict
from collections.abc import Callable

from .connection import Connection


class Pool:
    def __init__(
        self,
        per_origin: int = 10,
        total: int = 100,
        idle_timeout: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_origin = per_origin
        self.total = total
        self.idle_timeout = idle_timeout
        self._clock = clock
        # key -> [(connection, idle since)], most recent last
        self._idle: OrderedDict[tuple[object, ...], list[tuple[Connection, float]]] = OrderedDict()
        self._count = 0
        self._lock = _thread.allocate_lock()  # threading.Lock, without importing threading

    def acquire(self, key: tuple[object, ...]) -> Connection | None:
        """An idle connection for ``key`` that still looks alive, or None."""
        now = self._clock()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                conn, since = idle.pop()
                self._count -= 1
                if not idle:
                    del self._idle[key]
            if now - since <= self.idle_timeout and not conn.is_stale():
                return conn
            conn.close()

    def release(self, conn: Connection) -> None:
        if not conn.reusable:
            conn.close()
            return
        evicted: list[Connection] = []
        with self._lock:
            idle = self._idle.setdefault(conn.key, [])
            idle.append((conn, self._clock()))
            self._count += 1
            if len(idle) > self.per_origin:
                evicted.append(idle.pop(0)[0])
                self._count -= 1
            while self._count > self.total:
                # The connection idle longest, whichever origin it is for.
                oldest_key = min(self._idle, key=lambda k: self._idle[k][0][1])
                bucket = self._idle[oldest_key]
                evicted.append(bucket.pop(0)[0])
                self._count -= 1
                if not bucket:
                    del self._idle[oldest_key]
        for old in evicted:
            old.close()

    def idle_count(self, key: tuple[object, ...] | None = None) -> int:
        with self._lock:
            if key is None:
                return self._count
            return len(self._idle.get(key, ()))

    def close(self) -> None:
        with self._lock:
            conns = [c for bucket in self._idle.values() for c, _ in bucket]
            self._idle.clear()
            self._count = 0
        for conn in conns:
            conn.close()
