"""The package's shape: imports flow one way, and the public API is pinned."""

from __future__ import annotations

import ast
from pathlib import Path

import sockweb

PACKAGE = Path(sockweb.__file__).parent

# What each layer may import of sockweb (STYLE.md): http/ nothing, server and
# client only http/, browser client and http/, cli everything (lazily).
ALLOWED = {
    "http": {"http"},
    "server": {"http", "server", "_loop"},
    "client": {"http", "client", "_version"},
    "browser": {"http", "client", "browser"},
}


def _sockweb_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    layer = path.relative_to(PACKAGE).parts[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("sockweb."):
                found.add(node.module.split(".")[1])
            elif node.level == 1:
                found.add(layer)
            elif node.level == 2:
                found.add((node.module or "").split(".")[0] or "sockweb")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sockweb."):
                    found.add(alias.name.split(".")[1])
    return found


def test_imports_flow_one_way() -> None:
    for layer, allowed in ALLOWED.items():
        for path in (PACKAGE / layer).glob("*.py"):
            extra = _sockweb_imports(path) - allowed
            assert not extra, f"{path.relative_to(PACKAGE)} imports {sorted(extra)}"


def test_http_layer_has_no_sockets_or_asyncio() -> None:
    for path in (PACKAGE / "http").glob("*.py"):
        text = path.read_text()
        assert "import socket" not in text and "import asyncio" not in text, path.name


def test_public_api() -> None:
    assert sorted(sockweb.__all__) == sorted([
        "URL", "Client", "HTTPStatusError", "InvalidURL", "Response", "SockwebError",
        "TransportError", "__version__", "get", "post", "request",
    ])
    for name in sockweb.__all__:
        assert getattr(sockweb, name) is not None, name


def test_importing_sockweb_loads_no_client_or_server() -> None:
    import subprocess
    import sys

    code = ("import sys, sockweb; print(sorted(m for m in sys.modules "
            "if m.startswith(('sockweb.client', 'sockweb.server', 'ssl'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True).stdout.strip()
    assert out == "[]"
