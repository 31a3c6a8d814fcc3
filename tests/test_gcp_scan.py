"""`residency-audit scan --provider gcp` over real HTTP against tests/servers/gcp.py.

Credentials are real: the endpoint writes a service-account key (a fresh RSA key) whose token_uri is the server,
so google-auth performs its JWT-bearer exchange over HTTP; nothing is patched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.scan import SERVICES

from .conftest import BIN, by_name, invoke_json, isolate_env, places
from .servers.gcp import GcpEndpoint

EKM = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/ekm"
CMEK = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/cmek"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[GcpEndpoint]:
    with GcpEndpoint() as ep:
        yield ep


@pytest.fixture
def gcp(endpoint: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> GcpEndpoint:
    """A clean endpoint, and this process's environment pointing google-auth and the tool at it (never at Google)."""
    endpoint.reset()
    isolate_env(monkeypatch, ["GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_GCP_"], endpoint.env({}))
    return endpoint


def scan(*args: str) -> tuple[int, dict[str, Any], str]:
    return invoke_json(["scan", "--provider", "gcp", "--format", "json", "--timeout", "5", *args])


def test_bucket_locations_and_keys(gcp: GcpEndpoint) -> None:
    gcp.add_key(EKM, "EXTERNAL")
    gcp.add_key(CMEK, "HSM")
    client = gcp.storage_client("data")
    client.create_bucket("eu-multi", location="EU")
    client.create_bucket("eur4-pair", location="EUR4")
    client.create_bucket("de-ch", location="EU", data_locations=["EUROPE-WEST3", "EUROPE-WEST6"])
    client.create_bucket("asia-multi", location="ASIA")
    client.create_bucket("frankfurt", location="europe-west3")
    for name, key in (("frankfurt-cmek", CMEK), ("frankfurt-ekm", EKM), ("lost-key", CMEK + "-gone")):
        bucket = client.bucket(name)
        bucket.default_kms_key_name = key
        client.create_bucket(bucket, location="EUROPE-WEST3")
    declared = client.bucket("declared")
    declared.labels = {"residency-encryption": "client-side", "data-classification": "health"}
    client.create_bucket(declared, location="US")
    # shapes the insert API would not produce from this client: a zonal bucket and the older dual-region spelling
    gcp.put_bucket("data", {"name": "zonal", "location": "US-CENTRAL1-A", "locationType": "zone"})
    gcp.put_bucket("data", {"name": "old-dual", "location": "US-EAST1+US-WEST1", "locationType": "dual-region"})

    code, report, err = scan("--project", "data", "--service", "gcs")
    assert code == 0, err
    assert report["skipped"] == []
    r = by_name(report)
    assert len(r) == 11

    eu = r["eu-multi"]
    assert eu["provider"] == "gcp" and eu["service"] == "gcs" and eu["account"] == "data"
    assert eu["id"] == "//storage.googleapis.com/projects/_/buckets/eu-multi"
    assert eu["type"] == "storage.googleapis.com/Bucket"
    assert places(eu) == [("EU", "primary")]
    assert "GB" not in eu["countries"] and "CH" not in eu["countries"] and "DE" in eu["countries"]
    assert eu["key_control"] == "provider-managed"
    assert eu["assessment"]["level"] == "high"  # EU member states only, but operated by a US company

    assert places(r["eur4-pair"]) == [("EUR4", "primary")]
    assert r["eur4-pair"]["countries"] == ["FI", "NL"]
    assert "europe-north1" in r["eur4-pair"]["footprint"][0]["note"]

    # a configurable dual-region: the two data locations, not the EU multi-region it reports as location
    assert places(r["de-ch"]) == [("europe-west3", "primary"), ("europe-west6", "primary")]
    assert r["de-ch"]["countries"] == ["CH", "DE"]
    assert [c["reported_as"] for c in r["de-ch"]["footprint"]] == ["EUROPE-WEST3", "EUROPE-WEST6"]
    assert "CH" in r["de-ch"]["assessment"]["foreign_reach"]

    assert places(r["asia-multi"]) == [("ASIA", "primary")]
    assert {"JP", "SG"} <= set(r["asia-multi"]["countries"])
    assert r["asia-multi"]["assessment"]["level"] == "critical"

    assert places(r["frankfurt"]) == [("europe-west3", "primary")] and r["frankfurt"]["countries"] == ["DE"]
    assert r["frankfurt"]["footprint"][0]["reported_as"] == "EUROPE-WEST3"  # Cloud Storage spells it upper-case

    assert r["frankfurt-cmek"]["key_control"] == "customer-managed"
    assert CMEK in r["frankfurt-cmek"]["key_note"] and "HSM" in r["frankfurt-cmek"]["key_note"]
    assert r["frankfurt-cmek"]["assessment"]["level"] == "high"  # CMEK in Cloud KMS changes no level
    assert r["frankfurt-ekm"]["key_control"] == "external"
    assert r["frankfurt-ekm"]["assessment"]["level"] == "medium"  # Cloud EKM: one step lower
    # a key that cannot be read is still a customer-managed key, said so in the note
    assert r["lost-key"]["key_control"] == "customer-managed"
    assert "could not be read" in r["lost-key"]["key_note"] and "NOT_FOUND" in r["lost-key"]["key_note"]

    assert r["declared"]["key_control"] == "client-side"
    assert r["declared"]["classification"] == "health"
    assert r["declared"]["tags"]["residency-encryption"] == "client-side"

    assert places(r["zonal"]) == [("us-central1", "primary")]
    assert "zonal location US-CENTRAL1-A" in r["zonal"]["footprint"][0]["note"]
    assert places(r["old-dual"]) == [("us-east1", "primary"), ("us-west1", "primary")]

    # one buckets.list page, one token, and one KMS read per distinct key (none for buckets without one)
    counts = gcp.counts
    assert counts[("storage", "GET", "buckets.list")] == 1
    assert counts[("oauth2", "POST", "token")] == 1
    assert counts[("kms", "GET", "cryptoKeys.get")] == 3


