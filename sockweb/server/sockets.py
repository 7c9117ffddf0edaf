"""Where the server listens: TCP, a Unix socket, inherited descriptors, TLS.

One function, :func:`open_listeners`, turns the settings into listening
sockets, picked in this order:

1. ``--uds PATH``: a Unix socket (a stale socket file is replaced; any other
   file in the way is an error, never removed);
2. ``--fd N``: a socket someone else opened and handed down (a supervisor,
   a test, ``systemd-socket-activate``);
3. systemd socket activation: ``LISTEN_FDS`` sockets from descriptor 3 on,
   when ``LISTEN_PID`` names this process (sd_listen_fds(3));
4. ``--host``/``--port``: every address of the host, all on one port.

The sockets are opened once, before any fork, so that pre-forked workers and
the ``--reload`` child share them: a restart never refuses a connection, it
only queues it in the kernel's backlog.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import ssl
import stat
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from ..http.errors import SockwebError
from .config import ServerConfig

# Connections the kernel queues before accept(): uvicorn's default (nginx's is
# 511). 1000 clients connecting at once must not overflow it, or their SYNs are
# dropped and retried a second later. The kernel caps it at somaxconn.
BACKLOG = 2048
UDS_MODE = 0o666
SD_LISTEN_FDS_START = 3  # systemd hands its sockets over from descriptor 3 on


class StartupError(SockwebError):
    """The server cannot start; the message is one line for the user (exit code 2)."""


@dataclass
class Listeners:
    """The listening sockets of one server, its TLS context and the addresses to print."""

    sockets: list[socket.socket]
    ssl: ssl.SSLContext | None = None
    urls: list[str] = field(default_factory=list)
    # The Unix socket file this process created (path, inode); removed by close(),
    # unless something else has since taken the path.
    created: tuple[str, int] | None = None

    @property
    def port(self) -> int:
        """The TCP port of the first internet socket (0 if there is none)."""
        for sock in self.sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                return int(sock.getsockname()[1])
        return 0

    def fds(self) -> list[int]:
        return [sock.fileno() for sock in self.sockets]

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        if self.created is not None:
            path, inode = self.created
            with contextlib.suppress(OSError):
                if os.lstat(path).st_ino == inode:
                    os.unlink(path)
            self.created = None


def tls_context(certfile: str, keyfile: str | None = None) -> ssl.SSLContext:
    """A server context: TLS 1.2 and later, ALPN "http/1.1", the stdlib's ciphers."""
    for path in (certfile, keyfile):
        if path is not None and not os.path.isfile(path):
            raise StartupError(f"cannot use TLS: no such file: {path}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # RFC 8996 deprecates TLS 1.0 and 1.1; Mozilla's "intermediate" profile starts at 1.2.
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # Only HTTP/1.1 is spoken: a client offering h2 must learn that in the handshake.
    ctx.set_alpn_protocols(["http/1.1"])

    def no_password() -> str:
        # Without a callback OpenSSL would prompt on the terminal and hang a service.
        raise StartupError(f"cannot use TLS: the key in {keyfile or certfile} is encrypted; "
                           "give sockweb an unencrypted key")

    try:
        ctx.load_cert_chain(certfile, keyfile, password=no_password)
    except StartupError:
        raise
    except ssl.SSLError as exc:
        what = f"{certfile} and {keyfile}" if keyfile else certfile
        raise StartupError(f"cannot use TLS with {what}: {exc.reason or exc}") from None
    except OSError as exc:
        raise StartupError(f"cannot use TLS: {exc.strerror or exc}") from None
    return ctx


def _bind_error(where: str, exc: OSError) -> StartupError:
    reasons = {
        errno.EADDRINUSE: "address already in use",
        errno.EACCES: "permission denied" + (" (ports below 1024 need root)"
                                             if not where.startswith("unix:") else ""),
        errno.EADDRNOTAVAIL: "no such local address",
        errno.ENOENT: "no such directory",
    }
    reason = reasons.get(exc.errno or 0, exc.strerror or str(exc))
    return StartupError(f"cannot listen on {where}: {reason}")


def bind_sockets(host: str, port: int, backlog: int = BACKLOG) -> list[socket.socket]:
    """Listening sockets for every address of ``host``, all on one port.

    With port 0 the first bind picks the port and the others take the same,
    so the banner's one address reaches all of them.
    """
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                                   0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    seen: set[tuple[int, object]] = set()
    addresses = []
    for family, _, _, _, sockaddr in infos:
        if (family, sockaddr[0]) not in seen:
            seen.add((family, sockaddr[0]))
            addresses.append((family, sockaddr))
    sockets: list[socket.socket] = []
    chosen = port
    try:
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((sockaddr[0], chosen, *sockaddr[2:]))
            sock.listen(backlog)
            sock.setblocking(False)
            chosen = sock.getsockname()[1]
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise _bind_error(f"{host}:{chosen}", exc) from None
    return sockets


def bind_unix(path: str, backlog: int = BACKLOG) -> tuple[socket.socket, int]:
    """A listening Unix socket at ``path`` and its inode (to remove it later, if still ours)."""
    where = f"unix:{path}"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _bind_error(where, exc) from None
    else:
        if not stat.S_ISSOCK(st.st_mode):
            # Never delete what we did not make: a typo must not cost someone a file.
            raise StartupError(f"cannot listen on {where}: a file that is not a socket is there")
        if _answers(path):
            raise StartupError(f"cannot listen on {where}: address already in use")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left behind by a server that died without cleaning up
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        # Connectable by every local user, as a port on 127.0.0.1 is (uvicorn,
        # and gunicorn's umask 0, do the same): the proxy in front usually runs
        # as another user. The directory's permissions restrict it where needed.
        os.chmod(path, UDS_MODE)
        sock.listen(backlog)
        sock.setblocking(False)
        inode = os.lstat(path).st_ino
    except OSError as exc:
        sock.close()
        raise _bind_error(where, exc) from None
    return sock, inode


def _answers(path: str) -> bool:
    """Whether a server is listening on the Unix socket file ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False  # ECONNREFUSED: the file outlived its server
    return True


def adopt(fd: int, origin: str, backlog: int = BACKLOG) -> socket.socket:
    """The listening socket open on descriptor ``fd`` (``origin`` names it in errors)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        reason = {errno.EBADF: "no such open descriptor",
                  errno.ENOTSOCK: "not a socket"}.get(exc.errno or 0, exc.strerror)
        raise StartupError(f"cannot listen on {origin}: {reason}") from None
    if sock.type != socket.SOCK_STREAM:
        sock.detach()  # not ours to close
        raise StartupError(f"cannot listen on {origin}: not a stream socket")
    try:
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.listen(backlog)  # bound by whoever passed it, listen() left to us
    except OSError as exc:
        sock.detach()
        raise StartupError(f"cannot listen on {origin}: {exc.strerror}") from None
    sock.setblocking(False)
    # The app's own subprocesses must not keep our port open after we exit.
    sock.set_inheritable(False)
    return sock


def systemd_fds(environ: MutableMapping[str, str] | None = None) -> list[int]:
    """The descriptors systemd passed to this process, or [] if none were."""
    env = os.environ if environ is None else environ
    count, pid = env.get("LISTEN_FDS"), env.get("LISTEN_PID")
    if not count or not pid:
        return []
    if pid.strip() != str(os.getpid()):
        return []  # meant for a process that exec'd us, or a parent: not ours to take
    try:
        n = int(count)
    except ValueError:
        raise StartupError(f"systemd socket activation: bad LISTEN_FDS={count!r}") from None
    # As sd_listen_fds(unset_environment=1): workers, the reload child and the
    # app's subprocesses must not take the same descriptors a second time.
    for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(key, None)
    return list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + n))


