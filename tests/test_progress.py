"""The scan's progress line, seen through a real pseudo-terminal and a VT100 emulator (pyte).

The child runs the CLI's own progress wrapper around a scan that reports a few steps; the parent reads the
terminal stream. Rich redraws ten times a second, so the child waits a little between steps (about a second
in all) so that each step is drawn.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pyte

CHILD = r"""
import sys, time
from residency_audit.cli.scan import run_with_progress
from residency_audit.pipeline import Progress, ScanResult

def scan(on_progress):
    for i in range(1, 4):
        on_progress(Progress(tasks_done=i, tasks_total=5, resources=10 * i, skips=i // 3,
                             current=f"account/[bold]{i}/region/eu-west-{i}/service/s3" + "x" * 80))
        time.sleep(0.4)  # rich redraws every 0.1 s: each step is drawn several times
    return ScanResult((), ())

run_with_progress(scan)
print("scan finished", file=sys.stderr, flush=True)
"""


def _in_pty(columns: int) -> bytes:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "24"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(master)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out


def _screens(raw: bytes, columns: int) -> tuple[list[str], list[str]]:
    """Every distinct first line the terminal showed while the scan ran, and the final screen."""
    screen = pyte.Screen(columns, 24)
    stream = pyte.ByteStream(screen)
    seen: list[str] = []
    # rich redraws a live line starting with a carriage return: look at the screen just before each redraw
    parts = raw.split(b"\r")
    for i, part in enumerate(parts):
        stream.feed((b"\r" if i else b"") + part)
        first = screen.display[0].rstrip()
        if first and (not seen or seen[-1] != first):
            seen.append(first)
    return seen, [line.rstrip() for line in screen.display]


def test_progress_line_shows_scopes_resources_and_scope_then_disappears() -> None:
    seen, final = _screens(_in_pty(100), 100)
    drawn = [line for line in seen if re.match(r". \d:\d\d:\d\d scanning ", line)]
    assert any("2/5 scopes · 20 resources found" in line for line in drawn), seen
    assert any("3/5 scopes · 30 resources found, 1 skipped" in line for line in drawn), seen
    # the scope is printed literally (no markup) and cut to the line with an ellipsis, never wrapped
    assert any("· account/[bold]2/region/eu-west-2/service/s3" in line and line.endswith("…") for line in drawn), seen
    assert all(len(line) <= 100 for line in seen)
    # erased when done: the next output starts where the line was, and nothing of it is left
    assert final[0] == "scan finished" and not any(line for line in final[1:])


def test_progress_line_fits_80_columns() -> None:
    seen, final = _screens(_in_pty(80), 80)
    assert any("3/5 scopes · 30 resources found, 1 skipped · acc" in line for line in seen), seen
    assert all(len(line) <= 80 for line in seen)
    assert final[0] == "scan finished" and not any(line for line in final[1:])


def test_no_progress_line_when_stderr_is_not_a_terminal() -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30, check=True)
    assert proc.stderr == "scan finished\n" and proc.stdout == ""