def test_kms_key_read_once_per_key(gcp: GcpEndpoint) -> None:
    gcp.add_key(CMEK, "SOFTWARE")
    client = gcp.storage_client("data")
    for i in range(6):
        bucket = client.bucket(f"shared-key-{i}")
        bucket.default_kms_key_name = CMEK
        client.create_bucket(bucket, location="EUROPE-WEST4")
    gcp.clear_log()
    code, report, _ = scan("--project", "data", "--service", "gcs", "--concurrency", "8")
    assert code == 0
    assert {r["key_control"] for r in report["resources"]} == {"customer-managed"}
    assert gcp.counts[("kms", "GET", "cryptoKeys.get")] == 1


def test_bucket_paging(gcp: GcpEndpoint) -> None:
    client = gcp.storage_client("paged")
    for i in range(5):
        client.create_bucket(f"paged-{i}", location="EUROPE-WEST1")
    gcp.bucket_page_cap = 2
    gcp.clear_log()
    code, report, _ = scan("--project", "paged", "--service", "gcs")
    assert code == 0
    assert sorted(r["name"] for r in report["resources"]) == [f"paged-{i}" for i in range(5)]
    assert gcp.counts[("storage", "GET", "buckets.list")] == 3


def test_unreachable_bucket_is_a_skip(gcp: GcpEndpoint) -> None:
    gcp.storage_client("partial").create_bucket("reachable", location="EU")
    gcp.unreachable["partial"] = ["in-a-down-region"]
    code, report, _ = scan("--project", "partial", "--service", "gcs")
    assert code == 3
    assert [r["name"] for r in report["resources"]] == ["reachable"]
    [skip] = report["skipped"]
    assert skip["scope"] == "project/partial/service/gcs/bucket/in-a-down-region"
    assert "unreachable" in skip["reason"]


def test_bigquery_datasets(gcp: GcpEndpoint) -> None:
    gcp.add_key(CMEK)
    gcp.add_dataset("analytics", "us_events", "US", labels={"data-classification": "internal"})
    gcp.add_dataset("analytics", "eu_lower", "eu")
    gcp.add_dataset("analytics", "warsaw", "europe-central2", kms_key=CMEK)
    gcp.dataset_page_cap = 2
    code, report, err = scan("--project", "analytics", "--service", "bigquery-dataset")
    assert code == 0, err
    r = by_name(report)
    us = r["us_events"]
    assert us["id"] == "//bigquery.googleapis.com/projects/analytics/datasets/us_events"
    assert us["type"] == "bigquery.googleapis.com/Dataset" and us["service"] == "bigquery-dataset"
    assert places(us) == [("US", "primary")] and us["countries"] == ["US"]
    assert us["classification"] == "internal"
    assert us["assessment"]["level"] == "critical"
    assert places(r["eu_lower"]) == [("EU", "primary")]  # BigQuery also spells multi-regions lower-case
    assert r["warsaw"]["key_control"] == "customer-managed" and r["warsaw"]["countries"] == ["PL"]
    counts = gcp.counts
    assert counts[("bigquery", "GET", "datasets.list")] == 2  # pages of two
    assert counts[("bigquery", "GET", "datasets.get")] == 3  # the list has no encryption settings


