"""Install what the benchmarks need: Debian's wrk, nginx and hyperfine (only when
missing) and benchmarks/.venv with the Python peers, matplotlib and sockweb itself."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
REQUIREMENTS = BENCH / "requirements.txt"
# command -> Debian package
APT = {"wrk": "wrk", "nginx": "nginx", "hyperfine": "hyperfine", "curl": "curl",
       "taskset": "util-linux"}


def say(msg: str) -> None:
    print(f"setup: {msg}", file=sys.stderr, flush=True)


def ensure_apt() -> None:
    missing = sorted({pkg for command, pkg in APT.items() if not shutil.which(command)})
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    say("apt-get install -y " + " ".join(missing))
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                   timeout=1200)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """benchmarks/.venv, (re)installed when requirements.txt or sockweb's own dependencies
    (pyproject.toml) changed; returns its python."""
    stamp = VENV / ".installed"
    # "regular-install": sockweb is installed as pip installs it for users (no
    # editable import hook, which costs every start ~9 ms); the code measured
    # is the compiled copy run.py puts first on PYTHONPATH.
    want = hashlib.sha256(b"regular-install" + REQUIREMENTS.read_bytes()
                          + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    py = venv_python()
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    if not py.exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    pip = [str(py), "-m", "pip", "install", "-q"]
    say("pip install -r benchmarks/requirements.txt .")
    subprocess.run([*pip, "--upgrade", "pip"], check=True, timeout=600)
    subprocess.run([*pip, "-r", str(REQUIREMENTS), str(ROOT)], check=True, timeout=1200)
    stamp.write_text(want + "\n")
    return py


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()
