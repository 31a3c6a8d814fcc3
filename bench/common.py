"""Shared bench helpers: run the installed command as a child process and measure it."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BIN = str(Path(sys.executable).parent / "residency-audit")
LATENCY = 0.040  # seconds added to every request: real cloud API calls cost 20–100 ms


def run_measured(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `residency-audit ARGS` in a child and return wall time, peak RSS (MB), exit code and the JSON report.

    A wrapper process runs the command so that RUSAGE_CHILDREN holds exactly this one scan's peak memory.
    """
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "wall = time.perf_counter() - t\n"
        "sys.stderr.write(p.stderr.decode(errors='replace'))\n"
        "sys.stdout.write(f'{wall} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {p.returncode}\\n')\n"
        "sys.stdout.write(p.stdout.decode())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, BIN, *args], env=env, capture_output=True, text=True, check=False
    )
    head, _, body = proc.stdout.partition("\n")
    wall, rss_kb, code = head.split()
    report = json.loads(body) if body.strip().startswith("{") else None
    return {
        "wall": float(wall),
        "rss_mb": int(rss_kb) / 1024,
        "code": int(code),
        "report": report,
        "stderr": proc.stderr,
    }


def floor(requests: int, concurrency: int, latency: float = LATENCY) -> float:
    """The fastest a scan can be: every request costs `latency`, `concurrency` at a time."""
    return requests * latency / concurrency


def help_time(runs: int = 7) -> float:
    """Median wall time of `residency-audit --help` (a fresh interpreter each time)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([BIN, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def line(label: str, value: str) -> None:
    """Print one aligned figure."""
    print(f"  {label:<44} {value}", flush=True)
