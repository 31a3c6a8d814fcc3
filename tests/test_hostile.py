"""Hostile names, tags and credentials in every output (issue 10): one resource per payload, every format.

Whoever creates a resource names it. Each payload below goes through `check` in every format (and `diff`), and
each output must stay valid in its own syntax and show the payload literally: no terminal markup or escape
sequence interpreted, no spreadsheet formula, no Markdown mention, link or forged row, valid XML, no forged
heading in the diff. A malformed STS answer's credentials reach no report.
"""

from __future__ import annotations

import csv
import html.parser
import http.server
import io
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.cli import app
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.safe import visible, xml_text

PAYLOADS = [
    "[/]",
    "[link=https://evil.example]click[/link]",
    "[conceal]hidden[/conceal]",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.example\x07osc\x1b]8;;\x07",
    '=HYPERLINK("https://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "\tTAB",
    "\rCR",
    "@octocat please review",
    "[link](https://evil.example)",
    "![img](https://evil.example/x.png)",
    "**bold** _em_ ~~strike~~",
    "a|b|c",
    "nul\x00vt\x0bff\x0c",
    "line1\n## New findings (9)\n+ forged line",
    "<script>alert(1)</script>",
    "\u202eevil\u200b",
    "https://evil.example/path",
]
FORMATS = ("table", "json", "sarif", "csv", "markdown", "junit", "html")
NAME = re.compile(r"^hostile-(\d+) ")


def name(i: int) -> str:
    return f"hostile-{i} {PAYLOADS[i]}"


def rid(i: int) -> str:
    return f"arn:aws:s3:::h{i}-{PAYLOADS[i]}"


def _write(path: Path, payloads: list[int], *, skip_reason: str = "AccessDenied") -> None:
    kb = load()
    view = viewpoint(kb, ["EEA"])
    raw = [
        Resource(
            Provider.AWS,
            f"acct{PAYLOADS[i]}",
            "s3",
            "AWS::S3::Bucket",
            rid(i),
            name(i),
            (Copy("us-east-1", CopyRole.PRIMARY),),
            KeyControl.PROVIDER_MANAGED,
            {"owner": PAYLOADS[i]},
            PAYLOADS[i],
        )
        for i in payloads
    ]
    skips = (Skip(Provider.AWS, "account/1/region/eu-west-1/service/rds", skip_reason),)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    result = ScanResult(tuple(assess_all(kb, locate(kb, raw), view)), skips)
    report.write_atomic(path, report.iter_json(result, view, report.Meta("scan", None, now, now)))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("hostile")
    _write(where / "r.json", list(range(len(PAYLOADS))))
    out = {}
    for fmt in FORMATS:
        target = where / f"out.{fmt}"
        result = CliRunner().invoke(app, ["check", str(where / "r.json"), "--profile", "eu-sovereign", "--format",
                                          fmt, "-o", str(target)])  # fmt: skip
        assert result.exit_code == 1, (fmt, result.stderr, result.exception)
        out[fmt] = target.read_bytes().decode("utf-8")
    stdout = CliRunner().invoke(app, ["check", str(where / "r.json"), "--profile", "eu-sovereign"])
    assert stdout.exit_code == 1, stdout.exception
    out["terminal"] = stdout.stdout
    return out


def test_terminal_prints_markup_literally_and_no_escape_sequence(outputs: dict[str, str]) -> None:
    for fmt in ("table", "terminal"):
        text = outputs[fmt]
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e\u200b]", text), fmt  # no ESC, BEL, NUL, bidi override
        # an 80-column terminal folds long names: the file (200 columns) holds each on one line
        for literal in (
            ("[/]",) if fmt == "terminal" else ("[/]", "[conceal]hidden[/conceal]", "\\x1b[31mred", "\\u202eevil")
        ):
            assert literal in text, (fmt, literal)


def test_json_and_sarif_keep_every_name_exactly(outputs: dict[str, str]) -> None:
    names = {r["name"] for r in json.loads(outputs["json"])["resources"]}
    assert names == {name(i) for i in range(len(PAYLOADS))}
    results = json.loads(outputs["sarif"])["runs"][0]["results"]
    assert {loc["name"] for r in results for loc in r["locations"][0]["logicalLocations"]} <= names


def test_csv_neutralises_formulas(outputs: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(outputs["csv"], newline="")))
    by_id = {r["id"]: r for r in rows}
    for i, payload in enumerate(PAYLOADS):
        row = by_id[rid(i)]
        assert row["name"] == name(i)  # starts with "hostile-": no formula
        formula = payload.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row["classification"] == ("'" + payload if formula else payload), payload
        assert row["account"] == f"acct{payload}"


def _outside_code(text: str) -> str:
    return re.sub(r"(`+).*?\1", "", text)


def test_markdown_neutralises_mentions_links_emphasis_and_pipes(outputs: dict[str, str]) -> None:
    text = outputs["markdown"]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "hostile-" in line]
    assert len(rows) >= len(PAYLOADS)
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)
        assert len(cells) in (6, 11), row  # finding rows: 4 cells; resource rows: 9 (plus both ends)
        outside = _outside_code(row)
        for bad in ("@octocat", "](https", "https://", "<script", "**bold**", "_em_", "~~strike"):
            assert bad not in outside, (bad, row)
    assert not re.search(r"^#+ New findings", text, re.M)
    assert "\x1b" not in text and "\x00" not in text


