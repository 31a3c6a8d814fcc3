"""The gate's other entry points through the real command: plan, every --format, diff, schema."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.cli import app
from residency_audit.knowledge import KnowledgeBase
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource
from residency_audit.pipeline import ScanResult, assess_all, locate

from .conftest import BIN

PLANS = Path(__file__).parent / "fixtures" / "plans"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("plan", "violations"),
    [
        ("azure.json", {"stacmebrprod"}),  # a GRS account in Brazil: its second copy is in Texas
        ("gcp.json", {"acme-dual-prod", "events"}),  # a dual-region with Zurich; a BigQuery dataset in the US
        ("aws.json", {"acme-records", "acme-records-dr", "reports", "reports-replica", "sessions"}),
    ],
)
def test_plan_per_cloud(plan: str, violations: set[str]) -> None:
    code, out, err = invoke("plan", str(PLANS / plan), "--profile", "eu-sovereign", "--format", "json")
    data = json.loads(out)
    assert data["source"] == {"kind": "plan", "path": os.path.relpath(PLANS / plan)}  # no absolute paths
    assert {f["name"] for f in data["findings"] if f["rule"] == "RA001"} == violations
    assert code == (1 if data["findings"] else 0)
    assert data["resources"] and all(r["assessment"] for r in data["resources"])
    if data["not_evaluated"]:
        assert "not evaluated" in err


def test_plan_lists_unknown_types_as_not_evaluated() -> None:
    _, out, _ = invoke("plan", str(PLANS / "aws.json"), "--format", "json")
    types = {n["type"] for n in json.loads(out)["not_evaluated"]}
    assert "aws_lambda_function" in types


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("state.json", "state.json"),
        ("format-v2.json", "format_version"),
        ("planned-values-list.json", "planned_values"),
    ],
)
def test_malformed_plans_exit_2(plan: str, message: str) -> None:
    code, out, err = invoke("plan", str(PLANS / plan), "--profile", "eu-sovereign")
    assert code == 2 and message in err and "Traceback" not in err + out


def test_truncated_plan_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text((PLANS / "aws.json").read_text()[:500])
    code, _, err = invoke("plan", str(path))
    assert code == 2 and "not valid JSON" in err


def _saved(kb: KnowledgeBase, tmp_path: Path, name: str, *codes: str) -> Path:
    view = viewpoint(kb, ["EEA"])
    raw = [Resource(Provider.AWS, "1", "s3", "AWS::S3::Bucket", f"arn:aws:s3:::{n}", n,
                    (Copy(c, CopyRole.PRIMARY),), KeyControl.PROVIDER_MANAGED, {}) for n, c in zip(name.split(","), codes, strict=True)]  # fmt: skip
    now = datetime.now(UTC)
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
    report.write_atomic(path, report.iter_json(ScanResult(tuple(assess_all(kb, locate(kb, raw), view)), ()), view,
                                               report.Meta("scan", None, now, now)))  # fmt: skip
    return path


def test_every_format_from_check(kb: KnowledgeBase, tmp_path: Path) -> None:
    saved = _saved(kb, tmp_path, "dublin,virginia", "eu-west-1", "us-east-1")
    outputs = {}
    for fmt in ("table", "json", "sarif", "csv", "markdown", "junit", "html"):
        out = tmp_path / f"out.{fmt}"
        code, stdout, err = invoke(
            "check", str(saved), "--profile", "eu-sovereign", "--format", fmt, "--output", str(out)
        )
        assert code == 1, (fmt, err)
        assert stdout == ""
        outputs[fmt] = out.read_text(encoding="utf-8")
    schema = json.loads(invoke("schema")[1])
    jsonschema.validate(json.loads(outputs["json"]), schema)
    sarif = json.loads(outputs["sarif"])
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"RA001", "RA002"}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "profiles/eu-sovereign.toml"
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert {r["name"] for r in rows if r["service"] != "coverage"} == {"dublin", "virginia"}
    assert "virginia" in outputs["markdown"] and "RA001" in outputs["markdown"]
    assert ET.fromstring(outputs["junit"]).iter("failure")
    assert "<svg" in outputs["html"] and "virginia" in outputs["html"]
    assert "RA001" in outputs["table"] and "verdict: fail" in outputs["table"]


def test_diff(kb: KnowledgeBase, tmp_path: Path) -> None:
    old = _saved(kb, tmp_path, "a,b", "eu-west-1", "eu-west-1")
    new = _saved(kb, tmp_path, "a,c", "us-east-1", "eu-west-1")
    code, out, _ = invoke("diff", str(old), str(new), "--format", "json")
    assert code == 0
    changes = json.loads(out)
    text = json.dumps(changes)
    assert "arn:aws:s3:::c" in text and "arn:aws:s3:::b" in text
    code, out, _ = invoke("diff", str(old), str(new))
    assert code == 0 and "arn:aws:s3:::c" in out
    code, _, err = invoke("diff", str(old), str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err


def test_schema_is_valid_json_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(out))


def test_installed_command_sarif_to_stdout(kb: KnowledgeBase, tmp_path: Path) -> None:
    saved = _saved(kb, tmp_path, "ok", "eu-central-1")
    proc = subprocess.run([BIN, "check", str(saved), "--profile", "eu-gdpr", "--format", "sarif"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "2.1.0"
