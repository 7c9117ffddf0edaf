"""One client library, N GETs of one URL over one kept-alive connection, in one process.

    python client_one.py LIB URL N OUT.json

Writes {"us_per_req": ..., "n": N} to OUT.json. The import, the client's
creation and a warm-up of 50 requests are outside the timed loop; every body
is read in full and its length checked against the first one.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit


def make(lib: str, url: str) -> Callable[[], bytes]:
    if lib == "sockweb":
        import sockweb

        client = sockweb.Client()
        return lambda: client.get(url).content
    if lib == "http.client":
        import http.client

        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        path = parts.path or "/"

        def get() -> bytes:
            conn.request("GET", path)
            return conn.getresponse().read()
        return get
    if lib == "urllib3":
        import urllib3

        pool = urllib3.PoolManager()
        return lambda: pool.request("GET", url).data
    if lib == "requests":
        import requests

        session = requests.Session()
        return lambda: session.get(url).content
    if lib == "httpx":
        import httpx

        hclient = httpx.Client()
        return lambda: hclient.get(url).content
    raise SystemExit(f"unknown client {lib}")


def main() -> None:
    lib, url, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    get = make(lib, url)
    size = len(get())
    for _ in range(50):
        get()
    t0 = time.perf_counter()
    for _ in range(n):
        if len(get()) != size:
            raise SystemExit("short body")
    elapsed = time.perf_counter() - t0
    with open(out, "w") as f:
        json.dump({"us_per_req": elapsed / n * 1e6, "n": n, "size": size}, f)


if __name__ == "__main__":
    main()
