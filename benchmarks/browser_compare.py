#!/usr/bin/env python3
"""`sockweb browse --dump` against lynx, w3m and Chromium on pages nobody here wrote.

    python3 benchmarks/browser_compare.py [--sample 40] [--runs 20] [--markdown out.md]

Needs Debian's python3-doc (the corpus), lynx, w3m, chromium and hyperfine
(for the timing; repeated timing otherwise), and sockweb installed in the
interpreter running this script.

**Text.** For each page of a sample of /usr/share/doc/python3-doc/html (every
n-th file in sorted order, so the sample is the same on every run), four
texts: ``sockweb browse --dump``, ``lynx -dump``, ``w3m -dump``, and headless
Chromium's ``document.body.innerText`` (what a graphical browser shows; see
``chromium_text``). Each text becomes its sequence of words (``\\w+``, so
bullets, rules and table borders do not count), after the link numbers
``[12]`` and the References list that sockweb and lynx add are taken out,
and so are drawn form fields (``[____]``: innerText has no input values).
Two figures per pair, averaged over the pages:

* *order*: difflib's SequenceMatcher ratio on the two word lists: 1.0 is
  the same words in the same order;
* *recall*: the share of Chromium's words (as a multiset) that the dump holds.

**Nothing from scripts or styles.** The words of every ``<script>`` and
``<style>`` of the page that are in none of its other text are looked for
in sockweb's dump; any found is a leak.

**Speed.** genindex-all.html, the corpus's largest page (1.6 MB, 17,000
links), end to end with hyperfine (``sockweb browse --dump`` as a user runs
it, with Python's bytecode cache warm), and sockweb's rendering alone
(decode, parse, style sheets, layout, paint) timed in-process, best of
``--runs``. ``--no-timing`` leaves the speed out.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

CORPUS = Path("/usr/share/doc/python3-doc/html")
LARGEST = "genindex-all.html"
WIDTH = 80
_WORDS = re.compile(r"\w+")
_FIELD = re.compile(r"_{2,}")  # a drawn form field (lynx and sockweb draw them so)
_LINK_NUMBER = re.compile(r"\[\d+\]")
_PRE = re.compile(r'<pre id="innertext">(.*?)</pre>', re.DOTALL)

# A page that loads the page to measure in a frame of a desktop browser's
# size, then replaces itself with that page's innerText, which --dump-dom
# prints (file: pages of one directory tree are one origin with
# --allow-file-access-from-files). No DevTools protocol, no extra package.
WRAPPER = """<!doctype html><html><body>
<iframe id="f" style="width:1280px;height:1000px" src="{src}"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const text = document.getElementById("f").contentDocument.body.innerText;
  const pre = document.createElement("pre");
  pre.id = "innertext";
  pre.textContent = text;
  document.body.replaceChildren(pre);
}});
</script></body></html>
"""


def run(cmd: list[str], timeout: float = 120) -> str:
    env = dict(os.environ, COLUMNS=str(WIDTH))
    out = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False)
    return out.stdout.decode("utf-8", "replace")


def sockweb_text(page: Path) -> str:
    text = run([sys.executable, "-m", "sockweb", "browse", "--dump", "--width", str(WIDTH),
                str(page)])
    return text.split("\nReferences\n\n", 1)[0]


def lynx_text(page: Path) -> str:
    return run(["lynx", "-dump", "-nolist", f"-width={WIDTH}", "-display_charset=utf-8",
                str(page)])


def w3m_text(page: Path) -> str:
    return run(["w3m", "-dump", "-cols", str(WIDTH), "-O", "UTF-8", str(page)])


# Headless Chromium as a reference and nothing else: no sandbox (it runs as
# root in CI), no GPU, no updates or background fetches, a fresh profile per page.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--allow-file-access-from-files", "--window-size=1300,1000",
                  "--virtual-time-budget=5000"]


def chromium_text(page: Path, workdir: Path) -> str:
    wrapper = workdir / "wrapper.html"
    wrapper.write_text(WRAPPER.format(src=html.escape(page.as_uri())))
    with tempfile.TemporaryDirectory(dir=workdir) as profile:
        dom = run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                   wrapper.as_uri()], timeout=180)
    found = _PRE.search(dom)
    return html.unescape(found.group(1)) if found else ""


def words(text: str) -> list[str]:
    return _WORDS.findall(_FIELD.sub(" ", _LINK_NUMBER.sub(" ", text)))


def order(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def recall(reference: list[str], text: list[str]) -> float:
    want = Counter(reference)
    have = Counter(text)
    total = sum(want.values())
    return sum(min(n, have[w]) for w, n in want.items()) / total if total else 1.0


def leaks(page: Path, dump: list[str], shown: list[str]) -> list[str]:
    """Words only scripts and styles hold that turn up in the dump."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(page.read_bytes().decode("utf-8", "replace"))
    hidden = Counter(w for node in tree.css("script, style") for w in words(node.text()))
    for node in tree.css("script, style"):
        node.decompose()
    visible = set(words(tree.root.text() if tree.root else "")) | set(shown)
    secret = {w for w in hidden if w not in visible and len(w) > 3}
    return sorted(secret & set(dump))


