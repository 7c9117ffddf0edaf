"""One measured sample, disturbance detection, and interleaved rounds.

A sample is disturbed when, during it, any process other than the measured
ones (the servers started for the scenario, the load generator or client, this
harness) and the kernel's own threads used CPU time: on this 2-core machine
such time was taken from the server's or the load's core. Every process's
utime + stime + the reaped children's cutime + cstime is read from
/proc/PID/stat at both ends of the sample (so short-lived processes count too,
through their parent, less what a process that ended had used before the sample); the
load's own time comes from wait4(). VM steal
(/proc/stat) counts as a disturbance too, and so does a slow spell of the
machine itself (``machine_pace``, below). A disturbed sample is measured
again; so is one that deviates strongly from the same entry's other rounds.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .procs import Proc, ProcInfo, all_processes, is_kernel_thread, steal_seconds

# Other CPU use tolerated in a sample: a fixed slack for clock-tick rounding plus
# a share of the sample's wall time (of the machine's 2 cores' worth).
SLACK_S = 0.05
SHARE = 0.03
# How often a disturbed sample is tried, and how long to wait for a quiet machine
# before each sample; configure() lowers both for --quick.
TRIES = 4
QUIET_WAIT_S = 3.0  # before a sample
QUIET_RETRY_S = 10.0  # before repeating a disturbed one


# This VM has spells, seconds long, in which system calls cost about a fifth
# more (a loopback round trip 2.1-2.4 µs instead of 1.74-1.88) with no steal
# time and no other process to show for it. A server whose time is mostly the
# kernel's slows down more in them than one whose time is mostly Python, so a
# round caught in one skews the ratios between servers. The pace is probed on
# the server's core before and after each sample (about 5 ms each); a sample
# whose slower probe is more than PACE_LIMIT times the run's best is disturbed.
PACE_LIMIT = 1.12
PACE_CORE = 0
_best_pace = math.inf


def machine_pace(trips: int = 700, bursts: int = 3) -> float:
    """µs per loopback round trip (one byte each way over a socketpair) on the
    server's core: the best of a few short bursts."""
    try:
        affinity: set[int] | None = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {PACE_CORE})
    except (AttributeError, OSError):
        affinity = None
    a, b = socket.socketpair()
    try:
        best = math.inf
        for _ in range(bursts):
            t0 = time.perf_counter()
            for _ in range(trips):
                a.send(b"x")
                b.recv(1)
            best = min(best, (time.perf_counter() - t0) / trips * 1e6)
        return best
    finally:
        a.close()
        b.close()
        if affinity is not None:
            os.sched_setaffinity(0, affinity)


def pace_verdict(pace: float) -> tuple[float, str | None]:
    """``pace`` (µs) as a multiple of the run's best so far, which it may
    become, and why it disturbs a sample if it does."""
    global _best_pace
    _best_pace = min(_best_pace, pace)
    ratio = pace / _best_pace
    if ratio > PACE_LIMIT:
        return ratio, f"machine slow: system calls at {ratio:.2f}x their best pace"
    return ratio, None


def configure(quick: bool) -> None:
    global TRIES, QUIET_WAIT_S, QUIET_RETRY_S
    if quick:
        TRIES, QUIET_WAIT_S, QUIET_RETRY_S = 1, 0.3, 0.3


