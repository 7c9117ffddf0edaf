"""RESULTS.md (and the chart of the server scenarios) from the collected results."""

from __future__ import annotations

import shlex
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHART = "results-servers.png"


def stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def fmt_num(v: float) -> str:
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_range(values: list[float]) -> str:
    mid, lo, hi = stats(values)
    if len(values) == 1:
        return fmt_num(mid)
    return f"{fmt_num(mid)} [{fmt_num(lo)}–{fmt_num(hi)}]"


def values(entry: dict[str, Any]) -> list[float]:
    return [s["value"] for s in entry.get("samples", [])]


def entry(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((e for e in result["entries"] if e["name"] == name and e.get("samples")), None)


def ratio(result: dict[str, Any], peer: str) -> tuple[float, float, float] | None:
    """sockweb ÷ peer, round by round (the rounds are interleaved), median [min, max]."""
    a, b = entry(result, "sockweb"), entry(result, peer)
    if not a or not b:
        return None
    pairs = [x / y for x, y in zip(values(a), values(b), strict=False) if y]
    return stats(pairs) if pairs else None


def fmt_ratio(r: tuple[float, float, float] | None) -> str:
    if r is None:
        return "–"
    mid, lo, hi = r
    return f"{mid:.2f}x" if lo == hi else f"{mid:.2f}x [{lo:.2f}–{hi:.2f}]"


def metric(e: dict[str, Any], key: str) -> list[float]:
    return [s[key] for s in e["samples"] if s.get(key) is not None]


def flag(e: dict[str, Any]) -> str:
    """A mark on figures that include a round still disturbed after every try."""
    bad = sum(1 for s in e["samples"] if s.get("note", "").startswith("DISTURBED"))
    return f" ⚠{bad}" if bad else ""


def cmd(argv: list[str]) -> str:
    return shlex.join(argv)


def server_table(result: dict[str, Any]) -> list[str]:
    unit = result["unit"]
    head = f"| server | {unit} median [min–max] |"
    if unit == "MiB/s":
        head += " req/s |"
    head += " sockweb ÷ it | p50 ms | p99 ms | server CPU | CPU µs/req | wrk CPU " \
            "| peak RSS MiB | errors (conn/read/write/timeout/status) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for e in result["entries"]:
        if not e.get("samples"):
            lines.append(f"| {e['name']} | skipped: {e.get('skip')} |" + " |" *
                         (head.count("|") - 3))
            continue
        s = e["samples"]
        err = {k: sum(x["errors"][k] for x in s) for k in s[0]["errors"]}
        row = f"| **{e['name']}** | {fmt_range(values(e))}{flag(e)} |"
        if unit == "MiB/s":
            row += f" {fmt_range(metric(e, 'rps'))} |"
        r = "–" if e["name"] == "sockweb" else fmt_ratio(ratio(result, e["name"]))
        cpu_req = metric(e, "cpu_us_per_req")
        load_pct = [100 * x["load_cpu_s"] / x["wall_s"] for x in s]
        row += (f" {r} | {fmt_range(metric(e, 'p50_ms'))} | {fmt_range(metric(e, 'p99_ms'))}"
                f" | {statistics.median(metric(e, 'cpu_pct')):.0f}%"
                f" | {fmt_num(statistics.median(cpu_req)) if cpu_req else '–'}"
                f" | {statistics.median(load_pct):.0f}%"
                f" | {max(metric(e, 'rss_mib')):.1f}"
                f" | {'/'.join(str(err[k]) for k in err)} |")
        lines.append(row)
    return lines


def client_table(result: dict[str, Any]) -> list[str]:
    unit = result["unit"]
    lines = [f"| client | {unit} median [min–max] | sockweb ÷ it | client CPU s |",
             "|---|---|---|---|"]
    for e in result["entries"]:
        if not e.get("samples"):
            lines.append(f"| {e['name']} | skipped: {e.get('skip') or result.get('skip')} "
                         "| | |")
            continue
        r = "–" if e["name"] == "sockweb" else fmt_ratio(ratio(result, e["name"]))
        lines.append(f"| **{e['name']}** | {fmt_range(values(e))}{flag(e)} | {r} | "
                     f"{statistics.median(metric(e, 'load_cpu_s')):.3f} |")
    return lines


def notes(result: dict[str, Any]) -> list[str]:
    out = []
    for e in result["entries"]:
        for i, s in enumerate(e.get("samples", []), 1):
            if s.get("note"):
                out.append(f"- {e['name']}, round {i}: {s['note']}")
            if s.get("alive") is False:
                out.append(f"- {e['name']}, round {i}: the server had exited by the end")
    return out


@dataclass
class Target:
    scenario: str
    text: str
    peer: str | None = None
    minimum: float | None = None  # sockweb ÷ peer must be >= this
    maximum: float | None = None  # ... or <= this


TARGETS = [
    Target("hello", "hello ≥ 2.5x uvicorn", "uvicorn", minimum=2.5),
    Target("hello-close", "hello-close ≥ 2x uvicorn", "uvicorn", minimum=2.0),
    Target("asgi-hello", "asgi-hello ≥ 1.5x uvicorn", "uvicorn", minimum=1.5),
    Target("wsgi-hello", "wsgi-hello ≥ 2x waitress", "waitress", minimum=2.0),
    Target("static-1k", "static-1k ≥ 0.6x nginx", "nginx", minimum=0.6),
    Target("static-1m", "static-1m ≥ 0.9x nginx", "nginx", minimum=0.9),
    Target("c1000", "c1000: no timeouts"),
    Target("c1000", "c1000: p99 under 50 ms", maximum=50.0),
    Target("c1000", "c1000: peak RSS under 40 MiB", maximum=40.0),
    Target("client-1k", "client ≤ 1.1x curl's time per kept-alive request", "curl",
           maximum=1.1),
    Target("download-1g", "1 GiB download ≥ 1.2x curl's MiB/s", "curl", minimum=1.2),
    Target("startup", "`sockweb get` start-up under 30 ms", maximum=30.0),
    Target("browser", "browser: --dump no slower than lynx", "lynx", maximum=1.0),
    Target("browser-genindex", "browser: --dump of genindex-all.html faster than lynx (issue 4)",
           "lynx", maximum=1.0),
]


def judge(t: Target, results: dict[str, dict[str, Any]]) -> tuple[str, str, str]:
    """(reached, verdict, by how much)."""
    res = results.get(t.scenario)
    if res is None:
        return "–", "not run", ""
    if res.get("skip") or not entry(res, "sockweb"):
        return "–", "skipped", res.get("skip") or "sockweb not measured"
    sw = entry(res, "sockweb")
    assert sw is not None
    if t.peer:
        r = ratio(res, t.peer)
        if r is None:
            return "–", "skipped", f"{t.peer} not measured"
        got, shown = r[0], f"{r[0]:.2f}x"
    elif "timeouts" in t.text:
        got = sum(s["errors"]["timeout"] for s in sw["samples"])
        rounds = sum(1 for s in sw["samples"] if s["errors"]["timeout"])
        return f"{got} timeouts", "**met**" if got == 0 else "**missed**", "" if got == 0 \
            else f"{got} requests timed out (wrk --timeout 2s), in {rounds} of " \
            f"{len(sw['samples'])} rounds"
    elif "p99" in t.text:
        got = statistics.median(metric(sw, "p99_ms"))
        shown = f"{got:.1f} ms"
    elif "RSS" in t.text:
        got = max(metric(sw, "rss_mib"))
        shown = f"{got:.1f} MiB"
    else:
        got = statistics.median(values(sw))
        shown = f"{got:.1f} ms"
    if t.minimum is not None:
        ok = got >= t.minimum
        by = f"{got / t.minimum - 1:+.0%} of the target" if ok else \
            f"{1 - got / t.minimum:.0%} short: needs {t.minimum / got:.2f}x more"
        by += cpu_note(res, sw, t.peer)
    else:
        assert t.maximum is not None
        ok = got <= t.maximum
        by = f"{1 - got / t.maximum:.0%} under the limit" if ok else \
            f"{got / t.maximum - 1:.0%} over: needs {got / t.maximum:.2f}x less"
    return shown, "**met**" if ok else "**missed**", by


def cpu_note(res: dict[str, Any], sw: dict[str, Any], peer: str | None) -> str:
    """For a server target: the same comparison in server CPU per request, and
    whether the load generator, not the server, set sockweb's pace."""
    if res.get("kind") != "server" or peer is None:
        return ""
    other = entry(res, peer)
    try:
        mine = statistics.median(metric(sw, "cpu_us_per_req"))
        theirs = statistics.median(metric(other, "cpu_us_per_req")) if other else 0.0
        load = statistics.median(100 * x["load_cpu_s"] / x["wall_s"] for x in sw["samples"])
    except (KeyError, ValueError, ZeroDivisionError, statistics.StatisticsError):
        return ""
    note = f"; in server CPU per request {theirs / mine:.2f}x" if mine and theirs else ""
    if load >= 95:
        note += f" (wrk at {load:.0f}% of its core: the load set the pace)"
    return note


def chart(results: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [r for r in results if r["kind"] == "server" and any(
        e.get("samples") for e in r["entries"])]
    if not shown:
        return False
    rows = 1 if len(shown) <= 4 else 2
    cols = -(-len(shown) // rows)
    fig, axes = plt.subplots(rows, cols, figsize=(max(7.0, 3.2 * cols), 4.2 * rows + 0.4),
                             squeeze=False)
    flat = list(axes.flat)
    for ax in flat[len(shown):]:
        ax.set_visible(False)
    for ax, res in zip(flat, shown, strict=False):
        es = [e for e in res["entries"] if e.get("samples")]
        st = [stats(values(e)) for e in es]
        mids = [m for m, _, _ in st]
        lo = [m - low for m, low, _ in st]
        hi = [high - m for m, _, high in st]
        colors = ["#d62728" if e["name"] == "sockweb" else "#7f7f7f" if e["name"] == "nginx"
                  else "#1f77b4" for e in es]
        ax.bar(range(len(es)), mids, yerr=[lo, hi], color=colors, capsize=3)
        ax.set_xticks(range(len(es)), [e["name"] for e in es], rotation=45, ha="right",
                      fontsize=8)
        ax.set_title(res["name"], fontsize=10)
        ax.set_ylabel(res["unit"], fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        for i, (m, _, top) in enumerate(st):
            ax.text(i, top, fmt_num(m / 1000) + "k" if m >= 10000 else fmt_num(m),
                    ha="center", va="bottom", fontsize=7)
    fig.suptitle("sockweb (red) against its peers, one core each; nginx (grey) is the "
                 "near-limit reference.\nMedian of the rounds; the error bars span min–max.",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write(results: list[dict[str, Any]], meta: dict[str, Any], out: Path) -> Path:
    by_name = {r["name"]: r for r in results}
    md = ["# sockweb benchmarks: results", "",
          f"Written by `{meta['command']}` on {meta['date']} in {meta['elapsed']:.0f} s. "
          "Do not edit by hand: rerun the harness (benchmarks/README.md).", "",
          "## Machine", ""]
    md += [f"- {k}: {v}" for k, v in meta["machine"].items()]
    md += ["", "## Versions", ""]
    md += [f"- {k}: {v}" for k, v in meta["versions"].items()]
    md += ["", "## Method", "", *meta["method"], ""]
    md += ["## Targets (issue 6, item 5)", "",
           "| target | reached | verdict | by how much |", "|---|---|---|---|"]
    for t in TARGETS:
        reached, verdict, by = judge(t, by_name)
        md.append(f"| {t.text} | {reached} | {verdict} | {by} |")
    md.append("")
    if chart(results, out / CHART):
        md += ["## Server scenarios at a glance", "", f"![server scenarios]({CHART})", ""]
    for res in results:
        md += [f"## {res['name']}", "", res["title"] + ".", ""]
        if res.get("skip"):
            md += [f"Skipped: {res['skip']}.", ""]
            for e in res["entries"]:
                c = e.get("shown") or cmd(e.get("server_command") or e.get("load_command") or [])
                md.append(f"- {e['name']}: `{c}`" + (f" ({e['skip']})" if e.get("skip")
                                                    and e["skip"] != res["skip"] else ""))
            md.append("")
            continue
        if res.get("note"):
            md += [res["note"] + ".", ""]
        better = "higher" if res["better"] == "higher" else "lower"
        md.append(f"{better.capitalize()} is better; the ratio is sockweb's figure divided "
                  "by the peer's, taken round by round."
                  + (" CPU is a share of one core; a wrk CPU near 100% means the load "
                     "generator, not the server, set the pace." if res["kind"] == "server"
                     else ""))
        md.append("")
        md += server_table(res) if res["kind"] == "server" else client_table(res)
        md.append("")
        if res["kind"] == "server":
            bound = [e["name"] for e in res["entries"] if e.get("samples") and statistics.median(
                [x["load_cpu_s"] / x["wall_s"] for x in e["samples"]]) >= 0.95]
            if bound:
                md += [f"Load-bound: wrk used ≥95% of its core against {', '.join(bound)}: "
                       "those figures are wrk's limit on this machine, a lower bound on what "
                       "the server could do (see its server CPU); ratios involving them are "
                       "bounds, not measurements of the servers alone.", ""]
        extra = notes(res)
        if extra:
            md += ["Repeated or flagged rounds (⚠N: N rounds were still disturbed after every "
                   "try; the least disturbed try is shown):", "", *extra, ""]
        md += ["Commands:", ""]
        if res.get("server_command"):
            md.append(f"- server: `{cmd(res['server_command'])}`")
        for e in res["entries"]:
            if res["kind"] == "server" and e.get("server_command"):
                md.append(f"- {e['name']}: `{cmd(e['server_command'])}`")
        load = next((e.get("load_command") for e in res["entries"] if e.get("load_command")),
                    None)
        if res["kind"] == "server" and load:
            md.append(f"- load: `{cmd(load)}` (the same for every server, with its port)")
        elif res["kind"] == "client":
            for e in res["entries"]:
                md.append(f"- {e['name']}: `{e.get('shown') or cmd(e['load_command'])}`")
        md.append("")
    path = out / "RESULTS.md"
    path.write_text("\n".join(md))
    return path
