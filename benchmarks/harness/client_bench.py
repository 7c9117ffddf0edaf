"""Client scenarios (nginx on the server core, the client on the load core) and the
browser scenario (hyperfine on the load core)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measure import Sample, Window, interleave, log
from .procs import LOAD_CORE, pinned, run_timed
from .servers import NOT_IN_SOCKWEB, Env, Running, StartError, server_spec, start


@dataclass
class ClientScenario:
    name: str
    title: str
    unit: str
    better: str  # "higher" or "lower"


SCENARIOS = [
    ClientScenario("client-1k", "client: 1000 GETs of a 1 KiB file over one kept-alive "
                   "connection, in one process", "µs/req", "lower"),
    ClientScenario("download-1g", "client: a 1 GiB download to /dev/null", "MiB/s", "higher"),
    ClientScenario("startup", "client: start-up, one GET of a 37-byte file (hyperfine)",
                   "ms", "lower"),
    ClientScenario("browser", "(4) browser: --dump of the largest page of python3-doc "
                   "(hyperfine)", "ms", "lower"),
    ClientScenario("browser-genindex", "browser: --dump of genindex-all.html, the page issue 4 "
                   "names (hyperfine)", "ms", "lower"),
]
_BROWSER = ("browser", "browser-genindex")

PY_CLIENTS = {"sockweb": "sockweb", "http.client": "http", "urllib3": "urllib3",
              "requests": "requests", "httpx": "httpx"}


def sockweb_cli(env: Env) -> list[str]:
    script = Path(env.python).parent / "sockweb"
    return [str(script)] if script.exists() else [env.python, "-m", "sockweb"]


@dataclass
class Entry:
    name: str
    label: str
    command: list[str]
    run: Callable[[], tuple[float, float, dict[str, Any]]] | None = None  # value, cpu, extra
    skip: str | None = None
    shown: str = ""  # the command as RESULTS.md shows it, if not shlex.join(command)


def _hyperfine(env: Env, name: str, command: str, runs: int, warm: int) -> Entry:
    out = env.tmp / f"hyperfine-{name}.json"
    argv = pinned(LOAD_CORE, ["hyperfine", "-N", "--warmup", str(warm), "--runs", str(runs),
                              "--export-json", str(out), command])

    def run() -> tuple[float, float, dict[str, Any]]:
        _, cpu, rc = run_timed(argv, timeout=120, env=env.child_env)
        if rc:
            raise RuntimeError(f"hyperfine failed for {command} (exit {rc})")
        res = json.loads(out.read_text())["results"][0]
        return res["median"] * 1000, cpu, {"mean_ms": res["mean"] * 1000,
                                           "min_ms": res["min"] * 1000,
                                           "stddev_ms": res["stddev"] * 1000}
    skip = None if shutil.which("hyperfine") else "hyperfine not installed"
    shown = shlex.join(argv[:-1]) + f" '{command}'"
    return Entry(name, command, argv, run, skip, shown)


def entries_for(name: str, env: Env, url: str, quick: bool) -> list[Entry]:
    py, cli = env.python, sockweb_cli(env)
    if name == "client-1k":
        n = 200 if quick else 1000
        entries = []
        for lib, module in PY_CLIENTS.items():
            out = env.tmp / f"client-{lib}.json"
            argv = pinned(LOAD_CORE, [py, str(env.bench / "harness" / "client_one.py"), lib,
                                      url + "/1k.bin", str(n), str(out)])

            def run(argv: list[str] = argv, out: Path = out) -> tuple[float, float, dict[str, Any]]:
                _, cpu, rc = run_timed(argv, timeout=120, env=env.child_env)
                if rc:
                    raise RuntimeError(f"{argv} failed (exit {rc})")
                return json.loads(out.read_text())["us_per_req"], cpu, {"n": n}
            have = importlib.util.find_spec(module) is not None
            entries.append(Entry(lib, f"{lib} (in-process loop)", argv, run,
                                 None if have else f"{module} not installed"))
        many = pinned(LOAD_CORE, ["curl", "-s", "-f", *[url + "/1k.bin"] * n])
        one = pinned(LOAD_CORE, ["curl", "-s", "-f", url + "/1k.bin"])

        def curl() -> tuple[float, float, dict[str, Any]]:
            t1, c1, rc1 = run_timed(one, timeout=60)
            tn, cn, rcn = run_timed(many, timeout=120)
            if rc1 or rcn:
                raise RuntimeError("curl failed")
            return (tn - t1) / (n - 1) * 1e6, c1 + cn, {"n": n, "one_url_ms": t1 * 1000}
        entries.append(Entry("curl", f"curl, {n} URLs in one invocation, minus a 1-URL run",
                             many, curl, None if shutil.which("curl") else "curl not installed",
                             f"{shlex.join(many[:6])} {url}/1k.bin ... ({n} times) > /dev/null"
                             ", less the time of the same with one URL"))
        return entries
    if name == "download-1g":
        size = (64 if quick else 1024) << 20
        big = env.www / "big.bin"
        if not big.exists() or big.stat().st_size != size:
            with open(big, "wb") as f:  # sparse: no disk, served from zero pages
                f.truncate(size)
        cmds = {"sockweb": [*cli, "get", "-s", "-o", "/dev/null", url + "/big.bin"],
                "curl": ["curl", "-s", "-f", "-o", "/dev/null", url + "/big.bin"]}
        entries = []
        for tool, cmd in cmds.items():
            argv = pinned(LOAD_CORE, cmd)

            def fetch(argv: list[str] = argv) -> tuple[float, float, dict[str, Any]]:
                wall, cpu, rc = run_timed(argv, timeout=120, env=env.child_env)
                if rc:
                    raise RuntimeError(f"{argv} failed (exit {rc})")
                return size / 2**20 / wall, cpu, {"seconds": wall, "bytes": size}
            entries.append(Entry(tool, shlex.join(cmd), argv, fetch,
                                 None if shutil.which(cmd[0]) else f"{cmd[0]} not installed"))
        return entries
    if name == "startup":
        runs, warm = (3, 1) if quick else (20, 3)
        small = url + "/small.txt"
        entries = [
            _hyperfine(env, "sockweb", shlex.join([*cli, "get", small]), runs, warm),
            _hyperfine(env, "curl", shlex.join(["curl", "-s", small]), runs, warm),
            _hyperfine(env, "requests", f'{py} -c "import requests, sys; '
                       f'requests.get(sys.argv[1])" {small}', runs, warm),
        ]
        if importlib.util.find_spec("requests") is None:
            entries[2].skip = "requests not installed"
        return entries
    raise ValueError(name)


def browser_entries(env: Env, quick: bool,
                    name: str = "browser") -> tuple[list[Entry], str | None]:
    """sockweb, lynx and w3m dumping one page of python3-doc (apt-get install lynx w3m
    python3-doc): the largest for ``browser``, genindex-all.html for ``browser-genindex``."""
    helptext = subprocess.run([env.python, "-m", "sockweb", "--help"], capture_output=True,
                              text=True, timeout=30, env=env.child_env, cwd=env.tmp).stdout
    pages = sorted(Path("/usr/share/doc").glob("python3*/html/**/*.html"),
                   key=lambda p: p.stat().st_size)
    if name == "browser-genindex":
        pages = [p for p in pages if p.name == "genindex-all.html" and p.parent.name == "html"]
    page = str(pages[-1]) if pages else "LARGEST_PAGE.html"
    runs, warm = (3, 1) if quick else (20, 3)
    entries = [
        _hyperfine(env, "sockweb", shlex.join([*sockweb_cli(env), "browse", "--dump", page]),
                   runs, warm),
        _hyperfine(env, "lynx", shlex.join(["lynx", "-dump", page]), runs, warm),
        _hyperfine(env, "w3m", shlex.join(["w3m", "-dump", page]), runs, warm),
    ]
    if not re.search(r"\bbrowse\b", helptext):
        return entries, NOT_IN_SOCKWEB
    if not pages:
        return entries, "needs python3-doc (apt-get install python3-doc)"
    for entry in entries[1:]:  # a missing peer is skipped alone; sockweb is still measured
        if entry.skip is None and not shutil.which(entry.name):
            entry.skip = f"{entry.name} not installed (apt-get install {entry.name})"
    return entries, None


def run_scenario(sc: ClientScenario, env: Env, *, rounds: int, quick: bool,
                 only: list[str] | None, deadline: float | None) -> dict[str, Any]:
    result: dict[str, Any] = {"name": sc.name, "title": sc.title, "kind": "client",
                              "unit": sc.unit, "better": sc.better, "entries": []}
    nginx: Running | None = None
    try:
        if sc.name in _BROWSER:
            entries, skip = browser_entries(env, quick, sc.name)
            if skip:
                result["skip"] = skip
        else:
            spec = server_spec("nginx", "static", env)
            if spec.skip:
                result["skip"] = spec.skip
                return result
            try:
                nginx = start(spec, env, "/1k.bin", 1024)
            except StartError as exc:
                result["skip"] = f"nginx failed to start: {exc}"
                return result
            result["server_command"] = nginx.command
            entries = entries_for(sc.name, env, nginx.url, quick)
        entries = [e for e in entries if not only or e.name in only or e.name == "sockweb"]
        for e in entries:
            result["entries"].append({"name": e.name, "label": e.label, "skip": e.skip,
                                      "load_command": e.command,
                                      "shown": e.shown or shlex.join(e.command)})
        if result.get("skip"):
            return result
        table = {e.name: e for e in entries if not e.skip}

        def measure(name: str) -> Sample:
            entry = table[name]
            assert entry.run is not None
            win = Window(measured=[nginx.proc] if nginx else []).open()
            value, cpu, extra = entry.run()
            m = win.close(cpu)
            m.update(extra)
            return Sample(value, m)

        for entry in list(table.values()):  # warm-up (page cache, nginx's file cache)
            assert entry.run is not None
            try:
                if sc.name != "startup":
                    entry.run()
            except Exception as exc:  # one failing tool is reported, the others still run
                log(f"  {entry.name} failed: {exc}")
                del table[entry.name]
                for rec in result["entries"]:
                    if rec["name"] == entry.name:
                        rec["skip"] = f"failed: {exc}"
        reps = rounds if sc.name in ("startup", *_BROWSER) else max(rounds, 5) if not quick \
            else rounds
        samples = interleave(list(table), reps, measure, deadline=deadline,
                             fmt=lambda v: f"{v:,.1f} {sc.unit}")
        for rec in result["entries"]:
            if rec["name"] in samples:
                rec["samples"] = [{"value": s.value, **s.metrics, "attempts": s.attempts,
                                   "note": s.note} for s in samples[rec["name"]]]
    finally:
        if nginx:
            nginx.stop()
        big = env.www / "big.bin"
        if sc.name == "download-1g" and big.exists():
            os.unlink(big)
        time.sleep(0.1)
    log(f"  done {sc.name}")
    return result
