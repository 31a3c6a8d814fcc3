"""`check` on a saved report of 100,000 resources (issue 6): target <= 3 s and <= 500 MB peak memory."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource
from residency_audit.pipeline import ScanResult, assess_all, locate

from .common import line, run_measured

N = 100_000
PLACES = [
    ("aws", ("eu-central-1",)), ("aws", ("eu-west-1", "us-east-1")), ("aws", ("us-west-2",)),
    ("azure", ("brazilsouth", "southcentralus")), ("azure", ("westeurope",)), ("gcp", ("EU",)), ("gcp", ("EUR8",)),
    ("gcp", ("asia-northeast1",)), ("aws", ("eusc-de-east-1",)), ("aws", ("cn-north-1",)),
]  # fmt: skip
KEYS = list(KeyControl)


def write_report(path: Path, n: int) -> None:
    """A realistic saved report: n resources over three clouds, several footprints and key controls."""
    kb = load()
    view = viewpoint(kb, ["EEA"])
    raw = []
    for i in range(n):
        provider, codes = PLACES[i % len(PLACES)]
        footprint = tuple(Copy(c, CopyRole.PRIMARY if j == 0 else CopyRole.REPLICA) for j, c in enumerate(codes))
        raw.append(Resource(Provider(provider), f"acct-{i % 50}", "s3", "AWS::S3::Bucket", f"id-{i:06d}",
                            f"bucket-{i:06d}", footprint, KEYS[i % len(KEYS)], {"team": f"t{i % 7}"}))  # fmt: skip
    result = ScanResult(tuple(assess_all(kb, locate(kb, raw), view)), ())
    now = datetime.now(UTC)
    report.write_atomic(path, report.iter_json(result, view, report.Meta("scan", None, now, now)))


def main() -> None:
    """Generate the report, then time `check` on it as a user would run it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        t = time.perf_counter()
        write_report(path, N)
        made = time.perf_counter() - t
        size = path.stat().st_size / 1e6
        print(f"\ncheck on a saved report of {N:,} resources ({size:.0f} MB, generated in {made:.1f} s)")
        for fmt in ("table", "sarif", "json"):
            out = Path(tmp) / f"out.{fmt}"
            fig = run_measured(["check", str(path), "--profile", "eu-sovereign", "--format", fmt, "--output",
                                str(out)], dict(os.environ))  # fmt: skip
            # a figure counts only if the command did the work: exit 1 (this estate violates) and no crash
            ok = fig["code"] == 1 and "Traceback" not in fig["stderr"] and out.exists()
            if fmt == "json" and ok:
                ok = len(json.loads(out.read_text())["resources"]) == N
            line(f"check --format {fmt}: wall / peak RSS / exit",
                 f"{fig['wall']:.2f} s / {fig['rss_mb']:.0f} MB / {fig['code']} (target <= 3 s, <= 500 MB)"
                 + ("" if ok else "  INVALID: " + fig["stderr"].strip().splitlines()[-1][:200]))  # fmt: skip
