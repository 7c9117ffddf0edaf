#!/usr/bin/env python3
"""sockweb's benchmarks against its peers: `python3 benchmarks/run.py` (see README.md).

Installs what it needs (unless --no-install), re-runs itself inside
benchmarks/.venv, measures every scenario in interleaved rounds and writes
benchmarks/RESULTS.md, results.json and the chart.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from harness import client_bench, report, server_bench, setup_env  # noqa: E402
from harness.apps import HELLO  # noqa: E402
from harness.measure import (  # noqa: E402
    QUIET_RETRY_S,
    SHARE,
    SLACK_S,
    TRIES,
    configure,
    log,
)
from harness.servers import Env, version_of  # noqa: E402

ALL = [s.name for s in server_bench.SCENARIOS] + [s.name for s in client_bench.SCENARIOS]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: each scenario a fraction of a second, 1 round, small "
                        "files; writes RESULTS.md only with --write-results")
    p.add_argument("--scenario", action="append", choices=ALL, metavar="NAME",
                   help=f"run only this scenario (repeatable): {', '.join(ALL)}")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1; the "
                   "1000-GET and download scenarios use at least 5)")
    p.add_argument("--duration", type=float, help="seconds of load per server and round "
                   "(default 3; quick 0.3)")
    p.add_argument("--warmup", type=float, help="seconds of unmeasured load before the rounds "
                   "(default 2; quick 0.2)")
    p.add_argument("--only", help="comma-separated servers/clients to measure besides sockweb")
    p.add_argument("--no-install", action="store_true",
                   help="install nothing and run with this interpreter; missing peers are "
                        "skipped")
    p.add_argument("--out", type=Path, help="directory for RESULTS.md, results.json and the "
                   "chart (default benchmarks/; quick: a temporary directory)")
    p.add_argument("--write-results", action="store_true",
                   help="with --quick, still write benchmarks/RESULTS.md")
    p.add_argument("--sockweb-path", type=Path,
                   help="benchmark the sockweb package found in this directory (put first on "
                        "PYTHONPATH), e.g. an export of a commit")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: rewrite RESULTS.md and the chart from the "
                        "results.json in --out (default benchmarks/)")
    p.add_argument("--max-minutes", type=float, default=12.0,
                   help="time budget: past it, disturbed rounds are no longer repeated; past "
                        "twice it, the remaining scenarios are skipped (default 12)")
    a = p.parse_args(argv)
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.duration = a.duration if a.duration is not None else (0.3 if a.quick else 3.0)
    a.warmup = a.warmup if a.warmup is not None else (0.2 if a.quick else 2.0)
    return a


def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {"nproc": str(os.cpu_count()), "CPU": cpu, "memory": f"{int(mem) // 2**20} GiB",
            "kernel": platform.release(), "Python": sys.version.split()[0] + f" ({sys.executable})"}


def sockweb_source(args: argparse.Namespace, env: Env) -> str:
    code = "import sockweb, os; print(sockweb.__version__, os.path.dirname(sockweb.__file__))"
    out = subprocess.run([env.python, "-c", code], capture_output=True, text=True, timeout=30,
                         env=env.child_env, cwd=str(env.tmp)).stdout.strip()
    git = ["git", "-C", str(setup_env.ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, timeout=30).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "sockweb"], capture_output=True,
                           text=True, timeout=30).stdout.strip()
    where = f"{out}; repository HEAD {head}"
    if args.sockweb_path:
        where += f", run from {args.sockweb_path} (--sockweb-path), bytecode compiled"
    else:
        where += ", a compiled copy of the working tree's sockweb/"
        if dirty:
            where += " with uncommitted changes"
    return where


def compiled_sockweb(args: argparse.Namespace, tmp: Path) -> Path:
    """The directory holding the sockweb package to measure, with its bytecode
    compiled as ``pip install`` leaves it: a copy of the working tree's
    sockweb/ by default, or --sockweb-path. (This machine's environment may set
    PYTHONDONTWRITEBYTECODE, and sources without .pyc files recompile on every
    start: 40+ ms that no installed copy pays.)"""
    if args.sockweb_path:
        where = args.sockweb_path.resolve()
    else:
        where = tmp / "sockweb-src"
        shutil.copytree(setup_env.ROOT / "sockweb", where / "sockweb",
                        ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(where / "sockweb")],
                   check=True, timeout=120, stdout=subprocess.DEVNULL)
    return where


def make_env(args: argparse.Namespace, tmp: Path) -> Env:
    www = tmp / "www"
    www.mkdir()
    (www / "index.html").write_bytes(HELLO)  # http.server's answer to GET /
    (www / "small.txt").write_bytes(HELLO)
    (www / "1k.bin").write_bytes(os.urandom(1024))
    (www / "1m.bin").write_bytes(os.urandom(1 << 20))
    paths = [str(compiled_sockweb(args, tmp))]
    paths += [str(BENCH), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    child_env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths),
                     BENCH_WWW=str(www))
    env = Env(sys.executable, BENCH, tmp, www, child_env)
    env.sockweb_serve_help = subprocess.run(
        [sys.executable, "-m", "sockweb", "serve", "--help"], capture_output=True, text=True,
        timeout=30, env=child_env, cwd=str(tmp)).stdout
    if "usage:" not in env.sockweb_serve_help:
        raise SystemExit("run.py: `python -m sockweb serve --help` fails with this interpreter")
    return env


METHOD = [
    "- Each server runs one worker pinned to core 0 (`taskset -c 0`); wrk, the clients and "
    "hyperfine run on core 1 (`taskset -c 1`). Everything listens on 127.0.0.1 with an "
    "ephemeral port.",
    "- All servers of a scenario are started, warmed up with unmeasured load, then measured "
    "in interleaved rounds (A, B, C, A, B, C ...), so each ratio compares rounds taken "
    "side by side; the ratio column is the median of the per-round ratios [min–max].",
    "- wrk: one thread, `--latency`, `--timeout 2s`; p50/p99 are wrk's latency percentiles. "
    "Server CPU is utime+stime of the server's process tree from /proc/PID/stat over the "
    "round, as a share of one core; CPU µs/req divides it by the requests served. Peak RSS "
    "is the sum of VmHWM over the server's processes (/proc/PID/status), lifetime peak.",
    "- A round is disturbed when any process other than the measured ones (the scenario's "
    "servers, the load or client, this harness) and kernel threads used CPU during it "
    "(utime+stime+cutime+cstime of every process in /proc/PID/stat at both ends, so "
    f"short-lived processes count through their parent) beyond {SLACK_S} s + {SHARE:.0%} of "
    "the round's core-seconds, or when the VM reports steal time (/proc/stat). Such a round "
    f"is measured again (up to {TRIES} tries, each after waiting up to {QUIET_RETRY_S:.0f} s "
    "for a quiet machine); one still disturbed is reported but flagged. With 3+ rounds, a "
    "round more than 25% off the median of the same server's other rounds is measured "
    "again too.",
    "- The hello body is sockweb serve --hello's page, "
    "`<html><body>Hello World</body></html>`: 37 bytes, not the 13 of issue 6's text; every "
    "peer answers the same 37 bytes (http.server serves it as index.html, nginx with "
    "`return 200`).",
    "- `python -m http.server` speaks HTTP/1.0 and closes each connection, so its "
    "keep-alive figures are really per-connection figures; it is included as the tool users "
    "replace. gunicorn's sync worker closes each connection too.",
    "- Client scenarios: nginx serves the files on core 0. Python clients run in their own "
    "process: import, client creation and 50 warm-up requests are outside the timed loop. "
    "curl is given all URLs in one invocation; its start-up is taken out by subtracting a "
    "1-URL run. The 1 GiB file is sparse (read from zero pages); download time includes "
    "the tool's start-up.",
]


def guarded(name: str, title: str, kind: str,
            run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A scenario's result; one that fails is reported as such and the run goes on."""
    try:
        return run()
    except Exception as exc:
        log(traceback.format_exc())
        return {"name": name, "title": title, "kind": kind, "entries": [],
                "skip": f"failed: {type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.no_install:
        setup_env.ensure_apt()
        py = setup_env.ensure_venv()
        if not setup_env.in_venv():
            os.execv(str(py), [str(py), str(Path(__file__).resolve()), *argv])
    if args.report_only:
        out = args.out or BENCH
        saved = json.loads((out / "results.json").read_text())
        log(f"wrote {report.write(saved['results'], saved['meta'], out)}")
        return 0
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"run.py: {tool} is missing: apt-get install -y "
                             f"{setup_env.APT[tool]}")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("run.py: needs 2 cores (server on core 0, load on core 1)")
    configure(args.quick)
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    hard_deadline = started + 2 * args.max_minutes * 60
    chosen = args.scenario or ALL
    only = [x for x in args.only.split(",") if x] if args.only else None
    out = args.out or (BENCH if not args.quick or args.write_results else None)
    tmp = Path(tempfile.mkdtemp(prefix="sockweb-bench-"))
    if out is None:
        out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    try:
        env = make_env(args, tmp)
        source = sockweb_source(args, env)  # before the run: HEAD may move meanwhile
        for sc in server_bench.SCENARIOS:
            if sc.name not in chosen:
                continue
            log(f"== {sc.name}")
            if time.monotonic() > hard_deadline:
                results.append({"name": sc.name, "title": sc.title, "kind": "server",
                                "skip": "time budget (--max-minutes) used up", "entries": []})
                continue
            results.append(guarded(
                sc.name, sc.title, "server", functools.partial(
                    server_bench.run_scenario, sc, env, duration=args.duration,
                    warmup=args.warmup, rounds=args.rounds, only=only,
                    explicit=bool(args.scenario), deadline=deadline)))
            (out / "results.json").write_text(json.dumps({"results": results}, indent=1))
        for csc in client_bench.SCENARIOS:
            if csc.name not in chosen:
                continue
            log(f"== {csc.name}")
            if time.monotonic() > hard_deadline:
                results.append({"name": csc.name, "title": csc.title, "kind": "client",
                                "skip": "time budget (--max-minutes) used up", "entries": []})
                continue
            results.append(guarded(
                csc.name, csc.title, "client", functools.partial(
                    client_bench.run_scenario, csc, env, rounds=args.rounds,
                    quick=args.quick, only=only, deadline=deadline)))
            (out / "results.json").write_text(json.dumps({"results": results}, indent=1))
        versions = {"sockweb": source}
        for name in ("uvicorn", "httptools", "uvloop", "granian", "starlette", "gunicorn",
                     "waitress", "requests", "httpx", "urllib3"):
            versions[name] = version_of(name, env.python)
        for name in ("nginx", "wrk", "curl", "hyperfine", "lynx", "w3m"):
            versions[name] = version_of(name, env.python)
        shown = ["python3", "benchmarks/run.py", *argv]
        meta = {"command": shlex.join(shown),
                "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC"),
                "elapsed": time.monotonic() - started, "machine": machine(),
                "versions": versions,
                "method": [*METHOD, f"- This run: {args.rounds} rounds of {args.duration} s "
                           f"per server, {args.warmup} s warm-up."]}
        (out / "results.json").write_text(json.dumps({"meta": meta, "results": results},
                                                     indent=1))
        path = report.write(results, meta, out)
        log(f"wrote {path} in {time.monotonic() - started:.0f} s")
    finally:  # the scratch directory goes; only a quick run's default --out stays
        for item in tmp.iterdir():
            if item != out:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        if out.parent != tmp:
            tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
