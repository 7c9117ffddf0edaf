"""Where a server scenario's time goes: py-spy samples of sockweb under wrk.

    python3 benchmarks/profile.py hello          # or hello-close, static-1k, asgi-hello,
                                                 # wsgi-hello, c1000
    python3 benchmarks/profile.py hello --seconds 8 --top 25

sockweb runs pinned to core 0 (a compiled copy of the working tree's package,
as benchmarks/run.py measures it), wrk to core 1; py-spy samples the server for
the given seconds (with --native where py-spy supports it) and this prints the
share of samples per function, by self time and by inclusive time. The
per-request CPU cost is printed too (server CPU seconds / requests served).
Used for benchmarks/PROFILE.md; needs py-spy (`pip install py-spy`) and wrk.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

SCENARIOS: dict[str, tuple[list[str], str, int, list[str]]] = {
    # name: (serve arguments, path, connections, extra wrk arguments)
    "hello": (["--hello"], "/", 64, []),
    "hello-close": (["--hello"], "/", 64, ["-H", "Connection: close"]),
    "c1000": (["--hello"], "/", 1000, []),
    "static-1k": (["{www}"], "/1k.bin", 64, []),
    "asgi-hello": (["--app", "harness.apps:hello_asgi", "--app-dir", str(BENCH)], "/", 64, []),
    "wsgi-hello": (["--app", "harness.apps:hello_wsgi", "--app-dir", str(BENCH)], "/", 64, []),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise(raw: Path, top: int) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no samples\n"
    out = [f"{total} samples", "", "self time:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive time (frames below the event loop's run call):"]
    deep = [(f, n) for f, n in inclusive.most_common() if n < 0.97 * total]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in deep[:top]]
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--seconds", type=int, default=6)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    args = p.parse_args()
    for tool in ("py-spy", "wrk", "taskset"):
        if not shutil.which(tool) and not (Path(sys.executable).parent / tool).exists():
            print(f"profile.py: {tool} not found", file=sys.stderr)
            return 2
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    serve_args, path, connections, wrk_extra = SCENARIOS[args.scenario]
    with tempfile.TemporaryDirectory(prefix="sockweb-profile-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "www").mkdir()
        (tmp / "www" / "1k.bin").write_bytes(os.urandom(1024))
        shutil.copytree(ROOT / "sockweb", tmp / "src" / "sockweb",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp / "src")],
                       check=True, stdout=subprocess.DEVNULL)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp / "src"), str(BENCH)]))
        port = free_port()
        argv = [a.replace("{www}", str(tmp / "www")) for a in serve_args]
        server = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "sockweb", "serve", "--host",
             "127.0.0.1", "--port", str(port), "--no-access-log", *argv],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            if server.poll() is not None:
                print(server.stderr.read().decode() if server.stderr else "", file=sys.stderr)
                return 1
            url = f"http://127.0.0.1:{port}{path}"
            wrk = ["taskset", "-c", "1", "wrk", "-t1", "-c", str(connections), *wrk_extra]
            subprocess.run([*wrk, "-d", "2", url], capture_output=True, timeout=60)  # warm-up
            load = subprocess.Popen([*wrk, "-d", str(int(args.seconds) + 2), url],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(1)
            before = cpu_seconds(server.pid)
            raw = tmp / "samples.txt"
            record = [py_spy, "record", "-r", str(args.rate), "-d", str(int(args.seconds)), "-p",
                      str(server.pid), "-f", "raw", "-o", str(raw)]
            subprocess.run(record, capture_output=True, timeout=args.seconds + 60)
            used = cpu_seconds(server.pid) - before
            out, _ = load.communicate(timeout=60)
            rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
            rps = float(rps_match.group(1)) if rps_match else 0.0
            print(f"# {args.scenario}: {rps:,.0f} req/s under wrk -c{connections}; "
                  f"server CPU {100 * used / args.seconds:.0f}% of a core while sampled"
                  + (f", about {1e6 * used / (rps * args.seconds):.1f} µs per request"
                     if rps else ""))
            print(summarise(raw, args.top) if raw.exists() else "py-spy wrote nothing")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
