"""Load ``--app module:attribute``, tell ASGI from WSGI, and route --static mounts."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from ..http.headers import Headers
from .config import ServerConfig
from .listener import StartupError
from .response import Response, error_page


def import_app(spec: str, app_dir: str = ".", factory: bool = False) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise StartupError(f"--app takes 'module:attribute', not {spec!r}")
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise StartupError(f"cannot import app module {module_name!r}: no such module "
                               f"(looked in {path})") from None
        raise StartupError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise StartupError(f"importing {module_name!r} failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    obj: Any = module
    for part in attr.rstrip("()").split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StartupError(f"module {module_name!r} has no attribute {attr!r}") from None
    if factory or attr.endswith("()"):
        try:
            obj = obj()
        except Exception as exc:
            raise StartupError(f"the app factory {spec!r} failed: "
                               f"{type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise StartupError(f"{spec!r} is not callable, so not an app")
    return obj


def is_asgi(app: Any) -> bool:
    """ASGI 3: an async callable of (scope, receive, send); WSGI: a plain callable."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the bound method is what counts
    return inspect.iscoroutinefunction(call)


def load_app(config: ServerConfig) -> Any:
    assert config.app is not None
    app = import_app(config.app, config.app_dir, config.factory)
    kind = config.interface
    if kind == "auto":
        kind = "asgi" if is_asgi(app) else "wsgi"
    if kind == "asgi":
        from .asgi import ASGIRunner

        return ASGIRunner(app, config)
    from .wsgi import WSGIRunner

    return WSGIRunner(app, config)


class Mounts:
    """The --static mounts served beside an app: PREFIX=DIR, longest prefix first."""

    def __init__(self, config: ServerConfig) -> None:
        from .static import StaticFiles

        self.mounts: list[tuple[bytes, StaticFiles]] = []
        for spec in config.static:
            prefix, sep, directory = spec.partition("=")
            if not sep or not prefix.startswith("/"):
                raise StartupError(f"--static takes PREFIX=DIR, e.g. /static=./public, "
                                   f"not {spec!r}")
            if not os.path.isdir(directory):
                raise StartupError(f"--static {spec}: not a directory: {directory}")
            raw = prefix.rstrip("/").encode()
            self.mounts.append((raw, StaticFiles(directory, dotfiles=config.dotfiles,
                                                 small_file_limit=config.small_file_limit,
                                                 prefix=raw)))
        self.mounts.sort(key=lambda m: -len(m[0]))

    def match(self, path: bytes) -> bool:
        """(The connection calls this only when there are mounts: usually none.)"""
        return any(path == p or path.startswith(p + b"/") for p, _ in self.mounts)

    def handle(self, method: str, path: bytes, query: bytes, headers: Headers) -> Response:
        for prefix, files in self.mounts:
            if path == prefix or path.startswith(prefix + b"/"):
                # The path below the prefix; b"" (the prefix itself) is
                # redirected to prefix + "/" by the files, which know it.
                return files.handle(method, path[len(prefix):], query, headers)
        return error_page(404)
