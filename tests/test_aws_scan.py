"""`residency-audit scan` against moto's server over real HTTP (through the proxy in tests/servers/aws.py)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app
from residency_audit.scan import SERVICES as ALL_SERVICES

from .conftest import BIN, by_name, invoke_json, places
from .servers.aws import (
    AwsEndpoint,
    seed_bucket,
    seed_db_instance,
    seed_global_table,
    seed_kms_key,
    seed_organization,
    seed_table,
    seed_volume,
)

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "us-west-2"]


# The stores these tests read; KMS keys, backup vaults, secrets, registries and warehouses are in test_aws_copies.py.
SERVICES = ["--service", "s3", "--service", "dynamodb", "--service", "rds", "--service", "ebs-snapshot"]


def scan(*args: str) -> tuple[int, dict[str, Any], str]:
    region_args = [] if "--region" in args or "--all-regions" in args else [a for r in REGIONS for a in ("--region", r)]
    service_args = [] if "--service" in args else SERVICES
    argv = ["scan", "--format", "json", *region_args, *service_args, *[a for a in args if a != "--all-regions"]]
    return invoke_json(argv)


def test_s3_locations_replication_and_keys(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    xks = seed_kms_key(s, "eu-central-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    seed_bucket(s, "legacy-null", "us-east-1")
    seed_bucket(s, "legacy-eu", "EU")
    seed_bucket(
        s, "frankfurt", "eu-central-1", replicate_to={"frankfurt-copy": "us-west-2"}, sse="aws:kms", kms_key_arn=xks
    )
    seed_bucket(s, "dublin-cmk", "eu-west-1", sse="aws:kms", kms_key_arn=cmk, tags={"data-classification": "personal"})
    seed_bucket(s, "dublin-cse", "eu-west-1", tags={"residency:encryption": "client-side"})
    # the same, but its rule re-encrypts replicas with a key of the US region's external key store
    xks_us = seed_kms_key(s, "us-west-2", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks_us] = "EXTERNAL_KEY_STORE"
    seed_bucket(s, "rekeyed", "eu-central-1", replicate_to={"rekeyed-copy": "us-west-2"}, sse="aws:kms",
                kms_key_arn=xks, replica_keys={"rekeyed-copy": xks_us})  # fmt: skip

    code, report, err = scan()
    assert code == 0, err
    assert report["complete"] is True and report["skipped"] == []
    r = by_name(report)
    assert set(r) == {
        "legacy-null", "legacy-eu", "frankfurt", "frankfurt-copy", "dublin-cmk", "dublin-cse", "rekeyed", "rekeyed-copy"
    }  # fmt: skip

    assert places(r["legacy-null"]) == [("us-east-1", "primary")]
    assert places(r["legacy-eu"]) == [("eu-west-1", "primary")]

    assert places(r["frankfurt"]) == [("eu-central-1", "primary"), ("us-west-2", "replica")]
    assert r["frankfurt"]["countries"] == ["DE", "US"]
    assert r["frankfurt"]["key_control"] == "external"
    # a key per copy: the rule names no ReplicaKmsKeyID, so the US replica is under S3's keys and decides
    assert r["frankfurt"]["assessment"]["level"] == "critical"
    replica = r["frankfurt"]["footprint"][1]
    assert replica["key_control"] == "provider-managed" and "no ReplicaKmsKeyID" in replica["note"]
    # re-encrypted with a key held outside AWS: every copy's keys are external, which lowers the level one step
    assert r["rekeyed"]["footprint"][1]["key_control"] == "external"
    assert r["rekeyed"]["assessment"]["level"] == "high"

    assert r["legacy-null"]["assessment"]["level"] == "critical"  # a copy in the US, from the EU
    assert r["legacy-eu"]["key_control"] == "provider-managed"
    assert r["legacy-eu"]["assessment"]["level"] == "high"  # in Ireland, operated by a US company
    assert r["dublin-cmk"]["key_control"] == "customer-managed"
    assert r["dublin-cmk"]["assessment"]["level"] == "high"  # a customer-managed key changes no level
    assert r["dublin-cmk"]["classification"] == "personal"
    assert r["dublin-cse"]["key_control"] == "client-side"
    assert r["dublin-cse"]["assessment"]["level"] == "medium"  # client-side, key custody not declared: one step
    assert "US" in r["dublin-cmk"]["assessment"]["foreign_reach"]


def test_bucket_region_comes_from_list_buckets(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    for i, region in enumerate(["us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "EU"]):
        seed_bucket(s, f"bucket-{i}", region)
    aws.list_buckets_page_cap = 2  # three pages: the tool must follow ContinuationToken
    aws.clear_log()
    code, report, _ = scan()
    assert code == 0
    assert len(report["resources"]) == 5
    counts = aws.counts
    assert counts[("s3", "ListBuckets")] == 3
    assert counts[("s3", "GetBucketLocation")] == 0
    # 1 + 2N for location, replication and encryption, plus one tag call per region with buckets
    assert counts[("s3", "GetBucketReplication")] == 5 and counts[("s3", "GetBucketEncryption")] == 5
    assert counts[("tagging", "GetResources")] == 4


def test_get_bucket_location_fallback(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_bucket(s, "old-null", "us-east-1")
    seed_bucket(s, "old-eu", "EU")
    seed_bucket(s, "old-sydney", "ap-southeast-2")
    aws.list_buckets_region = False  # an S3 that does not return BucketRegion
    aws.clear_log()
    code, report, _ = scan("--region", "us-east-1", "--region", "eu-west-1", "--region", "ap-southeast-2")
    assert code == 0
    r = by_name(report)
    assert places(r["old-null"]) == [("us-east-1", "primary")]
    assert r["old-null"]["footprint"][0]["reported_as"] == ""  # LocationConstraint null
    assert places(r["old-eu"]) == [("eu-west-1", "primary")]
    assert r["old-eu"]["footprint"][0]["reported_as"] == "EU"  # the legacy constraint
    assert places(r["old-sydney"]) == [("ap-southeast-2", "primary")]
    assert r["old-sydney"]["countries"] == ["AU"]
    assert aws.counts[("s3", "GetBucketLocation")] == 3


def test_dynamodb_global_tables_and_keys(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    seed_global_table(aws, s, "orders", ["eu-west-1", "us-east-1"])
    seed_table(s, "local-only", "eu-west-1", kms_key_arn=cmk)
    code, report, _ = scan("--service", "dynamodb")
    assert code == 0
    tables = [r for r in report["resources"] if r["service"] == "dynamodb"]
    orders = [t for t in tables if t["name"] == "orders"]
    assert len(orders) == 2  # one resource per regional replica, each with the whole footprint
    assert {tuple(sorted(t["countries"])) for t in orders} == {("IE", "US")}
    local = next(t for t in tables if t["name"] == "local-only")
    assert places(local) == [("eu-west-1", "primary")]
    assert local["key_control"] == "customer-managed"
    assert all(r["service"] == "dynamodb" for r in report["resources"])


def test_rds_cross_region_read_replica(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_db_instance(s, "customers", "eu-west-1", replica_regions=["us-east-1"])
    code, report, _ = scan("--service", "rds")
    assert code == 0
    r = by_name(report)
    assert places(r["customers"]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert r["customers"]["assessment"]["level"] == "critical"
    replica = next(v for k, v in r.items() if k != "customers")
    assert places(replica) == [("us-east-1", "primary"), ("eu-west-1", "replica")]


def test_ebs_snapshots_and_cross_region_copies(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    key = seed_kms_key(s, "us-east-1")
    volume = seed_volume(s, "eu-central-1")
    original = s.client("ec2", region_name="eu-central-1").create_snapshot(VolumeId=volume)["SnapshotId"]
    copy = s.client("ec2", region_name="us-east-1").copy_snapshot(
        SourceSnapshotId=original, SourceRegion="eu-central-1", Encrypted=True, KmsKeyId=key
    )["SnapshotId"]
    code, report, _ = scan("--service", "ebs-snapshot")
    assert code == 0
    snaps = {r["name"]: r for r in report["resources"]}
    assert set(snaps) == {original, copy}  # a cross-region copy is its own resource
    assert places(snaps[original]) == [("eu-central-1", "primary")]
    assert snaps[original]["key_control"] == "provider-managed"  # not encrypted
    assert places(snaps[copy]) == [("us-east-1", "primary")]
    assert snaps[copy]["key_control"] == "customer-managed"
    assert snaps[copy]["assessment"]["level"] == "critical"  # a customer-managed key in the provider's KMS: no change


def test_organization_accounts_by_assume_role(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    members = seed_organization(s, ["finance", "research"])
    seed_bucket(s, "management-bucket", "eu-west-1")
    for i, account in enumerate(members):
        seed_bucket(aws.member_session(account, direct=True), f"member-{i}-bucket", "eu-central-1")
    aws.clear_log()
    code, report, _ = scan("--org", "--service", "s3")
    assert code == 0, report.get("skipped")
    owners = {r["name"]: r["account"] for r in report["resources"]}
    assert owners == {"management-bucket": "123456789012", "member-0-bucket": members[0], "member-1-bucket": members[1]}
    assert aws.counts[("sts", "AssumeRole")] == 2

    code, report, _ = scan("--account-id", members[1], "--service", "s3")
    assert code == 0 and [r["name"] for r in report["resources"]] == ["member-1-bucket"]


def test_account_that_cannot_be_entered_is_a_skip(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    members = seed_organization(s, ["locked"])
    seed_bucket(s, "visible", "eu-west-1")
    aws.add_fault(service="sts", action="AssumeRole", status=403, code="AccessDenied", message="not authorised")
    code, report, err = scan("--org", "--service", "s3")
    assert code == 3
    assert [r["name"] for r in report["resources"]] == ["visible"]
    [skip] = report["skipped"]
    assert skip["scope"] == f"account/{members[0]}"
    assert "AccessDenied on AssumeRole (HTTP 403): not authorised" in skip["reason"]
    assert "incomplete" in err


def test_denied_region_is_a_skip_and_the_scan_goes_on(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_db_instance(s, "dublin-db", "eu-west-1")
    seed_db_instance(s, "virginia-db", "us-east-1")
    aws.add_fault(service="rds", region="eu-west-1", status=403, code="AccessDenied", message="region denied")
    code, report, _ = scan("--service", "rds")
    assert code == 3
    assert report["complete"] is False
    assert [r["name"] for r in report["resources"]] == ["virginia-db"]
    assert report["skipped"] == [
        {
            "provider": "aws",
            "scope": "account/123456789012/region/eu-west-1/service/rds",
            "reason": "AccessDenied on DescribeDBInstances (HTTP 403): region denied",
        }
    ]


def test_transient_throttling_is_retried(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_bucket(s, "busy", "eu-west-1")
    aws.add_fault(service="s3", action="GetBucketReplication", status=503, code="SlowDown", message="slow", times=1)
    code, report, _ = scan("--service", "s3")
    assert code == 0 and [r["name"] for r in report["resources"]] == ["busy"]


def test_unreadable_replication_is_reported(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_bucket(s, "secretive", "eu-west-1")
    aws.add_fault(service="s3", action="GetBucketReplication", status=403, code="AccessDenied", message="no")
    code, report, _ = scan("--service", "s3")
    assert code == 3
    assert [r["name"] for r in report["resources"]] == ["secretive"]
    assert report["skipped"][0]["scope"].endswith("bucket/secretive/replication")


def test_every_enabled_region_by_default(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_bucket(s, "far-away", "ap-southeast-2")
    seed_table(s, "tokyo-table", "ap-northeast-1")
    aws.clear_log()
    code, report, _ = scan("--all-regions", "--service", "s3", "--service", "dynamodb")
    assert code == 0
    assert {r["name"] for r in report["resources"]} == {"far-away", "tokyo-table"}
    described = {rec.region for rec in aws.requests if rec.action == "ListTables"}
    assert len(described) > 10 and "ap-northeast-1" in described


def test_json_contract(aws: AwsEndpoint) -> None:
    seed_bucket(aws.session(direct=True), "contract", "eu-west-1", tags={"team": "data"})
    code, report, _ = scan("--service", "s3")
    assert code == 0
    assert {"schema_version", "tool", "started_at", "finished_at", "resources", "skipped"} <= set(report)
    assert report["tool"]["name"] == "residency-audit"
    [res] = report["resources"]
    assert {
        "provider",
        "account",
        "service",
        "type",
        "id",
        "name",
        "footprint",
        "countries",
        "key_control",
        "tags",
        "assessment",
    } <= set(res)
    assert res["id"] == "arn:aws:s3:::contract" and res["tags"] == {"team": "data"}
    assert set(res["footprint"][0]) >= {"location", "countries", "role"}
    assert set(res["assessment"]) >= {"level", "foreign_reach", "reasons"}
    assert any("[" in reason and "]" in reason for reason in res["assessment"]["reasons"])  # sources cited


def test_read_only(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_bucket(s, "read-only-bucket", "eu-west-1", replicate_to=["us-west-2"])
    seed_db_instance(s, "ro-db", "eu-west-1")
    seed_global_table(aws, s, "ro-table", ["eu-west-1", "us-east-1"])
    aws.clear_log()
    scan()
    actions = {rec.action for rec in aws.requests}
    assert actions, "the scan made no request"
    writes = {a for a in actions if a and not a.startswith(("List", "Get", "Describe"))}
    assert writes == {"AssumeRole"} - {"AssumeRole"} or writes == set(), writes
    assert {rec.method for rec in aws.requests if rec.service == "s3"} == {"GET"}


def test_subprocess_table_output_and_file(aws: AwsEndpoint, tmp_path: Path) -> None:
    seed_bucket(aws.session(direct=True), "to-file", "eu-west-1")
    env = aws.env(dict(os.environ))
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [BIN, "scan", "--region", "eu-west-1", "--format", "json", "--output", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and json.loads(out.read_text())["resources"][0]["name"] == "to-file"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left behind

    proc = subprocess.run(
        [BIN, "scan", "--region", "eu-west-1"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "to-file" in proc.stdout and "nothing skipped" in proc.stdout and "high" in proc.stdout


def test_progress_display_on_a_terminal(aws: AwsEndpoint) -> None:
    seed_bucket(aws.session(direct=True), "progress", "eu-west-1")
    leader, follower = pty.openpty()
    env = {**aws.env(dict(os.environ)), "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(
        [BIN, "scan", "--region", "eu-west-1", "--format", "json"], env=env, stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    assert b"scanning" in seen
    assert json.loads(out)["resources"][0]["name"] == "progress"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "eu-wst-1"], "--region 'eu-wst-1' is not an AWS region; closest known: aws:eu-west-1"),
        (
            ["--service", "s4"],
            f"--service 's4' is not one of {', '.join(ALL_SERVICES['aws'])} (for --provider aws)",
        ),
        (["--home", "Atlantis"], "'ATLANTIS' is neither a bloc"),
    ],
)
def test_bad_scan_options_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["scan", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_scan_gate_with_a_profile(aws: AwsEndpoint, tmp_path: Path) -> None:
    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-central-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    cse = {"residency:encryption": "client-side"}  # eu-sovereign tolerates foreign reach for client-side data only
    seed_bucket(s, "sovereign-ok", "eu-central-1", sse="aws:kms", kms_key_arn=xks, tags=cse)
    code, report, err = scan("--service", "s3", "--profile", "eu-sovereign")
    assert code == 0, err
    assert report["findings"] == [] and report["summary"]["verdict"] == "pass"
    assert report["profile"]["name"] == "eu-sovereign"

    seed_bucket(s, "leaky", "eu-central-1", replicate_to={"leaky-us": "us-east-1"}, sse="aws:kms", kms_key_arn=xks,
                tags=cse)  # fmt: skip
    code, report, err = scan("--service", "s3", "--profile", "eu-sovereign")
    assert code == 1
    assert sorted((f["name"], f["rule"]) for f in report["findings"]) == [
        ("leaky", "RA001"),  # its replica is in the US
        ("leaky-us", "RA001"),  # the replica bucket itself
        ("leaky-us", "RA002"),  # ... with provider-managed keys
    ]
    assert "fail: 3 error(s)" in err

    aws.add_fault(service="tagging", status=403, code="AccessDenied", message="no tags")
    code, report, err = scan("--service", "s3", "--profile", "eu-sovereign", "--fail-on", "error")
    assert code == 1  # violations win over incomplete

    aws.reset()
    xks = seed_kms_key(s, "eu-central-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    seed_bucket(s, "sovereign-ok", "eu-central-1", sse="aws:kms", kms_key_arn=xks)
    aws.add_fault(service="tagging", status=403, code="AccessDenied", message="no tags")
    xks_ok = tmp_path / "xks-ok.toml"  # a profile that accepts an external key store, so only the skip remains
    xks_ok.write_text('name = "xks-ok"\n[viewpoint]\nhome = ["EEA"]\n[copies]\nallowed = ["EEA"]\n'
                      '[reach]\nkey_control = ["external", "client-side"]\n')  # fmt: skip
    code, report, _ = scan("--service", "s3", "--profile", str(xks_ok))
    assert code == 3 and report["summary"]["verdict"] == "incomplete"  # no violation, but tags unread
    code, report, _ = scan("--service", "s3", "--profile", str(xks_ok), "--allow-incomplete")
    assert code == 0 and report["skipped"]


def test_unreadable_key_control_is_a_skip_once_per_key(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    key = seed_kms_key(s, "eu-west-1")
    seed_bucket(s, "kms-one", "eu-west-1", sse="aws:kms", kms_key_arn=key)
    seed_bucket(s, "kms-two", "eu-west-1", sse="aws:kms", kms_key_arn=key)
    seed_bucket(s, "plain", "eu-west-1")
    aws.add_fault(service="kms", action="DescribeKey", status=403, code="AccessDeniedException", message="not yours")
    aws.add_fault(service="s3", action="GetBucketEncryption", status=403, code="AccessDenied", message="no")
    code, report, _ = scan("--service", "s3")
    assert code == 3
    assert {r["name"]: r["key_control"] for r in report["resources"]} == {
        "kms-one": "unknown", "kms-two": "unknown", "plain": "unknown",
    }  # fmt: skip
    scopes = sorted(s["scope"] for s in report["skipped"])
    assert scopes == [f"account/123456789012/service/s3/bucket/{n}/encryption" for n in ("kms-one", "kms-two", "plain")]

    aws.clear_faults()
    aws.add_fault(service="kms", action="DescribeKey", status=403, code="AccessDeniedException", message="not yours")
    code, report, _ = scan("--service", "s3")
    assert code == 3
    kms_skips = [s for s in report["skipped"] if "/kms-key/" in s["scope"]]
    assert len(kms_skips) == 1 and "AccessDeniedException on DescribeKey" in kms_skips[0]["reason"]  # once per key
    assert {r["name"]: r["key_control"] for r in report["resources"]}["kms-one"] == "unknown"
