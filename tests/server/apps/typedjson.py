"""JSON that keeps Python types apart: bytes, tuples and str stay distinguishable.

The apps encode what the server handed them (an ASGI scope, a WSGI environ)
with :func:`encode`; the tests decode it with :func:`decode` and compare
types exactly, so ``b"/x"`` never passes for ``"/x"``.
"""

from __future__ import annotations

import json
from typing import Any


def encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": value.decode("latin-1")}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"__repr__": type(value).__name__}


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return value["__bytes__"].encode("latin-1")
        if set(value) == {"__tuple__"}:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(encode(value)).encode()


def loads(data: bytes) -> Any:
    return decode(json.loads(data))