def test_unreadable_dataset_is_a_skip_and_still_a_resource(gcp: GcpEndpoint) -> None:
    gcp.add_dataset("analytics", "guarded", "EU")
    gcp.add_fault("bigquery", "datasets.get", status=403, message="no bigquery.datasets.get")
    code, report, _ = scan("--project", "analytics", "--service", "bigquery-dataset")
    assert code == 3
    [res] = report["resources"]
    assert res["key_control"] == "unknown" and places(res) == [("EU", "primary")]
    [skip] = report["skipped"]
    assert skip["scope"] == "project/analytics/service/bigquery-dataset/dataset/guarded"
    assert "PERMISSION_DENIED on bigquery datasets.get (HTTP 403): no bigquery.datasets.get" in skip["reason"]


def test_cloudsql_cross_region_read_replica(gcp: GcpEndpoint) -> None:
    gcp.add_key(EKM, "EXTERNAL_VPC")
    gcp.add_instance("shop", "orders", "europe-west1", kms_key=EKM, labels={"data-classification": "personal"})
    gcp.add_instance("shop", "orders-us", "us-east1", master="orders")
    gcp.add_instance("shop", "ledger", "europe-west3", backup_location="us")
    gcp.instance_page_cap = 2
    code, report, err = scan("--project", "shop", "--service", "cloudsql-instance")
    assert code == 0, err
    r = by_name(report)
    orders = r["orders"]
    assert orders["id"] == "//sqladmin.googleapis.com/projects/shop/instances/orders"
    assert orders["type"] == "sqladmin.googleapis.com/Instance"
    # backups on, location not pinned: a copy in an unknown place, said why, never the instance's region
    assert places(orders) == [("europe-west1", "primary"), ("us-east1", "replica"), ("unknown", "replica")]
    assert orders["countries"] == ["BE", "US"] and orders["assessment"]["level"] == "unknown"
    assert orders["key_control"] == "external" and orders["classification"] == "personal"
    assert "closest to the instance" in orders["footprint"][2]["note"]
    # the replica is a resource of its own, whose footprint includes its primary's region
    assert places(r["orders-us"]) == [("us-east1", "primary"), ("europe-west1", "replica")]
    assert r["orders-us"]["key_control"] == "provider-managed"
    ledger = r["ledger"]
    assert places(ledger) == [("europe-west3", "primary"), ("US", "replica")]
    assert "backups" in ledger["footprint"][1]["note"]
    assert gcp.counts[("sqladmin", "GET", "instances.list")] == 2


def test_projects_from_search(gcp: GcpEndpoint) -> None:
    for project in ("p-one", "p-two", "p-three"):
        gcp.add_project(project)
        gcp.storage_client(project).create_bucket(f"{project}-bucket", location="EUROPE-WEST1")
    gcp.add_project("p-going", state="DELETE_REQUESTED")
    gcp.storage_client("p-going").create_bucket("p-going-bucket", location="EUROPE-WEST1")
    gcp.search_page_cap = 2
    gcp.clear_log()
    code, report, err = scan("--service", "gcs")
    assert code == 0, err
    assert {r["account"] for r in report["resources"]} == {"p-one", "p-two", "p-three"}
    assert gcp.counts[("resourcemanager", "GET", "projects.search")] == 2
    listed = {rec.project for rec in gcp.requests if rec.operation == "buckets.list"}
    assert listed == {"p-one", "p-two", "p-three"}


