"""Server scenarios: wrk on the load core against each server on the server core."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .measure import Sample, Window, interleave, log
from .procs import LOAD_CORE, pinned, run_timed
from .servers import Env, Running, StartError, server_spec, start

WEB_PEERS = ["sockweb", "http.server", "uvicorn", "granian", "nginx"]


@dataclass
class ServerScenario:
    name: str
    title: str
    app: str  # hello | static | asgi | wsgi
    path: str = "/"
    body_len: int = 37
    connections: int = 64
    close: bool = False
    unit: str = "req/s"  # or MiB/s
    servers: list[str] = field(default_factory=lambda: list(WEB_PEERS))


SCENARIOS = [
    ServerScenario("hello", "(a) hello: the 37-byte page over keep-alive, 64 connections",
                   "hello"),
    ServerScenario("hello-close", "(b) hello-close: a new connection per request "
                   "(Connection: close), 64 connections", "hello", close=True),
    ServerScenario("static-1k", "(c) static-1k: a 1 KiB file, keep-alive, 64 connections",
                   "static", "/1k.bin", 1024),
    ServerScenario("static-1m", "(d) static-1m: a 1 MiB file, keep-alive, 64 connections",
                   "static", "/1m.bin", 1 << 20, unit="MiB/s"),
    ServerScenario("c1000", "(e) c1000: hello with 1000 concurrent keep-alive connections",
                   "hello", connections=1000),
    ServerScenario("asgi-hello", "(f) asgi-hello: the same raw ASGI app under each server",
                   "asgi", servers=["sockweb", "uvicorn", "granian"]),
    ServerScenario("wsgi-hello", "(g) wsgi-hello: the same WSGI app under each server",
                   "wsgi", servers=["sockweb", "gunicorn", "waitress"]),
]


def wrk_command(env: Env, url: str, connections: int, duration: float,
                close: bool) -> list[str]:
    return pinned(LOAD_CORE, [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(duration))}s", "--latency",
        "--timeout", "2s", "-s", str(env.bench / "harness" / "wrk_report.lua"),
        *(["-H", "Connection: close"] if close else []), url])


def run_wrk(env: Env, url: str, connections: int, duration: float, close: bool,
            out: Path) -> tuple[dict[str, Any], float]:
    """(wrk's summary, wrk's CPU seconds). Sub-second durations end wrk with SIGINT."""
    argv = wrk_command(env, url, connections, duration, close)
    interrupt = duration if duration < math.ceil(duration) or duration < 1 else None
    _, cpu, rc = run_timed(argv, timeout=duration + 30, stdout=out, interrupt_after=interrupt)
    text = out.read_text("utf-8", "replace")
    for line in text.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:]), cpu
    raise RuntimeError(f"wrk failed (exit {rc}): {text[-500:]}")


def run_scenario(sc: ServerScenario, env: Env, *, duration: float, warmup: float,
                 rounds: int, only: list[str] | None, explicit: bool,
                 deadline: float | None) -> dict[str, Any]:
    result: dict[str, Any] = {"name": sc.name, "title": sc.title, "kind": "server",
                              "unit": sc.unit, "better": "higher", "entries": []}
    specs = [server_spec(n, sc.app, env) for n in sc.servers
             if not only or n in only or n == "sockweb"]
    sockweb = next((s for s in specs if s.name == "sockweb"), None)
    if sockweb and sockweb.skip and not explicit:
        result["skip"] = sockweb.skip
        result["entries"] = [{"name": s.name, "label": s.label, "skip": s.skip,
                              "server_command": s.command()} for s in specs]
        return result
    running: dict[str, Running] = {}
    path_url = sc.path
    scratch = env.tmp / f"wrk-{sc.name}.out"
    try:
        for spec in specs:
            entry: dict[str, Any] = {"name": spec.name, "label": spec.label,
                                     "server_command": ["taskset", "-c", "0", *spec.command()]}
            result["entries"].append(entry)
            if spec.skip:
                entry["skip"] = spec.skip
                continue
            try:
                run = start(spec, env, sc.path, sc.body_len)
            except StartError as exc:
                entry["skip"] = f"failed to start: {exc}"
                log(f"  {exc}")
                continue
            running[spec.name] = run
            entry["server_command"] = run.command
            entry["load_command"] = wrk_command(env, run.url + path_url, sc.connections,
                                                duration, sc.close)
        for name, run in running.items():  # warm-up, not measured
            if warmup > 0:
                run_wrk(env, run.url + path_url, sc.connections, warmup, sc.close, scratch)
            log(f"  started and warmed up {name} on port {run.port}")

        def measure(name: str) -> Sample:
            run = running[name]
            others = [r.proc for n, r in running.items() if n != name]
            win = Window(measured=[run.proc], background=others).open()
            summary, wrk_cpu = run_wrk(env, run.url + path_url, sc.connections, duration,
                                       sc.close, scratch)
            m = win.close(wrk_cpu)
            secs = summary["duration_us"] / 1e6
            reqs = summary["requests"]
            m.update({
                "requests": reqs, "rps": reqs / secs, "mibps": summary["bytes"] / secs / 2**20,
                "p50_ms": summary["p50_us"] / 1000, "p99_ms": summary["p99_us"] / 1000,
                "max_ms": summary["max_us"] / 1000,
                "errors": {k: summary[k] for k in ("connect", "read", "write", "timeout",
                                                   "status")},
                "cpu_pct": 100 * m["server_cpu_s"] / m["wall_s"],
                "cpu_us_per_req": 1e6 * m["server_cpu_s"] / reqs if reqs else None,
                "rss_mib": run.proc.peak_rss_kib() / 1024,
                "alive": run.proc.alive(),
            })
            value = m["mibps"] if sc.unit == "MiB/s" else m["rps"]
            return Sample(value, m)

        names = list(running)
        samples = interleave(names, rounds, measure, deadline=deadline,
                             fmt=lambda v: f"{v:,.0f} {sc.unit}")
        for entry in result["entries"]:
            if entry["name"] in samples:
                entry["samples"] = [{"value": s.value, **s.metrics, "attempts": s.attempts,
                                     "note": s.note} for s in samples[entry["name"]]]
    finally:
        for run in running.values():
            run.stop()
        time.sleep(0.2)
    if sockweb and sockweb.skip:
        result["note"] = f"sockweb: {sockweb.skip}; the peers alone were measured"
    return result

