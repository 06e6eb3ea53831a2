"""Memory and CPU time of a process, read from /proc (Linux only)."""

from __future__ import annotations

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Memory:
    """Resident set now and its peak, in MiB."""

    rss_mib: float
    hwm_mib: float


def memory(pid: int) -> Memory:
    """VmRSS and VmHWM (the peak resident set since the process started)."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024  # kB → MiB
    return Memory(fields["VmRSS"], fields["VmHWM"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces and parentheses; fields start after the last ')'.
        rest = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(rest[11]), int(rest[12])
    return (utime + stime) / CLOCK_TICKS


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process, skipping any that has gone."""
    snapshot: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            snapshot[name] = cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            continue
    return snapshot


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each process spent between two snapshots."""
    return {name: after[name] - before[name] for name in after if name in before}