def test_projects_of_an_organization(gcp: GcpEndpoint) -> None:
    gcp.add_folder("folders/10", parent="organizations/1000")
    gcp.add_folder("folders/11", parent="folders/10")
    gcp.add_project("top", parent="organizations/1000")
    gcp.add_project("in-folder", parent="folders/10")
    gcp.add_project("nested", parent="folders/11")
    gcp.add_project("elsewhere", parent="organizations/2000")
    gcp.add_project("leaving", parent="folders/11", state="DELETE_REQUESTED")
    for project in ("top", "in-folder", "nested", "elsewhere", "leaving", "named"):
        gcp.add_dataset(project, f"{project.replace('-', '_')}_ds", "EU")
    code, report, err = scan("--organization", "1000", "--service", "bigquery-dataset")
    assert code == 0, err
    assert {r["account"] for r in report["resources"]} == {"top", "in-folder", "nested"}
    counts = gcp.counts
    assert counts[("resourcemanager", "GET", "projects.search")] == 3  # the organization and its two folders
    assert counts[("resourcemanager", "GET", "folders.list")] == 3

    # --project adds to the organization's projects; a project named twice is scanned once
    gcp.clear_log()
    code, report, _ = scan("--organization", "1000", "--project", "named", "--project", "top")
    assert code == 0
    assert {r["account"] for r in report["resources"]} == {"top", "in-folder", "nested", "named"}
    listed = [str(rec.project) for rec in gcp.requests if rec.operation == "datasets.list"]
    assert sorted(listed) == ["in-folder", "named", "nested", "top"]


def test_forbidden_project_is_a_skip_and_the_others_are_scanned(gcp: GcpEndpoint) -> None:
    for project in ("open", "locked"):
        gcp.add_project(project)
        gcp.storage_client(project).create_bucket(f"{project}-bucket", location="EU")
        gcp.add_dataset(project, f"{project}_ds", "EU")
    gcp.add_fault(project="locked", status=403, message="The caller does not have permission")
    code, report, err = scan()
    assert code == 3
    assert report["complete"] is False
    assert {r["name"] for r in report["resources"]} == {"open-bucket", "open_ds"}
    scopes = {s["scope"]: s["reason"] for s in report["skipped"]}
    # every service of the locked project: one skip each (residency_audit.scan.SERVICES["gcp"])
    assert set(scopes) == {f"project/locked/service/{service}" for service in SERVICES["gcp"]}
    assert scopes["project/locked/service/cloudsql-instance"] == (
        "PERMISSION_DENIED on sqladmin instances.list (HTTP 403): The caller does not have permission"
    )
    assert "storage buckets.list (HTTP 403)" in scopes["project/locked/service/gcs"]
    assert "incomplete" in err


def test_transient_errors_are_retried(gcp: GcpEndpoint) -> None:
    gcp.storage_client("busy").create_bucket("busy-bucket", location="EU")
    gcp.add_instance("busy", "busy-db", "europe-west1")
    gcp.add_fault("storage", "buckets.list", status=429, message="slow down", times=2)
    gcp.add_fault("sqladmin", "instances.list", status=503, message="try again", times=1)
    code, report, err = scan("--project", "busy")
    assert code == 0, err
    assert {r["name"] for r in report["resources"]} == {"busy-bucket", "busy-db"}
    assert gcp.counts[("storage", "GET", "buckets.list")] == 3
    assert gcp.counts[("sqladmin", "GET", "instances.list")] == 2


def test_dead_endpoint_fails_fast(gcp: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", dead)
    monkeypatch.setenv("RESIDENCY_AUDIT_GCP_SQLADMIN_ENDPOINT", dead)
    started = time.monotonic()
    code, report, _ = scan("--project", "gone", "--service", "gcs", "--service", "cloudsql-instance", "--timeout", "1")
    assert time.monotonic() - started < 15
    assert code == 3
    reasons = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"project/gone/service/gcs", "project/gone/service/cloudsql-instance"}
    assert reasons["project/gone/service/cloudsql-instance"].startswith("endpoint unreachable")


