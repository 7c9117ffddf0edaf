"""The benchmark harness (benchmarks/run.py) in --quick mode, so that it cannot rot.

The benchmarks themselves never run here (too slow and noisy for CI). The
first test runs three scenarios for a fraction of a second each with their
peers: with benchmarks/.venv when it exists, otherwise with this environment,
where the peers that are not installed are skipped and sockweb, http.server,
nginx, curl and http.client still run. The second runs every other scenario
the same way, sockweb alone (issue 6, item 6: each scenario, so that none can
rot unnoticed). wrk is required: .ci/run installs it.
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


WITH_PEERS = ("hello", "client-1k", "browser")


def _scenario_names() -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from harness import client_bench, server_bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return [sc.name for sc in [*server_bench.SCENARIOS, *client_bench.SCENARIOS]]


def _quick(tmp_path: Path, scenarios: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("wrk"):
        pytest.fail("wrk is missing: the benchmark harness needs it (apt-get install -y wrk; "
                    ".ci/run installs it)")
    python = str(BENCH_PYTHON) if BENCH_PYTHON.exists() else sys.executable
    cmd = [python, str(RUN), "--quick", "--no-install", *extra, "--duration", "0.3",
           "--warmup", "0", "--rounds", "1", "--max-minutes", "1", "--out", str(tmp_path / "out")]
    for name in scenarios:
        cmd += ["--scenario", name]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=80, cwd=tmp_path)


@pytest.mark.timeout(90)
def test_every_other_scenario_runs_with_sockweb(tmp_path: Path) -> None:
    others = [name for name in _scenario_names() if name not in WITH_PEERS]
    assert {"hello-close", "c1000", "wsgi-hello", "download-1g", "browser-genindex"} <= set(others)
    proc = _quick(tmp_path, others, "--only", "none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    by_name = {r["name"]: r for r in data["results"]}
    assert set(by_name) == set(others)
    for name, result in by_name.items():
        # .ci/run installs every tool a scenario needs (nginx, wrk, hyperfine, python3-doc)
        assert not result.get("skip"), (name, result["skip"])
        (sockweb,) = [e for e in result["entries"] if e["name"] == "sockweb"]
        assert sockweb.get("samples"), (name, sockweb, proc.stderr[-2000:])
        assert sockweb["samples"][0]["value"] > 0, (name, sockweb)


@pytest.mark.timeout(90)
def test_harness_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _quick(tmp_path, list(WITH_PEERS))
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


@pytest.mark.parametrize("scenario", ["hello", "hello-close", "asgi-hello"])
def test_instruction_counts_loop_runs(scenario: str) -> None:
    """benchmarks/count.py's in-process loop (what callgrind counts) still
    drives the scenario's requests through HttpProtocol; the count itself
    needs valgrind, which CI does not install."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "count.py"), scenario, "--inner", "50"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""


def test_a_slow_spell_of_the_machine_disturbs_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """harness/measure.py: a sample whose probe of the machine's pace is more
    than PACE_LIMIT times the run's best is disturbed (and measured again);
    a faster probe becomes the best. machine_pace() leaves the harness's CPU
    affinity as it found it."""
    import os

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from harness import measure
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    monkeypatch.setattr(measure, "_best_pace", float("inf"))
    assert measure.pace_verdict(1.80) == (1.0, None)
    ratio, why = measure.pace_verdict(1.90)
    assert ratio == pytest.approx(1.90 / 1.80) and why is None
    ratio, why = measure.pace_verdict(2.20)
    assert ratio == pytest.approx(2.20 / 1.80)
    assert why == "machine slow: system calls at 1.22x their best pace"
    assert measure.pace_verdict(1.70) == (1.0, None)
    assert measure.pace_verdict(1.80)[1] is None
    affinity = os.sched_getaffinity(0)
    pace = measure.machine_pace(trips=50, bursts=2)
    assert 0 < pace < 1000
    assert os.sched_getaffinity(0) == affinity