@dataclass
class Window:
    """CPU accounting around one sample. `measured`: the processes being measured
    (the server); `background`: other processes of ours (idle servers)."""

    measured: Sequence[Proc]
    background: Sequence[Proc] = ()
    pace: bool = True  # probe the machine's pace at both ends
    t0: float = 0.0
    _pace0: float = 0.0
    _table: dict[int, ProcInfo] = field(default_factory=dict)
    _ours: set[int] = field(default_factory=set)
    _measured: float = 0.0
    _steal: float = 0.0

    def _our_pids(self) -> set[int]:
        pids = {os.getpid()}
        for p in (*self.measured, *self.background):
            pids.update(p.pids())
        return pids

    def open(self) -> Window:
        if self.pace:
            self._pace0 = machine_pace()
        self._ours = self._our_pids()
        self._measured = sum(p.cpu() for p in self.measured)
        self._steal = steal_seconds()
        self._table = all_processes()
        self.t0 = time.perf_counter()
        return self

    def close(self, child_cpu: float) -> dict[str, Any]:
        """child_cpu: CPU seconds of the load/client process(es) run in the window."""
        wall = time.perf_counter() - self.t0
        table = all_processes()
        steal = steal_seconds() - self._steal
        measured = sum(p.cpu() for p in self.measured) - self._measured
        pace, slow = pace_verdict(max(self._pace0, machine_pace())) if self.pace else (1.0, None)
        ours = self._ours | self._our_pids()
        others: dict[str, float] = {}
        for pid, info in table.items():
            if pid in ours or is_kernel_thread(pid, table):
                continue
            before = self._table.get(pid)
            used = info.cpu_all - (before.cpu_all if before and before.started == info.started
                                   else 0.0)
            if used > 0:
                others[info.comm] = others.get(info.comm, 0.0) + used
        for pid, info in self._table.items():
            # A process that ended in the window adds its whole life's CPU to its parent's
            # cutime: the part it had used before the window is not the window's.
            now = table.get(pid)
            if (now is None or now.started != info.started) and pid not in ours \
                    and not is_kernel_thread(pid, self._table):
                others[info.comm] = others.get(info.comm, 0.0) - info.cpu_all
        total = max(0.0, sum(others.values()))
        limit = SLACK_S + SHARE * wall * 2
        disturbed = None
        if total > limit:
            top = ", ".join(f"{name} {cpu:.2f} s" for name, cpu in
                            sorted(others.items(), key=lambda kv: -kv[1])[:3] if cpu > 0.005)
            disturbed = f"other processes used {total:.2f} s CPU (limit {limit:.2f}): {top}"
        elif steal > limit:
            disturbed = f"VM steal {steal:.2f} s"
        elif slow:
            disturbed = slow
        return {"wall_s": wall, "server_cpu_s": measured, "load_cpu_s": child_cpu,
                "others_cpu_s": total, "steal_s": steal, "pace": pace,
                "disturbed": disturbed}


def wait_quiet(max_wait: float, probe: float = 0.3, background: Sequence[Proc] = ()) -> float:
    """Wait (bounded) until other processes leave the machine nearly idle for `probe`
    seconds; return the seconds waited."""
    t0 = time.monotonic()
    while True:
        w = Window(measured=(), background=background, pace=False).open()
        time.sleep(probe)
        got = w.close(0.0)
        if got["others_cpu_s"] < 0.05 * probe or time.monotonic() - t0 > max_wait:
            return time.monotonic() - t0


@dataclass
class Sample:
    value: float  # the scenario's primary metric
    metrics: dict[str, Any]
    attempts: int = 1
    note: str = ""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def interleave(entries: Sequence[str], rounds: int,
               measure: Callable[[str], Sample], *, tries: int | None = None,
               deviation: float = 0.25, deadline: float | None = None,
               fmt: Callable[[float], str] = lambda v: f"{v:,.1f}") -> dict[str, list[Sample]]:
    """Measure entries in rounds A, B, C, A, B, C ...; repeat a disturbed sample (up to
    `tries` times) and, with 3+ rounds, one that deviates from the entry's other
    rounds by more than `deviation`."""
    out: dict[str, list[Sample]] = {e: [] for e in entries}
    tries = tries or TRIES

    def one(entry: str, label: str) -> Sample:
        reasons: list[str] = []
        tried: list[Sample] = []
        for attempt in range(1, tries + 1):
            late = deadline is not None and time.monotonic() > deadline
            wait_quiet(0.0 if late else QUIET_RETRY_S if reasons else QUIET_WAIT_S)
            sample = measure(entry)
            sample.attempts = attempt
            why = sample.metrics.get("disturbed")
            log(f"  {label} {entry:<12} {fmt(sample.value):>14}"
                + (f"   disturbed: {why}" if why else ""))
            if not why:
                break
            reasons.append(why)
            tried.append(sample)
            if late:
                break
        if reasons and sample.metrics.get("disturbed"):  # keep the least disturbed try
            sample = min(tried, key=lambda x: (x.metrics["others_cpu_s"],
                                               x.metrics.get("pace", 1.0)))
            sample.attempts = len(tried)
            sample.note = f"DISTURBED in all {len(tried)} tries; kept the least: " \
                f"{sample.metrics['disturbed']}"
        elif reasons:
            sample.note = f"repeated {len(reasons)}x (disturbed: {reasons[0]})"
        return sample

    for r in range(rounds):
        for entry in entries:
            out[entry].append(one(entry, f"round {r + 1}"))
    if rounds >= 3:
        for entry in entries:
            samples = out[entry]
            for i, s in enumerate(samples):
                rest = [x.value for j, x in enumerate(samples) if j != i]
                mid = statistics.median(rest)
                if mid and abs(s.value - mid) / mid > deviation:
                    if deadline is not None and time.monotonic() > deadline:
                        break
                    redo = one(entry, f"redo {i + 1}")
                    off = (s.value - mid) / mid
                    redo.note = (redo.note + "; " if redo.note else "") + \
                        f"repeated: round {i + 1} was {off:+.0%} off the others"
                    samples[i] = redo
    return out