def test_missing_credentials_are_one_skip(gcp: GcpEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    code, report, _ = scan("--service", "bigquery-dataset")
    assert code == 3 and report["resources"] == []
    [skip] = report["skipped"]
    assert skip["scope"] == "gcp"
    assert skip["reason"].startswith("no usable Google Cloud credentials") and "no-such-key.json" in skip["reason"]

    code, report, _ = scan("--project", "a", "--project", "b")  # one skip, not one per project and service
    assert code == 3 and [s["scope"] for s in report["skipped"]] == ["gcp"]


def test_refused_token_is_one_skip_without_secrets(gcp: GcpEndpoint) -> None:
    gcp.add_fault("oauth2", "token", status=400, message="invalid_grant: account disabled")
    code, report, _ = scan("--project", "a")
    assert code == 3
    [skip] = report["skipped"]
    assert skip["reason"] == "could not obtain an access token: invalid_grant: account disabled"
    assert skip["scope"] == "gcp"
    assert "PRIVATE KEY" not in skip["reason"] and "assertion" not in skip["reason"]


def test_read_only(gcp: GcpEndpoint) -> None:
    gcp.add_key(CMEK)
    gcp.add_project("ro")
    bucket = gcp.storage_client("ro").bucket("ro-bucket")
    bucket.default_kms_key_name = CMEK
    gcp.storage_client("ro").create_bucket(bucket, location="EU")
    gcp.add_dataset("ro", "ro_ds", "EU", kms_key=CMEK)
    gcp.add_instance("ro", "ro-db", "europe-west1")
    gcp.add_instance("ro", "ro-db-replica", "us-central1", master="ro-db")
    gcp.clear_log()
    code, report, _ = scan()
    assert code == 0 and len(report["resources"]) == 4
    methods = {(rec.method, rec.api) for rec in gcp.requests}
    assert {m for m, _ in methods} == {"GET", "POST"}
    # the token exchange and BigQuery's read-only metadata query (dataset replicas), nothing else
    posts = {(rec.api, rec.operation) for rec in gcp.requests if rec.method == "POST"}
    assert posts == {("oauth2", "token"), ("bigquery", "jobs.query")}
    apis = {"oauth2", "resourcemanager", "storage", "bigquery", "sqladmin", "kms"}
    apis |= {"compute", "secretmanager", "logging", "pubsub", "spanner", "artifactregistry", "firestore"}
    apis |= {"bigtableadmin", "backupdr"}  # every store's list, GET only
    apis |= {
        "cloudasset"
    }  # the search CAI answers with SERVICE_DISABLED (off by default in the stand-in), then the walk
    assert {api for _, api in methods} == apis
    assert gcp.scopes_requested == ["https://www.googleapis.com/auth/cloud-platform"]


def test_subprocess_installed_binary(gcp: GcpEndpoint, tmp_path: Path) -> None:
    gcp.add_project("cli")
    gcp.storage_client("cli").create_bucket("cli-bucket", location="EUR8")
    env = gcp.env(dict(os.environ))
    out = tmp_path / "report.json"
    argv = [BIN, "scan", "--provider", "gcp", "--timeout", "5"]
    proc = subprocess.run([*argv, "--format", "json", "--output", str(out)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [res] = json.loads(out.read_text())["resources"]
    assert res["name"] == "cli-bucket" and res["countries"] == ["CH", "DE"]

    proc = subprocess.run(argv, env={**env, "COLUMNS": "200"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "cli-bucket" in proc.stdout and "nothing skipped" in proc.stdout


def test_connector_imports_no_sdk_until_it_runs() -> None:
    code = (
        "import sys; from residency_audit.clouds import gcp; "
        "gcp.tasks(gcp.GcpOptions()); "
        "bad = sorted(m for m in sys.modules if m.startswith(('google', 'requests'))); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dataset_deleted_after_listing_is_dropped(gcp: GcpEndpoint) -> None:
    gcp.add_dataset("analytics", "ephemeral", "EU")
    gcp.add_fault("bigquery", "datasets.get", status=404, message="Not found: Dataset analytics:ephemeral")
    code, report, _ = scan("--project", "analytics", "--service", "bigquery-dataset")
    assert code == 0 and report["resources"] == [] and report["skipped"] == []


@pytest.mark.parametrize("fmt", ["json", "csv", "sarif", "html", "markdown", "junit", "table"])
def test_a_lone_surrogate_from_the_api_is_written_as_visible_text(gcp: GcpEndpoint, tmp_path: Path, fmt: str) -> None:
    """A JSON body may carry `\\udc80` (no UTF-8 can hold it): every format writes it as that escape, no traceback."""
    from typer.testing import CliRunner

    from residency_audit.cli import app

    client = gcp.storage_client("data")
    bucket = client.bucket("lone")
    bucket.labels = {"team": "a\udc80b"}
    client.create_bucket(bucket, location="US")
    out = tmp_path / f"report.{fmt}"
    argv = ["scan", "--provider", "gcp", "--project", "data", "--service", "gcs", "--timeout", "5",
            "--profile", "eu-sovereign", "--format", fmt, "--output", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, argv)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.exception
    text = out.read_text(encoding="utf-8")  # strict: the file is UTF-8
    if fmt == "json":
        (r,) = json.loads(text)["resources"]
        assert r["tags"] == {"team": "a\\udc80b"}
