"""The streamed HTML (what `scan`/`check --format html` write) is the page rendered from the whole report."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from residency_audit import knowledge, report
from residency_audit.formats import OutputFormat
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.policy import evaluate, profile_viewpoint
from residency_audit.policy import verdict as gate_verdict
from residency_audit.profiles import load_profile
from residency_audit.render import render_result, source_file
from residency_audit.reporters import html

PLACES = [
    (Provider.AWS, ("eu-central-1",)),
    (Provider.AWS, ("eu-west-1", "us-east-1")),
    (Provider.AZURE, ("brazilsouth", "southcentralus")),
    (Provider.GCP, ("EUR4",)),
    (Provider.AWS, ("xx-test-9",)),
]


def test_streamed_html_is_the_page_of_the_built_report() -> None:
    kb = knowledge.load()
    profile = load_profile("eu-sovereign", kb)
    view = profile_viewpoint(kb, profile)
    keys = list(KeyControl)
    raw = [
        Resource(
            p,
            f"acct-{i % 3}",
            "s3",
            "AWS::S3::Bucket",
            f"id-{i:04d}",
            f"store-{i:04d}",
            tuple(Copy(c, CopyRole.PRIMARY if j == 0 else CopyRole.REPLICA) for j, c in enumerate(codes)),
            keys[i % len(keys)],
        )
        for i, (p, codes) in enumerate(PLACES[i % len(PLACES)] for i in range(300))
    ]
    assessed = tuple(assess_all(kb, locate(kb, raw), view))
    skips = (Skip(Provider.AWS, "account/1/region/eu-west-1/service/rds", "AccessDenied"),)
    findings = tuple(evaluate(assessed, profile, kb, date(2026, 11, 27)))
    decision, _ = gate_verdict(findings, incomplete=True)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    meta = report.Meta("check", "saved.json", now, now)
    gate = report.Gate(profile, findings, decision)
    result = ScanResult(assessed, skips)

    run = render_result(OutputFormat.html, result, view, meta, gate, plain=True)
    try:
        out = io.StringIO()
        run.write(out)
    finally:
        run.close()
    streamed = out.getvalue()
    whole = html.render(report.build(result, view, meta, gate), source_file=source_file(meta, gate.profile))
    assert streamed == whole
    assert streamed.count("<tr data-level=") == 300 and streamed.count("<tr data-severity=") == len(findings)
