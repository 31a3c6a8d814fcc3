"""A first run without credentials: one line per cloud saying what is missing and how to provide it, no empty
tables, exit 3. The real CLI in a child process with an environment that holds no credential of any kind (and
reaches no metadata server: every credential chain fails on this machine)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from residency_audit.firstrun import HOW, MARKERS, missing_credentials
from residency_audit.model import Provider, Skip

from .conftest import BIN


def _env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": os.defpath,  # no `az`, no `gcloud`
        "HOME": str(tmp),
        "COLUMNS": "100",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"),
        "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential",
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp / "no-such-key.json"),
    }


def _scan(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [BIN, "scan", "--provider", "aws", "--provider", "azure", "--provider", "gcp", *args]
    return subprocess.run(argv, env=_env(tmp), capture_output=True, text=True, timeout=120, check=False)


def test_no_credentials_anywhere_says_what_is_missing_per_cloud(tmp_path: Path) -> None:
    proc = _scan(tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == ""  # no empty tables
    lines = proc.stderr.splitlines()
    assert lines[:3] == [
        f"residency-audit: {HOW['aws']}",
        f"residency-audit: {HOW['azure']}",
        f"residency-audit: {HOW['gcp']} (File {tmp_path / 'no-such-key.json'} was not found)",
    ]
    assert lines[3:] == ["residency-audit: incomplete: nothing was scanned (no credentials for any cloud)"]
    assert "Traceback" not in proc.stderr


def test_a_report_is_still_written_and_nothing_passes(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = _scan(tmp_path, "--format", "json", "--output", str(out), "--allow-incomplete")
    assert proc.returncode == 3  # --allow-incomplete cannot pass a scan that read nothing
    report = json.loads(out.read_text())
    assert report["resources"] == [] and {s["scope"] for s in report["skipped"]} == {"aws", "azure", "gcp"}
    assert sum(line.startswith("residency-audit: AWS: no credentials") for line in proc.stderr.splitlines()) == 1


def test_markers_are_what_the_connectors_say() -> None:
    """The hints key on the start of each connector's reason: check them against the real exceptions."""
    from azure.core.exceptions import ClientAuthenticationError
    from botocore.exceptions import NoCredentialsError
    from google.auth.exceptions import DefaultCredentialsError

    from residency_audit.clouds import aws, azure, gcp

    reasons = {
        "aws": aws.describe_error(NoCredentialsError()),
        "azure": azure.describe_error(ClientAuthenticationError("DefaultAzureCredential failed")),
        "gcp": gcp.describe_error(DefaultCredentialsError("File k.json was not found.")),
    }
    for provider, reason in reasons.items():
        assert reason.startswith(MARKERS[provider]), reason
    skips = [Skip(Provider(p), p, r) for p, r in reasons.items()]
    assert set(missing_credentials(skips)) == {"aws", "azure", "gcp"}
    # a skip of one region or account is not a missing credential
    assert missing_credentials([Skip(Provider.AWS, "account/1/region/eu-west-1", reasons["aws"])]) == {}


@pytest.mark.parametrize("provider", ["aws", "gcp"])
def test_one_cloud_without_credentials(tmp_path: Path, provider: str) -> None:
    argv = [BIN, "scan", "--provider", provider]
    proc = subprocess.run(argv, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith(f"residency-audit: {HOW[provider][:12]}")
