"""Every limit on what a peer may send, each with its default and its reason.

The defaults follow nginx's where nginx has one, because that is what the web
already works with; the status a breach earns is in ``sockweb.http.errors``
raised by ``sockweb.http.parser``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    # nginx large_client_header_buffers 4 8k: a request line over 8 KiB -> 414.
    max_request_line: int = 8 * 1024
    # nginx: 4 buffers of 8 KiB hold the whole head; one field line over 8 KiB,
    # or a head over 32 KiB -> 431 (RFC 6585 section 5).
    max_field_size: int = 8 * 1024
    max_header_size: int = 32 * 1024
    # Apache LimitRequestFields 100; nginx has no count but its buffers bound it.
    max_header_count: int = 100
    # nginx client_max_body_size 1m -> 413 (RFC 9110 section 15.5.14).
    max_body_size: int = 1024 * 1024

    def field_refused(self, field_size: int, head_size: int, count: int) -> bool:
        """Does one more field (``field_size`` bytes) break a header limit?"""
        return (
            field_size > self.max_field_size
            or head_size > self.max_header_size
            or count > self.max_header_count
        )


DEFAULT_LIMITS = Limits()
