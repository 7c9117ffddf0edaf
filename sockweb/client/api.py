"""The client: ``sockweb.get(url)``, and ``sockweb.Client`` for a session.

A Client holds what outlives one request: the connection pool, the cookie
jar, TLS settings, default headers. ``request()`` builds the request, opens or
reuses a connection (through a proxy when the environment says so), sends it,
and follows redirects; the decisions themselves are pure functions in
``redirects``, and the choice of proxy and the CONNECT tunnel are in ``proxies``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from .._version import __version__
from ..http.errors import RemoteProtocolError
from ..http.headers import Headers
from ..http.urls import URL, encode_query
from .bodies import FileSpec, basic_auth, encode_chunked, encode_multipart
from .connection import Connection, Trace
from .cookies import CookieJar
from .decoding import accept_encoding
from .errors import CACertError, IncompleteBody, ProxyError, ReadError
from .models import Body, Request, Response
from .pool import Pool
from .proxies import environment_proxies, open_tunnel, proxy_for
from .redirects import MAX_REDIRECTS, REDIRECT_STATUSES
from .sockets import open_socket, wrap_tls

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from typing import Any

# Imported where they are needed, not here: ssl (https only), json, base64 and
# secrets (in .bodies), and urllib.request (in .proxies, only when there is a
# proxy to consider) cost a plain `sockweb get http://...` some 30 ms between them.

USER_AGENT = f"sockweb/{__version__}"
DEFAULT_TIMEOUT = (10.0, 60.0)  # connect, read: curl waits forever, which nobody wants
MAX_CONTENT = 256 * 1024 * 1024  # what .content will hold in memory; streaming has no cap
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_VERSIONS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}

TimeoutArg = float | tuple[float | None, float | None] | None
Pairs = Mapping[str, str] | Iterable[tuple[str, str]]  # params, headers, form data
Auth = tuple[str, str]


def _timeouts(timeout: TimeoutArg) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout
    return timeout, timeout


def ssl_context(verify: bool = True, cacert: str | None = None) -> ssl.SSLContext:
    """The system's trust store (or ``cacert``), host names checked, TLS 1.2 and later."""
    import ssl

    try:
        context = ssl.create_default_context(cafile=cacert)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise CACertError(f"cannot use the CA certificates in {cacert}: {reason}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Client:
    """A session: pooled connections, cookies, defaults. Use it as a context manager."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Auth | None = None,
        cookies: CookieJar | None = None,
        follow_redirects: bool = True,
        max_redirects: int = MAX_REDIRECTS,
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
        verify: bool = True,
        cacert: str | None = None,
        proxies: Mapping[str, str] | None = None,
        trust_env: bool = True,
        http_version: str = "1.1",
        max_content_size: int | None = MAX_CONTENT,
        trace: Trace | None = None,
    ) -> None:
        self.headers = Headers([(b"User-Agent", USER_AGENT.encode()), (b"Accept", b"*/*"),
                                (b"Accept-Encoding", accept_encoding().encode())])
        for name, value in (headers or {}).items():
            self.headers.set(name, value)
        self.auth = auth
        self.cookies = cookies if cookies is not None else CookieJar()
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.timeout = timeout
        self.http_version = http_version
        self.max_content_size = max_content_size
        self.trace = trace
        self._verify = verify
        self._cacert = cacert
        self._ssl_context: ssl.SSLContext | None = None  # made at the first https connection
        self._proxies = dict(proxies) if proxies is not None else (
            environment_proxies() if trust_env else {})
        self._trust_env = trust_env and proxies is None
        self._pool = Pool()

    @property
    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl_context(self._verify, self._cacert)
        return self._ssl_context

    # -- the public verbs ------------------------------------------------------
    def request(
        self, method: str, url: str | URL, *,
        params: Pairs | None = None, headers: Pairs | None = None,
        data: bytes | str | Pairs | None = None, json: Any = None,
        files: Mapping[str, FileSpec] | None = None, content: Body = None, auth: Auth | None = None,
        follow_redirects: bool | None = None, timeout: TimeoutArg | None = None,
        stream: bool = False,
    ) -> Response:
        """Send a request built by build_request(); read and close the body unless ``stream``."""
        request = self.build_request(method, url, params=params, headers=headers, data=data,
                                     json=json, files=files, content=content, auth=auth)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        response = self.send(request, follow_redirects=follow, timeout=timeout)
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

    def get(self, url: str | URL, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def head(self, url: str | URL, **kw: Any) -> Response:
        return self.request("HEAD", url, **kw)

    def post(self, url: str | URL, **kw: Any) -> Response:
        return self.request("POST", url, **kw)

    def put(self, url: str | URL, **kw: Any) -> Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str | URL, **kw: Any) -> Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str | URL, **kw: Any) -> Response:
        return self.request("DELETE", url, **kw)

    def options(self, url: str | URL, **kw: Any) -> Response:
        return self.request("OPTIONS", url, **kw)

    @contextmanager
    def stream(self, method: str, url: str | URL, **kw: Any) -> Iterator[Response]:
        response = self.request(method, url, stream=True, **kw)
        try:
            yield response
        finally:
            response.close()

    # -- building --------------------------------------------------------------
    def build_request(
        self, method: str, url: str | URL, *,
        params: Pairs | None = None, headers: Pairs | None = None,
        data: bytes | str | Pairs | None = None, json: Any = None,
        files: Mapping[str, FileSpec] | None = None, content: Body = None, auth: Auth | None = None,
    ) -> Request:
        """The Request that request() would send: the client's defaults merged with these."""
        target = url if isinstance(url, URL) else URL.parse(url)
        if target.scheme not in ("http", "https"):
            from ..http.urls import InvalidURL

            raise InvalidURL(f"unsupported scheme {target.scheme!r}")
        if params:
            pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
            extra = encode_query(pairs)
            target = target.replace(query=f"{target.query}&{extra}" if target.query else extra)
        merged = Headers.adopt(list(self.headers.raw))
        body: Body = content
        if json is not None:
            import json as jsonlib

            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            merged.set("Content-Type", "application/json")
        elif files:
            fields = list(data.items()) if isinstance(data, Mapping) else []
            body, ctype = encode_multipart(fields, files)
            merged.set("Content-Type", ctype)
        elif data is None:
            pass
        elif isinstance(data, bytes | str):
            body = data.encode() if isinstance(data, str) else data
            merged.set("Content-Type", "application/x-www-form-urlencoded")
        else:
            pairs = list(data.items()) if isinstance(data, Mapping) else list(data)
            body = encode_query(pairs).encode()
            merged.set("Content-Type", "application/x-www-form-urlencoded")
        for name, value in (headers.items() if isinstance(headers, Mapping) else headers or ()):
            if value == "":
                merged.remove(name)  # curl's -H "Name:" removes a default header
            else:
                merged.set(name, value)
        if (headers or "range" in self.headers) and "range" in merged and merged.get_raw(
            "accept-encoding"
        ) == self.headers.get_raw("accept-encoding"):
            # A range of a gzipped representation is useless to a resume, and
            # nginx then ignores Range and sends it all: ask for the bytes as
            # they are, like browsers do (curl sends no Accept-Encoding at all).
            merged.set("Accept-Encoding", "identity")
        credentials = auth or self.auth or (
            (target.username, target.password) if target.username or target.password else None)
        if credentials and "authorization" not in merged:
            merged.set("Authorization", basic_auth(*credentials))
        return Request(method.upper(), target.copy_without_userinfo(), merged, body)

    # -- sending ---------------------------------------------------------------
    def send(
        self, request: Request, *, follow_redirects: bool = True, timeout: TimeoutArg | None = None
    ) -> Response:
        history: list[Response] = []
        while True:
            response = self._send_one(request, timeout)
            if not (follow_redirects and response.status in REDIRECT_STATUSES
                    and "location" in response.headers):
                response.history = history
                return response
            from .redirects import (
                RedirectError,
                TooManyRedirects,
                redirect_headers,
                redirect_method,
                redirect_url,
            )

            if len(history) >= self.max_redirects:
                response.close()
                raise TooManyRedirects(f"more than {self.max_redirects} redirects")
            _drain(response)
            history.append(response)
            method = redirect_method(request.method, response.status)
            new_url = URL.parse(redirect_url(str(request.url), response.headers["location"]))
            changed = method != request.method
            if not changed and request.body is not None and not isinstance(request.body, bytes):
                raise RedirectError(
                    f"cannot follow the {response.status} redirect: the request body was "
                    "streamed and cannot be sent again")
            headers = redirect_headers(request.headers, str(request.url), str(new_url), changed)
            request = Request(method, new_url, headers, None if changed else request.body)

    def _send_one(self, request: Request, timeout: TimeoutArg | None) -> Response:
        connect_timeout, read_timeout = _timeouts(
            self.timeout if timeout is None else timeout)
        url = request.url
        proxy = proxy_for(self._proxies, url, self._trust_env) if self._proxies else None
        key = (url.scheme, url.host, url.effective_port, proxy)
        started = time.monotonic()
        pool = self._pool
        for attempt in (1, 2):
            pooled = pool.acquire(key)
            reused = pooled is not None
            conn = pooled or self._connect(url, proxy, key, connect_timeout, read_timeout)
            conn.read_timeout = read_timeout
            try:
                head = self._exchange(conn, request, proxy)
                break
            except (ReadError, RemoteProtocolError) as exc:
                conn.close()
                # A kept-alive connection the server had just closed: once more
                # on a new one, but only for an idempotent method whose body
                # can be sent again (RFC 9110 section 9.2.2).
                if not (reused and attempt == 1 and not isinstance(exc, IncompleteBody)
                        and request.method in IDEMPOTENT
                        and (request.body is None or isinstance(request.body, bytes))):
                    raise
            except BaseException:
                conn.close()
                raise
        if "transfer-encoding" in head.headers:
            _only_chunked(head.headers, conn)
        self.cookies.extract(url, request.headers, head.status, head.headers)

        def on_close(complete: bool, conn: Connection = conn) -> None:
            if complete:
                pool.release(conn)
            else:
                conn.close()

        version = head.http_version
        return Response(
            request, head.status, head.reason.decode("latin-1"),
            _VERSIONS.get(version) or f"HTTP/{version}", head.headers, conn.iter_body(),
            on_close=on_close, max_content_size=self.max_content_size,
            elapsed=time.monotonic() - started, copy_body=conn.copy_body)

    def _exchange(self, conn: Connection, request: Request, proxy: str | None) -> Any:
        url = request.url
        headers = request.headers
        seed_shape = self.http_version == "1.0"
        if seed_shape:
            # The seed's request: absolute-form target, HTTP/1.0, no headers
            # of our own (RFC 9112 section 3.2.2 lets a server take the host
            # from the target). With a Host of the caller's own, origin-form,
            # as the server must otherwise prefer the target's host to it.
            target = (url.request_target if "host" in headers
                      else url.absolute_target).encode()
            defaults = {b"user-agent", b"accept", b"accept-encoding"}
            fields = [
                (n, v) for n, v in headers.raw
                if n.lower() not in defaults or self.headers.get_raw(n) != v]
        else:
            # A Host of the caller's own goes instead of the URL's, first (curl
            # -H 'Host: ...', httpx): how a virtual host is tested before its
            # name resolves. Redirects drop it (redirects.redirect_headers).
            own_host = headers.get_raw(b"host") if "host" in headers else None
            fields = [(b"Host", own_host or url.netloc_for_host_header.encode())]
            if proxy is not None and url.scheme == "http":
                target = url.absolute_target.encode()
                proxy_url = URL.parse(proxy)
                if proxy_url.userinfo:
                    fields.append((b"Proxy-Authorization", basic_auth(*proxy_url.userinfo)))
            else:
                target = url.request_target.encode()
            if own_host is not None:
                fields.extend((n, v) for n, v in headers.raw if n.lower() != b"host")
            else:
                fields += headers.raw
        if "cookie" not in headers and self.cookies:
            cookie = self.cookies.header_for(url, request.method)
            if cookie:
                fields.append((b"Cookie", cookie.encode("latin-1")))
        body = request.body
        if isinstance(body, bytes):
            if body or request.method in ("POST", "PUT", "PATCH"):
                fields.append((b"Content-Length", str(len(body)).encode()))
        elif body is not None:
            fields.append((b"Transfer-Encoding", b"chunked"))
            body = encode_chunked(body)
        conn.send_request(request.method.encode(), target, fields, body,
                          b"1.0" if seed_shape else b"1.1")
        return conn.read_head()

    def _connect(
        self,
        url: URL,
        proxy: str | None,
        key: tuple[object, ...],
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> Connection:
        if proxy is None:
            sock = open_socket(url.host, url.effective_port, connect_timeout)
        else:
            proxy_url = URL.parse(proxy)
            try:
                sock = open_socket(proxy_url.host, proxy_url.effective_port, connect_timeout)
            except Exception as exc:
                raise ProxyError(f"proxy {proxy_url.host}: {exc}") from exc
            if url.scheme == "https":
                open_tunnel(sock, url, proxy_url, read_timeout, self.trace)
        if url.scheme == "https":
            sock = wrap_tls(sock, url.host, self._ssl)
        return Connection(sock, key, read_timeout=read_timeout, trace=self.trace)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _only_chunked(headers: Headers, conn: Connection) -> None:
    """Refuse a body under a transfer coding other than chunked (gzip,
    deflate...: RFC 9112 section 7), which the parser frames but nothing
    here decodes: its coded bytes must not pass for the body."""
    codings = [c.strip().lower() for c in (headers.get("transfer-encoding") or "").split(",")]
    others = [c for c in codings if c and c != "chunked"]
    if others:
        from .decoding import DecodingError

        conn.close()
        raise DecodingError(f"unsupported transfer coding {', '.join(others)!r} in the response")


def _drain(response: Response, limit: int = 64 * 1024) -> None:
    """Read a redirect's small body so its connection can be reused; else close it."""
    try:
        size = 0
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > limit:
                break
    except Exception:
        pass
    response.close()


def request(method: str, url: str | URL, **kw: Any) -> Response:
    """One request with a throwaway Client (its connection is closed after)."""
    client_kw = {k: kw.pop(k) for k in ("verify", "cacert", "proxies", "trust_env",
                                         "http_version", "max_redirects") if k in kw}
    with Client(**client_kw) as client:
        return client.request(method, url, **kw)


def get(url: str | URL, **kw: Any) -> Response:
    return request("GET", url, **kw)


def post(url: str | URL, **kw: Any) -> Response:
    return request("POST", url, **kw)
