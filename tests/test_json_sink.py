"""The streamed JSON report (jsonsink.py, shared parts by reference) is byte for byte what report.iter_json writes.

iter_json builds each line with json.dumps from serialize's dicts: the reference. The sink builds the same lines
by hand from cached parts, so any drift in escaping, key order or sharing shows here, on hostile and non-ASCII
text, parts shared by many resources and parts past the memory budget.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit import jsonsink, report
from residency_audit.classify import viewpoint
from residency_audit.formats import OutputFormat
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, Finding, KeyControl, Provider, Resource, Skip, Waiver
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.profiles import load_profile
from residency_audit.render import render_result

KB = load()
VIEW = viewpoint(KB, ["EEA"])
STAMP = datetime(2026, 11, 1, tzinfo=UTC)
PLACES = [("eu-central-1",), ("eu-west-1", "us-east-1"), ("mars-1",), ("", "eu-west-1"), ("us-west-2",)]
# what whoever names a resource may write: markup, escapes, NUL (our reference marker), quotes, non-ASCII, emoji
HOSTILE = st.text(
    st.one_of(st.sampled_from('\x00\n\r\t"\\\u2028\u00e9\U0001f600[b]`@<>|=,'), st.characters(codec="utf-8")),
    max_size=12,
)

resources = st.lists(
    st.tuples(
        st.integers(0, len(PLACES) - 1),  # a footprint: the pipeline shares one per place
        HOSTILE,  # name
        st.sampled_from(list(KeyControl)),
        st.one_of(st.none(), st.just("secret"), HOSTILE),  # classification
        st.one_of(st.just({}), st.dictionaries(HOSTILE, HOSTILE, max_size=3)),  # tags
        st.one_of(st.none(), HOSTILE),  # key note
    ),
    max_size=25,
)


def _result(rows: list[tuple[int, str, KeyControl, str | None, dict[str, str], str | None]]) -> ScanResult:
    """Every other resource's copies carry a note of their own (its name); the rest share the pipeline's footprint."""
    shared_tags: dict[str, str] = {"team": "a"}
    raw = [
        Resource(
            Provider.AWS,
            f"acct-{i % 3}",
            "s3",
            "AWS::S3::Bucket",
            f"arn:aws:s3:::{name}-{i}",
            name,
            tuple(
                Copy(c, CopyRole.PRIMARY if j == 0 else CopyRole.REPLICA, note=(name or None) if i % 2 else None)
                for j, c in enumerate(PLACES[place])
            ),
            key,
            shared_tags if i % 4 == 0 else tags,
            classification,
            note,
        )
        for i, (place, name, key, classification, tags, note) in enumerate(rows)
    ]
    return ScanResult(tuple(assess_all(KB, locate(KB, raw), VIEW)), (Skip(Provider.GCP, "project/p", "denied"),))


def _findings(result: ScanResult, messages: list[str]) -> tuple[Finding, ...]:
    """Real findings (the evaluator, a waiver), plus hand-made ones: two rules sharing the empty reasons tuple."""
    from residency_audit.policy import evaluate

    prof = load_profile("eu-sovereign", KB)
    out = list(evaluate(result.resources, prof, KB, date(2026, 11, 1)))
    waiver = Waiver("arn:*", "*", "tracked \x00 <b>", date(2099, 1, 1))
    for i, r in enumerate(result.resources):
        for rule in ("RA001", "RA004"):
            f = Finding(rule, "error", r.provider, r.account, r.service, r.id, r.name, messages[i % len(messages)], ())
            out.append(f.evolve(waiver=waiver) if i % 5 == 4 else f)
    return tuple(out)


def _sink_text(result: ScanResult, gate: report.Gate, meta: report.Meta, path: Path | None) -> str:
    run = render_result(OutputFormat.json, result, VIEW, meta, gate, plain=True)
    try:
        if path is None:
            out = io.StringIO()
            run.write(out)
            return out.getvalue()
        with path.open("w", encoding="utf-8", newline="") as fh:
            run.write(fh)
        return path.read_bytes().decode()
    finally:
        run.close()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=resources, messages=st.lists(HOSTILE, min_size=1, max_size=3), budget=st.sampled_from([0, 200, 48 << 20]))
def test_the_sink_writes_what_iter_json_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list, messages: list[str], budget: int
) -> None:
    # a budget of 0 or a few hundred bytes: shared parts past it are written inline, beside referenced ones
    monkeypatch.setattr(jsonsink, "_SHARED_BYTES", budget)
    result = _result(rows)
    findings = _findings(result, messages)
    gate = report.Gate(load_profile("eu-sovereign", KB), findings, "fail")
    meta = report.Meta("scan", None, STAMP, STAMP)
    expected = "".join(report.iter_json(result, VIEW, meta, gate))
    assert _sink_text(result, gate, meta, tmp_path / "out.json") == expected  # through the byte buffer
    assert _sink_text(result, gate, meta, None) == expected  # a text stream alone


def test_shared_parts_are_referenced_in_the_spool_not_repeated(tmp_path: Path) -> None:
    """The spool holds a resource's shared assessment once: a tenth of the report, not the report twice."""
    result = _result([(1, "", KeyControl.PROVIDER_MANAGED, None, {}, None) for _ in range(200)])  # one footprint
    meta = report.Meta("scan", None, STAMP, STAMP)
    run = render_result(OutputFormat.json, result, VIEW, meta, None, plain=True)
    try:
        spooled = run.sink.resources.tell()
        out = io.StringIO()
        run.write(out)
    finally:
        run.close()
    written = out.getvalue().encode()
    assert written == "".join(report.iter_json(result, VIEW, meta)).encode()
    assert spooled * 5 < len(written)
