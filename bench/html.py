"""`check --format html` on saved reports of 10,000 and 100,000 resources (issue 17): target <= 3 s, <= 300 MB.

Figures side by side show whether memory is flat in the number of resources. The report generator is check.py's.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from .check import write_report
from .common import line, run_measured

SIZES = (10_000, 100_000)


def main() -> None:
    """Generate each report, then time `check --format html --output` on it as a user would run it."""
    print("\ncheck --format html (streaming) on saved reports")
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = Path(tmp) / f"report-{n}.json"
            t = time.perf_counter()
            write_report(path, n)
            made = time.perf_counter() - t
            out = Path(tmp) / f"report-{n}.html"
            args = ["check", str(path), "--profile", "eu-sovereign", "--format", "html", "--output", str(out)]
            fig = run_measured(args, dict(os.environ))
            # a figure counts only if the command did the work: exit 1 (this estate violates), every row written
            rows = out.read_text(encoding="utf-8").count("<tr data-level=") if out.exists() else 0
            ok = fig["code"] == 1 and "Traceback" not in fig["stderr"] and rows == n
            size = out.stat().st_size / 1e6 if out.exists() else 0
            line(f"{n:,} resources: wall / peak RSS / exit / size",
                 f"{fig['wall']:.2f} s / {fig['rss_mb']:.0f} MB / {fig['code']} / {size:.0f} MB "
                 f"(target <= 3 s, <= 300 MB; report made in {made:.1f} s)"
                 + ("" if ok else f"  INVALID: {rows} rows; " + fig["stderr"].strip()[-200:]))  # fmt: skip