def sample(n: int) -> list[Path]:
    pages = sorted(p for p in CORPUS.rglob("*.html") if p.stat().st_size < 400_000)
    step = max(len(pages) // n, 1)
    return pages[::step][:n]


def compare(pages: list[Path]) -> dict[str, object]:
    pairs = {"sockweb~chromium": [], "lynx~chromium": [], "w3m~chromium": [],
             "sockweb~lynx": [], "sockweb~w3m": []}
    recalls: dict[str, list[float]] = {"sockweb": [], "lynx": [], "w3m": []}
    leaked: dict[str, list[str]] = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            texts = {"sockweb": words(sockweb_text(page)), "lynx": words(lynx_text(page)),
                     "w3m": words(w3m_text(page)),
                     "chromium": words(chromium_text(page, Path(tmp)))}
            if not texts["chromium"]:
                print(f"  {page}: no text from chromium, skipped", file=sys.stderr)
                continue
            row = {"page": str(page.relative_to(CORPUS)), "words": len(texts["chromium"])}
            for pair, ratios in pairs.items():
                a, b = pair.split("~")
                ratios.append(order(texts[a], texts[b]))
                row[pair] = round(ratios[-1], 3)
            for name, values in recalls.items():
                values.append(recall(texts["chromium"], texts[name]))
                row[f"recall {name}"] = round(values[-1], 3)
            found = leaks(page, texts["sockweb"], texts["chromium"])
            if found:
                leaked[row["page"]] = found
            rows.append(row)
            print(f"  {row['page']}: order vs chromium {row['sockweb~chromium']:.3f}",
                  file=sys.stderr)
    return {
        "pages": len(rows),
        "order": {pair: statistics.mean(v) for pair, v in pairs.items() if v},
        "order_min": {pair: min(v) for pair, v in pairs.items() if v},
        "recall": {name: statistics.mean(v) for name, v in recalls.items() if v},
        "leaks": leaked,
        "rows": rows,
    }


def render_time(page: Path, runs: int) -> float:
    """sockweb's rendering alone, in this process: best of ``runs``, in ms."""
    import gc

    from sockweb.browser import layout, paint
    from sockweb.browser.load import Stylesheets

    data = page.read_bytes()
    best = float("inf")
    gc.disable()
    try:
        for _ in range(runs):
            started = time.perf_counter()
            paint.dump(layout.render(data, page.as_uri(), WIDTH, content_type="text/html",
                                     fetch=Stylesheets()))  # its style sheets read too
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best * 1000


def timing(page: Path, runs: int) -> dict[str, dict[str, float]]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    sockweb = shutil.which("sockweb") or f"{sys.executable} -m sockweb"
    commands = {
        "sockweb browse --dump": f"{sockweb} browse --dump --width {WIDTH} {page}",
        "lynx -dump": f"lynx -dump -width={WIDTH} {page}",
        "w3m -dump": f"w3m -dump -cols {WIDTH} {page}",
    }
    subprocess.run(commands["sockweb browse --dump"], shell=True, env=env,
                   capture_output=True, check=False)  # writes the bytecode cache
    out: dict[str, dict[str, float]] = {}
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            subprocess.run(["hyperfine", "-N", "-w", "3", "-r", str(runs), "--export-json",
                            report.name, *commands.values()], env=env, capture_output=True,
                           check=True)
            results = json.loads(Path(report.name).read_text())["results"]
            for name, result in zip(commands, results, strict=True):
                out[name] = {"min": result["min"] * 1000, "median": result["median"] * 1000,
                             "user": result["user"] * 1000}
        return out
    for name, command in commands.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, shell=True, env=env, capture_output=True, check=False)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = {"min": min(times), "median": statistics.median(times), "user": 0.0}
    return out


def markdown(result: dict[str, object], times: dict[str, dict[str, float]],
             render_ms: float) -> str:
    order_ = result["order"]
    order_min = result["order_min"]
    recall_ = result["recall"]
    assert isinstance(order_, dict) and isinstance(recall_, dict)
    assert isinstance(order_min, dict)
    lines = [f"Pages compared: {result['pages']}", "",
             "| pair | order (mean) | order (worst page) |", "|---|---|---|"]
    lines += [f"| {pair} | {v:.3f} | {order_min[pair]:.3f} |" for pair, v in order_.items()]
    lines += ["", "| dump | recall of Chromium's words |", "|---|---|"]
    lines += [f"| {name} | {v:.3f} |" for name, v in recall_.items()]
    leaked = result["leaks"]
    lines += ["", f"Script/style words in sockweb's dumps: {leaked or 'none'}"]
    if times:
        lines += ["", f"| {LARGEST} | min ms | median ms | user ms |", "|---|---|---|---|"]
        lines += [f"| {name} | {t['min']:.1f} | {t['median']:.1f} | {t['user']:.1f} |"
                  for name, t in times.items()]
    if render_ms:
        lines += ["", f"sockweb rendering alone (decode, parse, style sheets, layout, paint), "
                  f"in process: {render_ms:.1f} ms"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=40, help="pages to compare")
    parser.add_argument("--runs", type=int, default=20, help="timing runs")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--no-timing", action="store_true", help="compare the texts only")
    args = parser.parse_args()
    missing = [t for t in ("lynx", "w3m", "chromium") if not shutil.which(t)]
    if missing or not CORPUS.is_dir():
        print(f"needs {', '.join(missing) or 'python3-doc'}: apt-get install python3-doc "
              "lynx w3m chromium hyperfine", file=sys.stderr)
        return 2
    pages = sample(args.sample)
    print(f"comparing {len(pages)} pages", file=sys.stderr)
    result = compare(pages)
    times = {} if args.no_timing else timing(CORPUS / LARGEST, args.runs)
    render_ms = 0.0 if args.no_timing else render_time(CORPUS / LARGEST, args.runs)
    report = markdown(result, times, render_ms)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    if args.json:
        args.json.write_text(json.dumps({"text": result, "times": times,
                                         "render_ms": render_ms}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
