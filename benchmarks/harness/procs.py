"""Processes: start pinned, stop by pid, and read their CPU time and peak RSS from /proc.

Every process the harness starts goes through :class:`Proc`, which remembers
the pids of the whole tree it grew (gunicorn and granian fork workers) so that
``stop()`` can end each of them by its own pid, never by name.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CORE = 0
LOAD_CORE = 1


def raise_nofile() -> None:
    """Let a child open as many descriptors as the hard limit allows (c1000 needs >1000)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def pinned(core: int, argv: Sequence[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv]


# -- /proc readers ------------------------------------------------------------

def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (index 0 is field 3, 'state')."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of one live process, in seconds (0 if it is gone)."""
    f = _stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK if f else 0.0


def start_time(pid: int) -> int | None:
    f = _stat_fields(pid)
    return int(f[19]) if f else None


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size (VmHWM) of one process in KiB, 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


@dataclass
class ProcInfo:
    ppid: int
    started: int  # start time in clock ticks since boot (tells a reused pid apart)
    cpu: float  # utime + stime, seconds
    cpu_all: float  # ... plus the reaped children's cutime + cstime
    comm: str


def all_processes() -> dict[int, ProcInfo]:
    """Every process on the machine."""
    out: dict[int, ProcInfo] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw[raw.rindex(")") + 2:].split()
        own = (int(f[11]) + int(f[12])) / CLK_TCK
        out[pid] = ProcInfo(int(f[1]), int(f[19]), own,
                            own + (int(f[13]) + int(f[14])) / CLK_TCK, comm)
    return out


def descendants(root: int, table: dict[int, ProcInfo] | None = None) -> list[int]:
    """root and every process below it."""
    table = table if table is not None else all_processes()
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table or pid == root:
            found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def is_kernel_thread(pid: int, table: dict[int, ProcInfo]) -> bool:
    return pid == 2 or table[pid].ppid == 2


def steal_seconds() -> float:
    """The VM's steal time so far (all cores), from /proc/stat."""
    v = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return int(v[7]) / CLK_TCK if len(v) > 7 else 0.0


# -- processes the harness starts ---------------------------------------------

@dataclass
class Proc:
    """A started process (and the tree it grows), stopped by pid only."""

    argv: list[str]
    popen: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    tree: dict[int, int | None] = field(default_factory=dict)  # pid -> start time

    @classmethod
    def start(cls, argv: Sequence[str], *, stdout: Path | None = None, cwd: str | None = None,
              env: dict[str, str] | None = None, stop_signal: int = signal.SIGTERM) -> Proc:
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
        try:
            popen = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                     preexec_fn=raise_nofile, start_new_session=True)
        finally:
            if stdout:
                out.close()  # type: ignore[union-attr]
        proc = cls(list(argv), popen, stop_signal)
        proc.tree[popen.pid] = start_time(popen.pid)
        return proc

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """The live tree now; remembered so that stop() can reach orphans too."""
        for pid in descendants(self.pid):
            self.tree.setdefault(pid, start_time(pid))
        return [pid for pid in self.tree if start_time(pid) == self.tree[pid]]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def peak_rss_kib(self) -> int:
        return sum(vm_hwm_kib(pid) for pid in self.pids())

    def stop(self, timeout: float = 8.0) -> None:
        if self.alive():
            self.pids()
            try:
                os.kill(self.pid, self.stop_signal)
                self.popen.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(5)
        deadline = time.monotonic() + 3
        for pid, started in self.tree.items():  # workers left behind, by their own pid
            while start_time(pid) == started and time.monotonic() < deadline:
                time.sleep(0.05)
            if start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def run_timed(argv: Sequence[str], timeout: float, *, stdout: Path | None = None,
              env: dict[str, str] | None = None, interrupt_after: float | None = None,
              ) -> tuple[float, float, int]:
    """Run argv to completion: (wall seconds, CPU seconds incl. its children, exit code).

    ``interrupt_after`` sends SIGINT then (wrk prints its summary on SIGINT, which
    gives sub-second runs); past ``timeout`` the process is killed.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    t0 = time.perf_counter()
    try:
        popen = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env, preexec_fn=raise_nofile)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    timers = [threading.Timer(timeout, _signal_if_running, (popen, signal.SIGKILL))]
    if interrupt_after is not None:
        timers.append(threading.Timer(interrupt_after, _signal_if_running,
                                      (popen, signal.SIGINT)))
    for timer in timers:
        timer.start()
    try:  # wait for the exit without reaping, so a timer can never hit a reused pid
        os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOWAIT)
        wall = time.perf_counter() - t0
    finally:
        for timer in timers:
            timer.cancel()
            timer.join()
    _, status, usage = os.wait4(popen.pid, 0)
    popen.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, popen.returncode


def _signal_if_running(popen: subprocess.Popen[bytes], sig: int) -> None:
    # not yet reaped (run_timed reaps only after cancelling the timers): still ours
    with contextlib.suppress(ProcessLookupError):
        os.kill(popen.pid, sig)
