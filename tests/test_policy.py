"""Profiles, findings, waivers, overrides and the gate's exit codes, as a user meets them."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.cli import app
from residency_audit.knowledge import KnowledgeBase
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.policy import apply_overrides, evaluate, verdict
from residency_audit.profiles import bundled, load_profile

from .conftest import BIN


def res(
    name: str,
    *codes: str,
    key: KeyControl = KeyControl.PROVIDER_MANAGED,
    provider: str = "aws",
    classification: str | None = None,
) -> Resource:
    footprint = tuple(Copy(c, CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA) for i, c in enumerate(codes))
    return Resource(
        Provider(provider),
        "111122223333",
        "s3",
        "AWS::S3::Bucket",
        f"arn:aws:s3:::{name}",
        name,
        footprint,
        key,
        {},
        classification,
    )


def findings_for(kb: KnowledgeBase, profile_name: str, *resources: Resource, today: date | None = None) -> list[Any]:
    prof = load_profile(profile_name, kb)
    kb2 = apply_overrides(kb, prof)
    view = viewpoint(kb2, prof.home, prof.trusted)
    assessed = list(assess_all(kb2, locate(kb2, resources), view))
    return evaluate(assessed, prof, kb2, today or date(2026, 11, 27))


def rules_of(findings: list[Any]) -> list[tuple[str, str, str]]:
    return sorted((f.resource_name, f.rule, f.severity) for f in findings)


def test_every_bundled_profile_loads(kb: KnowledgeBase) -> None:
    assert {"eu-gdpr", "eu-sovereign", "us-only", "example"} <= set(bundled())
    for name in bundled():
        assert load_profile(name, kb).name == name
    out = CliRunner().invoke(app, ["profiles", "list"]).stdout
    assert "eu-sovereign" in out and "us-only" in out


def test_eu_sovereign(kb: KnowledgeBase) -> None:
    found = findings_for(
        kb, "eu-sovereign",
        res("frankfurt-plain", "eu-central-1"),
        res("frankfurt-xks", "eu-central-1", key=KeyControl.EXTERNAL),
        res("replicated", "eu-central-1", "us-east-1", key=KeyControl.EXTERNAL),
        res("martian", "eu-central-1", "mars-north-1", key=KeyControl.CLIENT_SIDE),
        res("sovereign-cse", "eusc-de-east-1", key=KeyControl.CLIENT_SIDE),
    )  # fmt: skip
    assert rules_of(found) == [
        ("frankfurt-plain", "RA002", "error"),  # US reach through the operator, provider-managed keys
        ("frankfurt-xks", "RA002", "error"),  # an external key store: the provider still holds plaintext (EDPB)
        ("martian", "RA004", "error"),  # unknown locations violate
        ("replicated", "RA001", "error"),  # a replica in the US
        ("replicated", "RA002", "error"),
    ]
    ra002 = next(f for f in found if f.rule == "RA002")
    assert "US" in ra002.message and "provider-managed" in ra002.message


def test_eu_gdpr_allows_adequacy_and_warns_on_reach(kb: KnowledgeBase) -> None:
    found = findings_for(
        kb, "eu-gdpr",
        res("zurich", "eu-central-2"),  # Switzerland has an adequacy decision
        res("virginia", "us-east-1"),  # so has the US (Data Privacy Framework)
        res("beijing", "cn-north-1"),
    )  # fmt: skip
    assert ("beijing", "RA001", "error") in rules_of(found)
    assert ("zurich", "RA001", "error") not in rules_of(found)
    assert ("virginia", "RA001", "error") not in rules_of(found)
    assert ("beijing", "RA002", "warning") in rules_of(found)
    assert verdict([f for f in found if f.resource_name != "beijing"], incomplete=False) == ("pass", 0)
    from residency_audit.rules import Severity

    assert verdict(found, incomplete=False, fail_on=Severity.WARNING) == ("fail", 1)


def test_us_only(kb: KnowledgeBase) -> None:
    found = findings_for(kb, "us-only", res("virginia", "us-east-1"), res("dublin", "eu-west-1", key=KeyControl.EXTERNAL),
                         res("sovereign", "eusc-de-east-1"))  # fmt: skip
    assert ("virginia", "RA001", "error") not in rules_of(found)
    assert not [f for f in found if f.resource_name == "virginia"]  # EU e-Evidence is a regime: not counted here
    assert ("dublin", "RA001", "error") in rules_of(found)
    assert ("sovereign", "RA002", "error") in rules_of(found)  # German operator: keys do not help


def test_classification_rules_are_stricter(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('name = "strict"\n[copies]\nallowed = ["EEA"]\n[reach]\nkey_control = ["customer-managed", '
                    '"external", "client-side"]\n[[classification]]\nvalues = ["Secret"]\nallowed = ["DE"]\n'
                    'key_control = ["client-side"]\n')  # fmt: skip
    found = findings_for(
        kb, str(path),
        res("ordinary", "eu-west-1", key=KeyControl.CUSTOMER_MANAGED),
        res("secret-dublin", "eu-west-1", key=KeyControl.CUSTOMER_MANAGED, classification="secret"),
    )  # fmt: skip
    assert rules_of(found) == [("secret-dublin", "RA001", "error"), ("secret-dublin", "RA002", "error")]
    assert "classification 'secret'" in found[0].message


def _profile_with_waiver(tmp_path: Path, expires: date) -> Path:
    path = tmp_path / "w.toml"
    path.write_text(f'name = "w"\n[copies]\nallowed = ["EEA"]\n[reach]\ncount = ["territorial"]\ntolerated = [{{state = "US", reason = "r"}}]\n'
                    f'[[waiver]]\nresource = "arn:aws:s3:::legacy-*"\nrule = "RA001"\nreason = "migration"\n'
                    f"expires = {expires.isoformat()}\n")  # fmt: skip
    return path


def test_active_waiver_keeps_the_finding_visible_but_passing(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = _profile_with_waiver(tmp_path, date(2027, 1, 31))
    found = findings_for(kb, str(path), res("legacy-1", "us-east-1"), res("new", "us-east-1"))
    waived = [f for f in found if f.waived]
    assert [f.resource_name for f in waived] == ["legacy-1"]
    assert waived[0].rule == "RA001" and waived[0].waiver.reason == "migration"
    assert verdict([f for f in found if f.resource_name == "legacy-1"], incomplete=False) == ("pass", 0)


def test_expired_waiver_is_a_violation(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = _profile_with_waiver(tmp_path, date(2026, 1, 31))
    found = findings_for(kb, str(path), res("legacy-1", "us-east-1"))
    assert rules_of(found) == [("legacy-1", "RA001", "error"), ("legacy-1", "RA005", "error")]
    assert not any(f.waived for f in found)
    assert verdict(found, incomplete=False) == ("fail", 1)


def test_override_changes_the_assessment_and_is_recorded(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text('name = "o"\n[viewpoint]\nhome = ["EEA"]\n[exposure]\nmax_level = "low"\n'
                    '[[override]]\noperator = "aws-eusc"\nfield = "parent_controlled_from"\nvalue = []\n'
                    'reason = "counsel opinion LEG-1"\n')  # fmt: skip
    plain = findings_for(kb, "eu-sovereign", res("s", "eusc-de-east-1"))
    overridden = findings_for(kb, str(path), res("s", "eusc-de-east-1"))
    assert any(f.rule == "RA002" for f in plain)
    assert overridden == []
    prof = load_profile(str(path), kb)
    assert kb.resolve("aws", "eusc-de-east-1").operator.parent_controlled_from == ("US",)  # the bundled KB unchanged
    view = viewpoint(kb, prof.home)
    now = datetime.now(UTC)
    rep = report.build(ScanResult((), ()), view, report.Meta("scan", None, now, now), report.Gate(prof, (), "pass"))
    assert rep["profile"]["overrides"] == [{"target": "aws-eusc", "kind": "operator", "field": "parent_controlled_from",
                                            "value": [], "reason": "counsel opinion LEG-1"}]  # fmt: skip


BAD_PROFILES = [
    ('name = "x"\n[copies\nallowed = ["EEA"]\n', "not valid TOML"),
    ('name = "x"\ncolour = "blue"\n', "unknown field 'colour'"),
    ('name = "x"\n[copies]\nalowed = ["EEA"]\n', "unknown field 'copies.alowed'"),
    ('name = "x"\n[copies]\nallowed = "EEA"\n', "field 'copies.allowed': must be a list"),
    ('name = "x"\n[copies]\nallowed = ["Europe"]\n', "field 'copies.allowed': 'Europe' is neither a bloc"),
    ('name = "x"\n[viewpoint]\nhome = ["XX"]\n', "field 'viewpoint.home': 'XX' is neither a bloc"),
    ('name = "x"\n[exposure]\nmax_level = "severe"\n', "field 'exposure.max_level': must be one of none, low"),
    ('name = "x"\n[reach]\nkey_control = ["hsm"]\n', "field 'reach.key_control': 'hsm' is not one of"),
    ('name = "x"\n[[waiver]]\nresource = "*"\nrule = "RA999"\nreason = "r"\nexpires = 2027-01-01\n', "'RA999' is not a rule id"),
    ('name = "x"\n[[waiver]]\nresource = "*"\nreason = "r"\nexpires = "soon"\n', "field 'waiver[0].expires': must be a date"),
    ('name = "x"\n[[waiver]]\nresource = "*"\nreason = "r"\n', "every waiver needs an expiry date"),
    ('name = "x"\n[[override]]\nlocation = "aws:eu-centrl-1"\nfield = "countries"\nvalue = ["DE"]\nreason = "r"\n', "closest known: aws:eu-central-1"),
    ('name = "x"\n[[override]]\noperator = "aws"\nfield = "controlled_from"\nvalue = ["US"]\n', "every override needs a reason"),
    ('description = "no name"\n', "field 'name': a profile needs a name"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_PROFILES)
def test_bad_profile_exits_2_with_file_field_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["profiles", "validate", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_a_good_profile() -> None:
    result = CliRunner().invoke(app, ["profiles", "validate", "example"])
    assert result.exit_code == 0 and "valid profile 'example'" in result.stdout


def test_unknown_profile_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "r.json"), "--profile", "eu-sovran"])
    assert result.exit_code == 2 and "no bundled profile named 'eu-sovran'" in result.stderr


# --- the exit-code matrix, through the real command -------------------------------------------------------------


def saved_report(kb: KnowledgeBase, tmp_path: Path, *resources: Resource, skipped: bool = False) -> Path:
    view = viewpoint(kb, ["EEA"])
    assessed = tuple(assess_all(kb, locate(kb, resources), view))
    skips = (
        (Skip(Provider.AWS, "account/111122223333/region/eu-west-1/service/rds", "AccessDenied"),) if skipped else ()
    )
    now = datetime.now(UTC)
    path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(report.build(ScanResult(assessed, skips), view, report.Meta("scan", None, now, now))))
    return path


@pytest.mark.parametrize(
    ("violating", "skipped", "extra", "code"),
    [
        (False, False, [], 0),
        (True, False, [], 1),
        (False, True, [], 3),
        (False, True, ["--allow-incomplete"], 0),
        (True, True, [], 1),
        (True, True, ["--allow-incomplete"], 1),
    ],
)
def test_exit_code_matrix(kb: KnowledgeBase, tmp_path: Path, violating: bool, skipped: bool, extra: list[str],
                          code: int) -> None:  # fmt: skip
    resources = [res("ok", "eu-central-1", key=KeyControl.CLIENT_SIDE)]
    if violating:
        resources.append(res("abroad", "us-east-1", key=KeyControl.CLIENT_SIDE))
    path = saved_report(kb, tmp_path, *resources, skipped=skipped)
    proc = subprocess.run([BIN, "check", str(path), "--profile", "eu-sovereign", "--format", "json", *extra],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == code, proc.stderr
    out = json.loads(proc.stdout)
    assert out["summary"]["verdict"] == {0: "pass", 1: "fail", 3: "incomplete"}[code] or "--allow-incomplete" in extra
    assert [f["name"] for f in out["findings"]] == (["abroad"] if violating else [])
    assert out["source"] == {"kind": "check", "path": str(path)}


def test_fail_on_warning(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved_report(kb, tmp_path, res("reachable", "eu-central-1"))
    run = CliRunner().invoke
    assert run(app, ["check", str(path), "--profile", "eu-gdpr"]).exit_code == 0  # US reach is a warning there
    assert run(app, ["check", str(path), "--profile", "eu-gdpr", "--fail-on", "warning"]).exit_code == 1


def test_check_without_profile_reassesses(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved_report(kb, tmp_path, res("a", "eu-central-1"))
    result = CliRunner().invoke(app, ["check", str(path), "--home", "US", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["resources"][0]["assessment"]["level"] == "critical"  # a copy abroad, from the US


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema_version": "1", "resources": [', "not valid JSON"),
        ('{"schema_version": "3", "resources": []}', "schema_version '3' is not supported"),
        ('[1, 2]', "not a residency-audit report"),
        ('{"schema_version": "1", "started_at": "2026-01-01T00:00:00", "finished_at": "2026-01-01T00:00:00", '
         '"resources": [{"provider": "aws"}]}', "resources[0].account is missing"),
        ('{"schema_version": "1", "started_at": "2026-01-01T00:00:00", "finished_at": "2026-01-01T00:00:00", '
         '"resources": [{"provider": "oracle"}]}', "resources[0].provider is 'oracle'"),
    ],
)  # fmt: skip
def test_malformed_reports_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = CliRunner().invoke(app, ["check", str(path), "--profile", "eu-sovereign"])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_profile_and_home_conflict(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved_report(kb, tmp_path, res("a", "eu-central-1"))
    result = CliRunner().invoke(app, ["check", str(path), "--profile", "eu-sovereign", "--home", "US"])
    assert result.exit_code == 2 and "sets the viewpoint" in result.stderr


def test_output_written_atomically_and_table_shows_findings(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved_report(kb, tmp_path, res("abroad", "us-east-1"))
    out = tmp_path / "out" / "r.txt"
    out.parent.mkdir()
    result = CliRunner().invoke(app, ["check", str(path), "--profile", "eu-sovereign", "--output", str(out)])
    assert result.exit_code == 1
    text = out.read_text()
    assert "RA001 copy outside allowed jurisdictions" in text and "verdict: fail" in text
    assert [p.name for p in out.parent.iterdir()] == ["r.txt"]
    assert "fail: 2 error(s)" in result.stderr


def test_expired_waiver_today(kb: KnowledgeBase, tmp_path: Path) -> None:
    yesterday = date.today() - timedelta(days=1)
    prof = _profile_with_waiver(tmp_path, yesterday)
    path = saved_report(kb, tmp_path, res("legacy-x", "us-east-1"))
    result = CliRunner().invoke(app, ["check", str(path), "--profile", str(prof), "--format", "json"])
    assert result.exit_code == 1
    rules = sorted(f["rule"] for f in json.loads(result.stdout)["findings"])
    assert rules == ["RA001", "RA005"]