def test_junit_is_valid_xml_with_names_visible(outputs: dict[str, str]) -> None:
    root = ET.fromstring(outputs["junit"])
    names = {case.get("name") for case in root.iter("testcase")}
    assert {xml_text(rid(i)) for i in range(len(PAYLOADS))} <= names
    assert "arn:aws:s3:::h16-nul\\x00vt\\x0bff\\x0c" in names  # what XML cannot hold, shown as escapes


def test_html_escapes_every_payload(outputs: dict[str, str]) -> None:
    page = outputs["html"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    html.parser.HTMLParser().feed(page)  # parses


def test_diff_text_cannot_forge_a_heading(tmp_path: Path) -> None:
    _write(tmp_path / "old.json", [0])
    _write(tmp_path / "new.json", list(range(len(PAYLOADS))))
    result = CliRunner().invoke(app, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("## ")] == [f"## New data stores ({len(PAYLOADS) - 1})"]
    assert all(line.startswith(("#", "+", "-", "~", "↑", "↓")) or not line or line[0].isdigit() for line in lines)
    assert visible(name(17)) in result.stdout and "\x1b" not in result.stdout


# --- credentials in a malformed STS answer --------------------------------------------------------------------

KEY_ID, SECRET, TOKEN = "ASIASENTINELKEY12345", "sentinelSecret/Access+Key0123", "sentinelSessionTokenXYZ0123456789"
BODY = (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
    f"<AccessKeyId>{KEY_ID}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
    f"<SessionToken>{TOKEN}</SessionToken><Expiration>2026-11-29T20:00:00Z"  # cut short: not valid XML
).encode()


@pytest.fixture
def sts() -> Iterator[str]:
    """An STS endpoint whose AssumeRole answer is malformed and full of credentials."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/xml")
            self.send_header("content-length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_malformed_sts_answer_puts_no_credential_in_any_report(sts: str, tmp_path: Path) -> None:
    import boto3
    from botocore.config import Config

    from residency_audit.clouds.aws import describe_error

    client = boto3.Session(aws_access_key_id="AKIATEST", aws_secret_access_key="test", region_name="us-east-1").client(
        "sts", endpoint_url=sts, config=Config(retries={"max_attempts": 1})
    )
    with pytest.raises(Exception) as caught:
        client.assume_role(RoleArn="arn:aws:iam::123456789012:role/audit", RoleSessionName="scan")
    assert SECRET in str(caught.value)  # what botocore says carries the body …
    reason = describe_error(caught.value)
    assert "Unable to parse response" in reason and "\n" not in reason
    _write(tmp_path / "r.json", [0], skip_reason=str(caught.value))  # … even a reason made elsewhere
    for fmt in FORMATS:
        target = tmp_path / f"out.{fmt}"
        CliRunner().invoke(app, ["check", str(tmp_path / "r.json"), "--format", fmt, "-o", str(target)])
        text = target.read_text(encoding="utf-8") + reason
        for secret in (KEY_ID, SECRET, TOKEN):
            assert secret not in text, (fmt, secret)


# --- writing output ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("out") / "r.json"
    _write(path, [0, 1])
    return path


def _check(saved: Path, target: str) -> int:
    return CliRunner().invoke(app, ["check", str(saved), "--format", "csv", "-o", target]).exit_code


def test_output_writes_through_a_fifo(saved: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert _check(saved, str(fifo)) == 3
    reader.join(timeout=30)
    assert got and got[0].startswith(b"provider,account")
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_output_to_dev_null_and_through_a_symlink(saved: Path, tmp_path: Path) -> None:
    assert _check(saved, os.devnull) == 3
    assert Path(os.devnull).is_char_device()
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert _check(saved, str(link)) == 3
    assert link.is_symlink() and target.read_text().startswith("provider,account")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    import signal

    from residency_audit.output import Terminated, write_output

    def write(out: io.TextIOBase) -> None:
        out.write("half a report")
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal, delivered while the file is open
        out.write("never")

    with pytest.raises(Terminated):
        write_output(tmp_path / "r.json", write)
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_reports_name_files_relative_to_the_working_directory(saved: Path, tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(saved.parent)
    try:
        result = CliRunner().invoke(app, ["check", str(saved), "--profile", "eu-sovereign", "--format", "json"])
    finally:
        os.chdir(cwd)
    assert json.loads(result.stdout)["source"]["path"] == "r.json"
    profile = tmp_path / "my profile.toml"
    profile.write_text('name = "mine"\n[copies]\nallowed = ["EEA"]\n')
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["check", str(saved), "--profile", str(profile), "--format", "sarif"])
    finally:
        os.chdir(cwd)
    log = json.loads(result.stdout)
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == "my%20profile.toml"
    assert "file://" not in result.stdout and str(tmp_path) not in result.stdout
