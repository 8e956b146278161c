"""The benchmarks' one way to time: the median of several runs (the machine's load makes single runs noisy)."""
from __future__ import annotations

import statistics
import subprocess
import time


def timed(fn, runs: int = 5):
    """(median seconds of ``runs`` calls of ``fn``, what the last call returned)."""
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def median_time(fn, runs: int = 5) -> float:
    return timed(fn, runs)[0]


def wall(cmd: list[str], runs: int = 7, check: bool = True) -> float:
    """Median wall seconds of a command, interpreter start and all."""
    return median_time(lambda: subprocess.run(cmd, capture_output=True, check=check), runs)
