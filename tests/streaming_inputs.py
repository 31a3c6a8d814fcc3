"""Deterministic saved reports for the golden comparison of `check` and `diff` (tests/test_streaming.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate

PLACES = [
    ("aws", ("eu-central-1",)), ("aws", ("eu-west-1", "us-east-1")), ("aws", ("us-west-2",)),
    ("azure", ("brazilsouth", "southcentralus")), ("azure", ("westeurope",)), ("gcp", ("EU",)), ("gcp", ("EUR8",)),
    ("gcp", ("asia-northeast1",)), ("aws", ("eusc-de-east-1",)), ("aws", ("cn-north-1",)), ("aws", ("mars-1",)),
    ("azure", ("switzerlandnorth",)), ("aws", ("", "eu-west-1")),
]  # fmt: skip
KEYS = list(KeyControl)
STAMP = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def resources(n: int, shift: int = 0, copy_keys: bool = False) -> list[Resource]:
    """n resources over three clouds: shared and unique footprints, key controls, classifications, tags.

    `copy_keys`: every other copy carries its own key control (the per-copy key stores).
    """
    out = []
    for i in range(n):
        provider, codes = PLACES[(i + shift * (i % 5 == 0)) % len(PLACES)]
        footprint = tuple(
            Copy(
                c,
                CopyRole.PRIMARY if j == 0 else CopyRole.REPLICA,
                note=f"rule r{i}" if j else None,
                key_control=KEYS[(i + j) % len(KEYS)] if copy_keys and (i + j) % 2 else None,
            )
            for j, c in enumerate(codes)
        )
        tags = {"team": f"t{i % 7}", "cost-centre": f"cc {i % 3}"} if i % 4 else {}
        classification = "secret" if i % 11 == 0 else ("public" if i % 6 == 0 else None)
        r = Resource(Provider(provider), f"acct-{i % 9}", ("s3", "storage", "gcs")[i % 3], "Golden::Type",
                     f"arn:golden:{provider}-{i}", f"store-{i:04d} ({provider})", footprint, KEYS[i % len(KEYS)],
                     tags, classification, "kms key" if i % 8 == 0 else None)  # fmt: skip
        out.append(r)
    return out


def write(path: Path, n: int, *, shift: int = 0, skips: int = 3, drop: int = 0, copy_keys: bool = False) -> None:
    """A saved report as `scan --format json` writes it (no profile), `drop` resources left out of the front."""
    kb = load()
    view = viewpoint(kb, ["EEA"])
    found = resources(n, shift, copy_keys)[drop:]
    skipped = tuple(Skip(Provider.AWS, f"account/{k}/region/eu-west-{k}/service/rds", f"AccessDenied on op {k}")
                    for k in range(skips))  # fmt: skip
    result = ScanResult(tuple(assess_all(kb, locate(kb, found), view)), skipped)
    report.write_atomic(path, report.iter_json(result, view, report.Meta("scan", None, STAMP, STAMP)))