def url_of(sock: socket.socket, scheme: str) -> str:
    """How the banner names a listening socket: http://127.0.0.1:9000, unix:/run/x.sock."""
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        if isinstance(name, bytes):  # Linux abstract namespace: a leading NUL
            return "unix:@" + name[1:].decode("utf-8", "replace")
        return f"unix:{name}"
    host = f"[{name[0]}]" if sock.family == socket.AF_INET6 else name[0]
    return f"{scheme}://{host}:{name[1]}"


def check_listen_settings(config: ServerConfig) -> None:
    if config.keyfile and not config.certfile:
        raise StartupError("--keyfile needs --certfile")
    if config.uds and config.fd is not None:
        raise StartupError("--uds and --fd cannot be used together: give one place to listen")


def adopt_all(fds: list[int], origin: str, config: ServerConfig) -> Listeners:
    """Listeners over descriptors opened by someone else (never unlinked by us)."""
    ctx = tls_context(config.certfile, config.keyfile) if config.certfile else None
    scheme = "https" if ctx else "http"
    sockets = [adopt(fd, origin if len(fds) == 1 else f"{origin} {fd}", config.backlog)
               for fd in fds]
    urls = list(dict.fromkeys(url_of(sock, scheme) for sock in sockets))
    return Listeners(sockets, ctx, urls)


def open_listeners(config: ServerConfig) -> Listeners:
    """The sockets ``config`` asks for, bound and listening, with the TLS context."""
    check_listen_settings(config)
    if config.fd is not None:
        return adopt_all([config.fd], f"--fd {config.fd}", config)
    if not config.uds:
        activated = systemd_fds()
        if activated:
            return adopt_all(activated, "LISTEN_FDS", config)
    # The TLS context first: a bad certificate should not leave a socket file behind.
    ctx = tls_context(config.certfile, config.keyfile) if config.certfile else None
    scheme = "https" if ctx else "http"
    if config.uds:
        sock, inode = bind_unix(config.uds, config.backlog)
        return Listeners([sock], ctx, [f"unix:{config.uds}"], created=(config.uds, inode))
    sockets = bind_sockets(config.host, config.port, config.backlog)
    port = sockets[0].getsockname()[1]
    return Listeners(sockets, ctx, [f"{scheme}://{config.display_host}:{port}"])
