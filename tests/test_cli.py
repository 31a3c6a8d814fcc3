"""The CLI as a user meets it: commands, formats, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from residency_audit import __version__
from residency_audit.cli import app
from residency_audit.kbcheck import botocore_regions
from residency_audit.knowledge import KnowledgeBase

from .conftest import BIN

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"residency-audit {__version__}"


def test_regions_json_lists_every_botocore_region() -> None:
    code, out, _ = run("regions", "--provider", "aws", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    codes = {r["location"] for r in rows}
    assert {region for _, region in botocore_regions()} <= codes
    required = {
        "provider",
        "location",
        "kind",
        "countries",
        "city",
        "operator",
        "controlled_from",
        "paired_region",
        "status",
        "sources",
        "as_of",
    }
    for row in rows:
        assert required <= set(row), row["location"]
        assert row["provider"] == "aws"


def test_regions_filters_by_country() -> None:
    code, out, _ = run("regions", "--country", "br", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {r["provider"] for r in rows} == {"aws", "azure", "gcp"}
    assert all("BR" in r["countries"] for r in rows)
    code, _, err = run("regions", "--country", "Brazil")
    assert code == 2 and "--country 'Brazil' is not an ISO 3166-1 alpha-2 code" in err


def test_regions_table() -> None:
    code, out, _ = run("regions", "--provider", "azure")
    assert code == 0 and "brazilsouth" in out and "southcentralus" in out


def test_explain_every_location(kb: KnowledgeBase) -> None:
    for loc in kb.locations:
        code, out, err = run("explain", loc.key, "--format", "json")
        assert code == 0, (loc.key, err)
        data = json.loads(out)
        assert data["location"] == loc.code
        assert data["assessment"]["level"] in {"none", "low", "medium", "high", "critical", "unknown"}
        assert data["assessment"]["reasons"]


@pytest.mark.parametrize(
    ("location", "home", "level", "reach"),
    [
        ("aws:eu-central-1", "EU", "high", "US"),
        ("gcp:EUR4", "EU", "high", "US"),
        ("gcp:eur8", "EU", "high", "CH"),  # Zurich is outside the EU, in a partner state (adequacy of full scope)
        ("aws:cn-north-1", "EU", "critical", "CN"),
        ("aws:eusc-de-east-1", "EU", "medium", "US"),
        ("azure:brazilsouth", "BR", "high", "US"),
        ("aws:us-east-1", "US", "medium", "EU-EEVIDENCE"),  # the UK IPA weighs heavy
    ],
)
def test_explain_assessments(location: str, home: str, level: str, reach: str) -> None:
    code, out, _ = run("explain", location, "--home", home, "--format", "json")
    assert code == 0
    assessment = json.loads(out)["assessment"]
    assert assessment["level"] == level
    assert reach in assessment["foreign_reach"]


def test_explain_key_control_lowers_exposure() -> None:
    _, out, _ = run("explain", "aws:eu-central-1", "--key-control", "external", "--format", "json")
    assessment = json.loads(out)["assessment"]
    assert assessment["level"] == "medium"
    assert any("lowered at most one step" in r for r in assessment["reasons"])


def test_explain_table_shows_reasons_with_sources() -> None:
    code, out, _ = run("explain", "azure:brazilsouth", "--home", "BR")
    assert code == 0
    assert "southcentralus" in out and "CLOUD Act" in out and "[azure-regions-list" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "aws:eu-centrl-1"], "unknown location 'aws:eu-centrl-1'; closest known: aws:eu-central-1"),
        (["explain", "eu-central-1"], "is not PROVIDER:LOCATION"),
        (["explain", "oracle:eu-frankfurt-1"], "is not PROVIDER:LOCATION"),
        (["explain", "aws:eu-central-1", "--home", "Europe"], "'EUROPE' is neither a bloc"),
    ],
)
def test_user_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_installed_entry_point_runs() -> None:
    proc = subprocess.run(
        [str(BIN), "explain", "gcp:EUR4", "--format", "json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["members"] == ["europe-north1", "europe-west4"]
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_help_imports_no_cloud_sdk() -> None:
    code = (
        "import sys\n"
        "from residency_audit.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'azure', 'google'))\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "100"}
    )
    assert "HEAVY []" in proc.stdout
    assert "scan" in proc.stdout and "explain" in proc.stdout


def test_streamed_json_report_equals_the_built_one(kb: KnowledgeBase) -> None:
    from datetime import UTC, datetime

    from residency_audit import report
    from residency_audit.classify import viewpoint
    from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
    from residency_audit.pipeline import ScanResult, assess_all, locate

    view = viewpoint(kb, ["EU"])
    raw = [
        Resource(
            Provider.AWS,
            "1",
            "s3",
            "AWS::S3::Bucket",
            f"arn:aws:s3:::b{i}",
            f"b{i}",
            (Copy("eu-west-1", CopyRole.PRIMARY), Copy("us-east-1", CopyRole.REPLICA, note="rule r1")),
            KeyControl.CUSTOMER_MANAGED,
            {"team": "ünïcode"},
        )
        for i in range(3)
    ]
    resources = tuple(assess_all(kb, locate(kb, raw), view))
    assert resources[0].assessment is resources[1].assessment  # same places and keys: one shared assessment
    now = datetime.now(UTC)
    meta = report.Meta("scan", None, now, now)
    for result in (ScanResult(resources, (Skip(Provider.AWS, "account/1", "denied"),)), ScanResult((), ())):
        streamed = "".join(report.iter_json(result, view, meta))
        assert json.loads(streamed) == report.build(result, view, meta)
        lines = streamed.splitlines()
        assert sum(1 for line in lines if line.startswith('    {"provider": "aws", "account": "1"')) == len(
            result.resources
        )  # one resource per line


def test_explain_lists_the_laws_it_cites_in_full() -> None:
    code, out, _ = run("explain", "aws:eu-central-1", "--format", "json")
    assert code == 0
    laws = {law["id"]: law for law in json.loads(out)["laws"]}
    assert {"us-cloud-act", "us-fisa-702", "uk-ipa-2016"} <= set(laws)
    assert laws["us-cloud-act"]["citation"].startswith("18 U.S.C. § 2713") and laws["us-cloud-act"]["sources"]
    _code, out, _ = run("explain", "aws:eu-central-1")
    assert "laws cited" in out and "Clarifying Lawful Overseas Use of Data Act" in out


def test_help_lists_scan_first() -> None:
    code, out, _ = run("--help")
    assert code == 0
    listed = [name for name in ("scan", "check", "plan", "explain", "regions", "kb-check") if f"│ {name} " in out]
    assert listed == ["scan", "check", "plan", "explain", "regions", "kb-check"]
    assert out.index("│ scan ") < out.index("│ regions ")
