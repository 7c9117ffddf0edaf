"""The benchmark harness (benchmarks/run.py) in --quick mode, so that it cannot rot.

The benchmarks themselves never run here (too slow and noisy for CI). This
runs two scenarios for a fraction of a second each: with benchmarks/.venv when
it exists (the peers too), otherwise with this environment, where the peers
that are not installed are skipped and sockweb, http.server, nginx, curl and
http.client still run. wrk is required: .ci/run installs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"
BENCH_PYTHON = ROOT / "benchmarks" / ".venv" / "bin" / "python"


@pytest.mark.timeout(90)
def test_harness_quick_run(tmp_path: Path) -> None:
    if not shutil.which("wrk"):
        pytest.fail("wrk is missing: the benchmark harness needs it (apt-get install -y wrk; "
                    ".ci/run installs it)")
    python = str(BENCH_PYTHON) if BENCH_PYTHON.exists() else sys.executable
    out = tmp_path / "out"
    cmd = [python, str(RUN), "--quick", "--no-install", "--scenario", "hello",
           "--scenario", "client-1k", "--scenario", "browser", "--duration", "0.3",
           "--warmup", "0", "--rounds", "1", "--max-minutes", "1", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=80, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    data = json.loads((out / "results.json").read_text())
    by_name = {r["name"]: r for r in data["results"]}
    assert set(by_name) == {"hello", "client-1k", "browser"}

    hello = {e["name"]: e for e in by_name["hello"]["entries"]}
    assert set(hello) == {"sockweb", "http.server", "uvicorn", "granian", "nginx"}
    for name in ("sockweb", "http.server"):  # need nothing beyond this environment
        assert "samples" in hello[name], (hello[name], proc.stderr[-2000:])
        (sample,) = hello[name]["samples"]
        assert sample["rps"] > 100, (name, sample)
        assert sample["errors"] == dict.fromkeys(sample["errors"], 0), (name, sample)
        assert sample["rss_mib"] > 1 and sample["server_cpu_s"] > 0, (name, sample)
        assert 0 < sample["p50_ms"] <= sample["p99_ms"], (name, sample)

    client = by_name["client-1k"]
    if shutil.which("nginx"):
        entries = {e["name"]: e for e in client["entries"]}
        for name in ("sockweb", "http.client"):
            assert "samples" in entries[name], (entries[name], proc.stderr[-2000:])
            (sample,) = entries[name]["samples"]
            assert 1 < sample["value"] < 100_000, (name, sample)  # µs per request
    else:
        assert "nginx" in client["skip"]

    browser = by_name["browser"]  # declared; runs once `sockweb browse`, lynx and w3m exist
    assert browser.get("skip") or all(e.get("samples") or e.get("skip")
                                      for e in browser["entries"]), browser

    results = (out / "RESULTS.md").read_text()
    for heading in ("## Machine", "## Versions", "## Targets (issue 6, item 5)", "## hello",
                    "## client-1k", "## browser"):
        assert heading in results
    assert "| **sockweb** |" in results
    assert "hello ≥ 2.5x uvicorn" in results
