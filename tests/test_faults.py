"""Fault tolerance: faults injected at the HTTP level, for each cloud, transient and persistent (issue 7).

The matrix is cloud × fault kind: HTTP 500, HTTP 503, throttling in each cloud's own shape (S3 `SlowDown` 503 and
DynamoDB `ThrottlingException`, Azure 429 with `Retry-After: 1`, Google 429), a connection reset, a read timeout
(the server stalls longer than `--timeout`), a truncated body, a malformed body and a 403 on one region /
subscription / project.

* **transient** (the fault fires once): every kind in its own scan; the call is retried, the scan is complete
  (exit 0) and the set of resource ids equals a fault-free baseline's, each id exactly once. The exception is the
  403: a permission error is not transient, so even once it is a skip (not retried), and the rest is reported.
* **persistent** (the fault never stops): one scan per cloud with *every* kind at once, each on its own scope
  (an AWS region, an Azure subscription, a Google project). Retries of a persistent fault take seconds (backoff,
  timeouts); in one scan they run side by side on the pool, so the whole matrix costs one retry budget per cloud,
  not one per kind. Each kind is then its own test case over that scan: a skip naming its scope and cause, and
  everything outside the faulted scopes still reported exactly once. The saved report is rendered in every format,
  each of which must say the scan is incomplete and list the skips.

Where the faults land (a representative subset, not every call of every service: each client stack once):
AWS, DynamoDB `ListTables` of one region per kind (JSON protocol), plus S3 `SlowDown` on `GetBucketReplication` (XML,
REST); Azure, each subscription's storage-account, Recovery Services vault and Key Vault lists through Resource
Manager (`--no-resource-graph`; Graph's own retry and fallback are in test_azure_scan.py); Google Cloud, every
request naming one project, so both the storage client (`buckets.list`) and the REST session (`instances.list`)
meet it.

Also: `--scan-timeout` against a slow server, and Ctrl-C on the installed command (exit 130, nothing written).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit.cli import app

from .conftest import BIN
from .servers.aws import DEFAULT_ACCOUNT, AwsEndpoint, seed_bucket, seed_table
from .servers.azure import AzureEndpoint
from .servers.azure_stores import add_key_vault, add_recovery_vault
from .servers.gcp import GcpEndpoint

TIMEOUT = 2  # --timeout for every scan here: a stalled call costs 2 s per attempt
KINDS = ("500", "503", "throttle", "reset", "timeout", "truncate", "malformed", "403")
FORMATS = ("json", "sarif", "csv", "markdown", "junit", "html", "table")
_ENV_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_", "REQUESTS_CA")


@dataclass
class Run:
    """One command's outcome."""

    code: int
    report: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.report.get("resources", [])]

    @property
    def skips(self) -> dict[str, str]:
        return {s["scope"]: s["reason"] for s in self.report.get("skipped", [])}


def _base_env() -> dict[str, str]:
    """This process's environment without any cloud's variables: a child process gets only the test server's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}


def invoke(env: dict[str, str], *argv: str) -> Run:
    """The command in-process, with `env` as the cloud environment (nothing of the developer's own)."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(_ENV_PREFIXES):
                mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, value)
        result = CliRunner().invoke(app, list(argv))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    out, err = result.stdout, result.stderr
    assert "Traceback" not in out + err
    report = json.loads(out) if out.strip().startswith("{") else {}
    return Run(result.exit_code, report, out, err)


def exactly_once(run: Run) -> set[str]:
    dupes = [rid for rid, n in Counter(run.ids).items() if n > 1]
    assert not dupes, f"reported twice: {dupes}"
    return set(run.ids)


# --- the clouds ----------------------------------------------------------------------------------------------


@dataclass
class Cloud:
    """A started server with a small estate, and how to put each fault kind on one scope of it."""

    name: str
    env: dict[str, str]
    args: tuple[str, ...]
    inject: Callable[[str, int | None], None]  # (kind, times) → a fault on the kind's own scope
    clear: Callable[[], None]
    scopes: dict[str, set[str]]  # kind → the skip scopes a persistent fault there yields
    lost: dict[str, set[str]]  # kind → resource ids a persistent fault there hides
    causes: dict[str, str]  # kind → regex the skip reason matches

    def scan(self, *extra: str) -> Run:
        return invoke(self.env, "scan", "--format", "json", "--timeout", str(TIMEOUT), *self.args, *extra)


# AWS: the DynamoDB listing of each region is a scope; S3 SlowDown hits the S3 calls for one bucket's region.
AWS_REGIONS = {
    "500": "eu-west-1",
    "503": "eu-central-1",
    "throttle": "ap-southeast-2",  # DynamoDB ThrottlingException (HTTP 400)
    "reset": "ap-northeast-1",
    "timeout": "ca-central-1",
    "truncate": "sa-east-1",
    "malformed": "eu-north-1",
    "403": "eu-west-2",
}
AWS_CLEAN = "us-east-1"
AWS_SLOWDOWN = "us-west-2"  # S3 SlowDown (HTTP 503) on a bucket's calls in this region


def _aws_table(region: str) -> str:
    return f"arn:aws:dynamodb:{region}:{DEFAULT_ACCOUNT}:table/t-{region}"


def _aws_cloud(ep: AwsEndpoint) -> Cloud:
    s = ep.session(direct=True)
    regions = [AWS_CLEAN, AWS_SLOWDOWN, *AWS_REGIONS.values()]
    for region in regions:
        seed_table(s, f"t-{region}", region)
    for region in (AWS_CLEAN, AWS_SLOWDOWN, "eu-west-1"):
        seed_bucket(s, f"fault-bucket-{region}", region)
    faults: dict[str, dict[str, Any]] = {
        "500": {"status": 500, "code": "InternalServerError", "message": "internal error"},
        "503": {"status": 503, "code": "ServiceUnavailable", "message": "unavailable"},
        "throttle": {"status": 400, "code": "ThrottlingException", "message": "Rate of requests exceeds the allowed"},
        "reset": {"mode": "reset"},
        "timeout": {"mode": "timeout", "delay": 0},  # held until the client gives up
        "truncate": {"mode": "truncate"},
        "malformed": {"mode": "malformed"},
        "403": {"status": 403, "code": "AccessDeniedException", "message": "not authorised in this region"},
    }

    def inject(kind: str, times: int | None) -> None:
        if kind == "throttle-s3":
            ep.add_fault("s3", AWS_SLOWDOWN, "GetBucketReplication", status=503, code="SlowDown",
                         message="Please reduce your request rate.", times=times)  # fmt: skip
            return
        ep.add_fault("dynamodb", AWS_REGIONS[kind], "ListTables", times=times, **faults[kind])

    def scope(region: str) -> str:
        return f"account/{DEFAULT_ACCOUNT}/region/{region}/service/dynamodb"

    scopes = {k: {scope(r)} for k, r in AWS_REGIONS.items()}
    scopes["throttle-s3"] = {f"account/{DEFAULT_ACCOUNT}/service/s3/bucket/fault-bucket-{AWS_SLOWDOWN}/replication"}
    lost = {k: {_aws_table(r)} for k, r in AWS_REGIONS.items()}
    lost["throttle-s3"] = set()
    causes = {
        "500": r"InternalServerError on ListTables \(HTTP 500\)",
        "503": r"ServiceUnavailable on ListTables \(HTTP 503\)",
        "throttle": r"ThrottlingException on ListTables \(HTTP 400\)",
        "throttle-s3": r"SlowDown on GetBucketReplication \(HTTP 503\)",
        "reset": r"ConnectionClosedError: Connection was closed",
        "timeout": r"timed out: Read timeout",
        "truncate": r"malformed or truncated JSON body in the ListTables response",
        "malformed": r"malformed or truncated JSON body in the ListTables response",
        "403": r"AccessDeniedException on ListTables \(HTTP 403\)",
    }
    args: list[str] = ["--service", "s3", "--service", "dynamodb"]
    for region in regions:
        args += ["--region", region]
    return Cloud("aws", ep.env(_base_env()), tuple(args), inject, ep.clear_faults, scopes, lost, causes)


# Azure: each subscription's storage accounts are a scope (Resource Manager lists; Resource Graph in transient runs).
AZ_SUBS = {kind: f"{i + 1:08d}-0000-4000-8000-{i + 1:012d}" for i, kind in enumerate(KINDS)}
AZ_CLEAN = "00000000-0000-4000-8000-000000000000"
_AZ_TYPES = {
    "storage-account": "Microsoft.Storage/storageAccounts",
    "recovery-services-vault": "Microsoft.RecoveryServices/vaults",
    "key-vault": "Microsoft.KeyVault/vaults",
}


def _azure_cloud(ep: AzureEndpoint) -> Cloud:
    ids: dict[str, str] = {}
    for kind, sub in [("clean", AZ_CLEAN), *AZ_SUBS.items()]:
        ep.add_subscription(sub)
        ids[kind] = ep.add_storage_account(
            sub, f"sa{kind}", "westeurope", "Standard_GRS", secondary_location="northeurope"
        )
        ep.add_storage_account(sub, f"sa{kind}2", "germanywestcentral")
        # the copies that hide (issue 13): a geo-redundant backup vault and a Key Vault, listed per subscription
        add_recovery_vault(ep, sub, f"rsv-{kind}", "westeurope")
        add_key_vault(ep, sub, f"kv-{kind}", "westeurope")
    faults: dict[str, dict[str, Any]] = {
        "500": {"status": 500, "code": "InternalServerError", "message": "internal error"},
        "503": {"status": 503, "code": "ServiceUnavailable", "message": "unavailable"},
        "throttle": {"status": 429, "code": "RateLimiting", "message": "too many requests", "retry_after": 1},
        "reset": {"mode": "reset"},
        "timeout": {"mode": "timeout", "delay": TIMEOUT + 1},
        "truncate": {"mode": "truncate"},
        "malformed": {"mode": "malformed"},
        "403": {"status": 403, "code": "AuthorizationFailed", "message": "no access to this subscription"},
    }

    def inject(kind: str, times: int | None) -> None:
        ep.add_fault(subscription=AZ_SUBS[kind], times=times, **faults[kind])

    scopes = {k: {f"subscription/{s}/type/{t}" for t in _AZ_TYPES.values()} for k, s in AZ_SUBS.items()}
    lost = {k: {i for i in _azure_ids(ep, s)} for k, s in AZ_SUBS.items()}
    causes = {
        "500": r"InternalServerError \(HTTP 500 on GET\)",
        "503": r"ServiceUnavailable \(HTTP 503 on GET\)",
        "throttle": r"RateLimiting \(HTTP 429 on GET\)",
        "reset": r"no complete response \(timed out or connection dropped\)",
        "timeout": r"no complete response \(timed out or connection dropped\).*Read timed out",
        "truncate": r"response cut short",
        "malformed": r"malformed response body \(not JSON\)",
        "403": r"AuthorizationFailed \(HTTP 403 on GET\)",
    }
    args = ("--provider", "azure", "--no-resource-graph", *(a for s in _AZ_TYPES for a in ("--service", s)))
    return Cloud("azure", ep.env(_base_env()), args, inject, ep.clear_faults, scopes, lost, causes)


def _azure_ids(ep: AzureEndpoint, sub: str) -> set[str]:
    prefix = f"/subscriptions/{sub}/".lower()
    return {body["id"] for key, body in ep._resources.items() if key.startswith(prefix)}


# Google Cloud: each project's Cloud Storage and Cloud SQL listings are scopes.
GCP_PROJECTS = {kind: f"proj-{kind}" for kind in KINDS}
GCP_CLEAN = "proj-clean"


def _gcp_cloud(ep: GcpEndpoint) -> Cloud:
    for project in [GCP_CLEAN, *GCP_PROJECTS.values()]:
        ep.add_project(project)
        ep.storage_client(project).create_bucket(f"{project}-bucket", location="EU")
        ep.add_instance(project, f"{project}-db", "europe-west3")
        _seed_gcp_stores(ep, project)
    faults: dict[str, dict[str, Any]] = {
        "500": {"status": 500, "message": "internal error"},
        "503": {"status": 503, "message": "backend unavailable"},
        "throttle": {"status": 429, "message": "Quota exceeded: too many requests", "retry_after": 1},
        "reset": {"mode": "reset"},
        "timeout": {"mode": "timeout", "delay": TIMEOUT + 1},
        "truncate": {"mode": "truncate"},
        "malformed": {"mode": "malformed"},
        "403": {"status": 403, "message": "The caller does not have permission"},
    }

    def inject(kind: str, times: int | None) -> None:
        ep.add_fault(project=GCP_PROJECTS[kind], times=times, **faults[kind])

    scopes = {
        k: {f"project/{p}/service/{service}" for service in ("gcs", "cloudsql-instance", *GCP_STORES)}
        for k, p in GCP_PROJECTS.items()
    }
    lost = {
        k: {f"//storage.googleapis.com/projects/_/buckets/{p}-bucket", f"//sqladmin.googleapis.com/projects/{p}/instances/{p}-db",
            *_gcp_store_ids(p)}
        for k, p in GCP_PROJECTS.items()
    }  # fmt: skip
    causes = {
        "500": r"HTTP 500",
        "503": r"HTTP 503",
        "throttle": r"HTTP 429",
        "reset": r"endpoint unreachable.*Connection reset by peer",
        "timeout": r"timed out",
        "truncate": r"response cut short|ChunkedEncodingError: \('Connection broken: IncompleteRead",
        "malformed": r"malformed JSON response|JSONDecodeError",
        "403": r"HTTP 403\): The caller does not have permission",
    }
    # the walk's faults (Cloud Asset Inventory's are tests/test_inventory_cloud_asset.py's)
    args = ["--provider", "gcp", "--no-cloud-asset", "--service", "gcs", "--service", "cloudsql-instance"]
    args += [a for service in GCP_STORES for a in ("--service", service)]
    for project in [GCP_CLEAN, *GCP_PROJECTS.values()]:
        args += ["--project", project]
    return Cloud("gcp", ep.env(_base_env()), tuple(args), inject, ep.clear_faults, scopes, lost, causes)


# issue 14's stores: a snapshot, a secret, a log bucket, a topic and a Spanner instance per project (their APIs
# name the project in the path, so the project's faults reach them too)
GCP_STORES = ("compute-snapshot", "secret-manager", "logging-bucket", "pubsub-topic", "spanner-instance")
GCP_STORES += ("artifact-registry", "firestore-database", "bigtable-instance", "backupdr-vault")
GCP_STORES += ("backupdr-plan", "logging-sink")


def _seed_gcp_stores(ep: GcpEndpoint, project: str) -> None:
    ep.stores.add_snapshot(project, f"{project}-snap", ["eu"])
    ep.stores.add_secret(project, f"{project}-secret")
    ep.stores.add_log_bucket(project, "_Default", "global")
    ep.stores.add_topic(project, f"{project}-topic")
    ep.stores.add_spanner_instance(project, f"{project}-spanner", "eur3", databases=[None])
    ep.stores.add_repository(project, f"{project}-repo", "europe-west3")
    ep.stores.add_firestore(project, "(default)", "eur3")
    ep.stores.add_bigtable(project, f"{project}-bt", ["europe-west1-b"])
    ep.stores.add_vault(project, f"{project}-vault", "europe-west3")
    # a plan and a sink whose vault and log bucket are the clean project's: read once, never under a fault
    ep.stores.add_plan(
        project,
        f"{project}-plan",
        "europe-west3",
        f"projects/{GCP_CLEAN}/locations/europe-west3/backupVaults/{GCP_CLEAN}-vault",
    )
    ep.stores.add_sink(
        project, f"{project}-sink", f"logging.googleapis.com/projects/{GCP_CLEAN}/locations/global/buckets/_Default"
    )


def _gcp_store_ids(p: str) -> set[str]:
    return {
        f"//compute.googleapis.com/projects/{p}/global/snapshots/{p}-snap",
        f"//secretmanager.googleapis.com/projects/{p}/secrets/{p}-secret",
        f"//logging.googleapis.com/projects/{p}/locations/global/buckets/_Default",
        f"//pubsub.googleapis.com/projects/{p}/topics/{p}-topic",
        f"//spanner.googleapis.com/projects/{p}/instances/{p}-spanner",
        f"//artifactregistry.googleapis.com/projects/{p}/locations/europe-west3/repositories/{p}-repo",
        f"//firestore.googleapis.com/projects/{p}/databases/(default)",
        f"//bigtableadmin.googleapis.com/projects/{p}/instances/{p}-bt",
        f"//backupdr.googleapis.com/projects/{p}/locations/europe-west3/backupVaults/{p}-vault",
        f"//backupdr.googleapis.com/projects/{p}/locations/europe-west3/backupPlans/{p}-plan",
        f"//logging.googleapis.com/projects/{p}/sinks/{p}-sink",
    }


@pytest.fixture(scope="module")
def aws_cloud() -> Iterator[Cloud]:
    with AwsEndpoint() as ep, pytest.MonkeyPatch.context() as mp:
        for key, value in ep.env({}).items():
            mp.setenv(key, value)  # the seeding helpers' boto3 too
        ep.reset()  # moto's state is per process: a module run before this one on the same worker may have left some
        yield _aws_cloud(ep)


@pytest.fixture(scope="module")
def azure_cloud() -> Iterator[Cloud]:
    with AzureEndpoint() as ep:
        yield _azure_cloud(ep)


@pytest.fixture(scope="module")
def gcp_cloud() -> Iterator[Cloud]:
    with GcpEndpoint() as ep:
        yield _gcp_cloud(ep)


CLOUDS = ("aws", "azure", "gcp")


def cloud_kinds(cloud: str) -> list[str]:
    return [*KINDS, "throttle-s3"] if cloud == "aws" else list(KINDS)


MATRIX = [(c, k) for c in CLOUDS for k in cloud_kinds(c)]


@pytest.fixture(scope="module")
def baselines() -> dict[str, set[str]]:
    """Each cloud's fault-free resource ids, computed once (by `_baseline`)."""
    return {}


def _cloud(request: pytest.FixtureRequest, name: str) -> Cloud:
    cloud: Cloud = request.getfixturevalue(f"{name}_cloud")
    return cloud


def _baseline(cloud: Cloud, cache: dict[str, set[str]]) -> set[str]:
    if cloud.name not in cache:
        cloud.clear()
        run = cloud.scan()
        assert run.code == 0 and run.report["complete"] is True, run.stderr
        cache[cloud.name] = exactly_once(run)
    return cache[cloud.name]


# --- transient: retried, complete, every resource exactly once ---------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), MATRIX, ids=[f"{c}-{k}" for c, k in MATRIX])
def test_transient_fault_is_retried(
    request: pytest.FixtureRequest, baselines: dict[str, set[str]], name: str, kind: str
) -> None:
    cloud = _cloud(request, name)
    expected = _baseline(cloud, baselines)
    cloud.clear()
    cloud.inject(kind, 1)
    try:
        run = cloud.scan()
    finally:
        cloud.clear()
    if kind == "403":
        # a permission error is not transient: not retried, even once; the scope is a skip and the rest is reported
        assert run.code == 3
        assert set(run.skips) & cloud.scopes[kind]
        assert expected - cloud.lost[kind] <= exactly_once(run) <= expected
        return
    assert run.code == 0, (run.skips, run.stderr)
    assert run.report["complete"] is True and run.report["skipped"] == []
    assert exactly_once(run) == expected


# --- persistent: a skip naming scope and cause; the rest reported exactly once; every format says incomplete -----


@dataclass
class Persistent:
    """A persistent-fault scan of one cloud by the installed command, and its saved report read back by `check`."""

    code: int
    stderr: str
    seconds: float
    saved: Path
    run: Run  # `check saved.json --format json`


@pytest.fixture(scope="module")
def persistent(
    aws_cloud: Cloud, azure_cloud: Cloud, gcp_cloud: Cloud, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Persistent]]:
    """Every fault kind at once, persistent, each on its own scope; the three clouds' scans run side by side."""
    tmp = tmp_path_factory.mktemp("persistent")
    procs: dict[str, tuple[subprocess.Popen[str], Path, float]] = {}
    for cloud in (aws_cloud, azure_cloud, gcp_cloud):
        cloud.clear()
        for kind in cloud_kinds(cloud.name):
            cloud.inject(kind, None)
        saved = tmp / f"{cloud.name}.json"
        argv = [BIN, "scan", "--format", "json", "--timeout", str(TIMEOUT), "--output", str(saved), *cloud.args]
        proc = subprocess.Popen(argv, env=cloud.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs[cloud.name] = (proc, saved, time.monotonic())
    out: dict[str, Persistent] = {}
    try:
        for name, (proc, saved, started) in procs.items():
            stdout, stderr = proc.communicate(timeout=80)
            seconds = time.monotonic() - started
            assert stdout == "" and "Traceback" not in stderr, stderr
            out[name] = Persistent(
                proc.returncode, stderr, seconds, saved, invoke({}, "check", str(saved), "--format", "json")
            )
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
        for cloud in (aws_cloud, azure_cloud, gcp_cloud):
            cloud.clear()
    yield out


@pytest.mark.parametrize(("name", "kind"), MATRIX, ids=[f"{c}-{k}" for c, k in MATRIX])
def test_persistent_fault_is_a_skip(
    request: pytest.FixtureRequest,
    baselines: dict[str, set[str]],
    persistent: dict[str, Persistent],
    name: str,
    kind: str,
) -> None:
    cloud = _cloud(request, name)
    expected = _baseline(cloud, baselines)
    p = persistent[name]
    assert p.code == 3, p.stderr
    assert "incomplete" in p.stderr
    for scope in cloud.scopes[kind]:
        assert scope in p.run.skips, (scope, p.run.skips)
        assert re.search(cloud.causes[kind], p.run.skips[scope]), (kind, p.run.skips[scope])
    assert p.run.code == 3 and p.run.report["complete"] is False
    hidden = set().union(*cloud.lost.values())
    assert exactly_once(p.run) == expected - hidden  # nothing outside the faulted scopes is lost or doubled
    assert cloud.lost[kind] <= expected


@pytest.mark.parametrize("name", CLOUDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_says_incomplete(persistent: dict[str, Persistent], name: str, fmt: str) -> None:
    p = persistent[name]
    run = invoke({"COLUMNS": "400"}, "check", str(p.saved), "--format", fmt)
    assert run.code == 3 and "incomplete" in run.stderr
    text = run.stdout
    if fmt == "json":
        assert json.loads(text)["complete"] is False
    elif fmt == "sarif":
        [invocation] = json.loads(text)["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is False
    elif fmt == "csv":
        assert "skipped_reason" in text.splitlines()[0]
    else:
        assert re.search(r"(?i)incomplete", text), text[:2000]
    missing = [scope for scope in p.run.skips if scope not in text]
    if fmt == "markdown" and missing:
        # a PR comment holds 65,536 characters: the skips that do not fit are counted, never dropped silently
        assert f"… {len(missing)} more skip(s)" in text, (fmt, missing[:3])
    else:
        assert not missing, (fmt, missing[:3])


# --- the whole-scan deadline and Ctrl-C ------------------------------------------------------------------------


@pytest.fixture
def slow_gcp() -> Iterator[tuple[GcpEndpoint, dict[str, str], list[str]]]:
    """A Google Cloud server answering every request after 0.3 s, with ten projects and one call that never ends."""
    with GcpEndpoint() as ep:
        projects = [f"slow-{i}" for i in range(10)]
        for project in projects:
            ep.storage_client(project).create_bucket(f"{project}-bucket", location="EU")
            ep.add_instance(project, f"{project}-db", "europe-west3")
        ep.latency = 0.3
        ep.add_fault("sqladmin", project="slow-0", mode="timeout", delay=60)  # stalls far past the deadline
        args = ["scan", "--provider", "gcp", "--no-cloud-asset", "--service", "gcs", "--service", "cloudsql-instance",
                "--concurrency", "2"]  # fmt: skip
        for project in projects:
            args += ["--project", project]
        yield ep, ep.env(_base_env()), args


@pytest.mark.alone  # timed: run by itself (pyproject.toml)
def test_scan_deadline_reports_what_was_found(
    slow_gcp: tuple[GcpEndpoint, dict[str, str], list[str]], tmp_path: Path
) -> None:
    _, env, args = slow_gcp
    out = tmp_path / "report.json"
    started = time.monotonic()
    proc = subprocess.run(
        [BIN, *args, "--timeout", "30", "--scan-timeout", "2", "--format", "json", "--output", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    # the stalled call (60 s, --timeout 30) is abandoned: the process ends at the deadline, not when the call does
    assert elapsed < 2 + 4, elapsed
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    report = json.loads(out.read_text())
    assert report["complete"] is False
    ids = [r["id"] for r in report["resources"]]
    assert ids and len(ids) == len(set(ids)) < 20  # some found, each once, not all
    reasons = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert reasons["project/slow-0/service/cloudsql-instance"].startswith("scan deadline passed while")
    assert any(r == "scan deadline passed before this scope was read" for r in reasons.values())
    # every scope is accounted for: found, or a skip naming it
    for i in range(10):
        for service, rid in (
            ("gcs", f"//storage.googleapis.com/projects/_/buckets/slow-{i}-bucket"),
            ("cloudsql-instance", f"//sqladmin.googleapis.com/projects/slow-{i}/instances/slow-{i}-db"),
        ):
            assert (rid in ids) != (f"project/slow-{i}/service/{service}" in reasons), (i, service)


@pytest.mark.alone  # timed: run by itself (pyproject.toml)
def test_ctrl_c_stops_promptly_and_writes_nothing(
    slow_gcp: tuple[GcpEndpoint, dict[str, str], list[str]], tmp_path: Path
) -> None:
    ep, env, args = slow_gcp
    out = tmp_path / "report.json"
    proc = subprocess.Popen(
        [BIN, *args, "--timeout", "30", "--format", "json", "--output", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not any(r.api == "sqladmin" for r in ep.requests):  # mid-scan: the listings have begun
            assert time.monotonic() < deadline and proc.poll() is None, "the scan did not start"
            time.sleep(0.05)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    # promptly, although a call is blocked (60 s stall, --timeout 30): its thread does not keep the process alive
    assert elapsed < 3, elapsed
    assert proc.returncode == 130
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        "residency-audit: error: interrupted: the scan was stopped and no report was written"
    ]
    assert list(tmp_path.iterdir()) == []  # no report, no temp file


# --- the AWS stores of issue 12: every new call × throttling, AccessDenied, 5xx, a malformed body ----------------

#: Each new call, and the region whose requests of it are faulted (its parent call succeeds there, so it is reached).
STORE_CALLS = {
    ("backup", "ListBackupVaults"): "eu-west-1",
    ("backup", "ListBackupPlans"): "eu-west-2",
    ("backup", "GetBackupPlan"): "eu-west-3",
    ("backup", "ListRecoveryPointsByBackupVault"): "ap-south-1",
    ("kms", "ListKeys"): "eu-central-1",
    ("kms", "DescribeKey"): "eu-north-1",
    ("secretsmanager", "ListSecrets"): "us-east-2",
    ("secretsmanager", "DescribeSecret"): "us-west-1",
    ("ecr", "DescribeRepositories"): "us-west-2",
    ("ecr", "DescribeRegistry"): "ap-southeast-2",
    ("redshift", "DescribeClusters"): "ca-central-1",
    ("ec2", "DescribeAvailabilityZones"): "eu-central-1",  # an RDS instance in its Warsaw Local Zone
    ("elasticfilesystem", "DescribeFileSystems"): "sa-east-1",
    ("elasticfilesystem", "DescribeReplicationConfigurations"): "ap-northeast-1",
    # graph, document and cache stores (tests/servers/aws_graph.py serves what moto lacks)
    ("rds", "DescribeGlobalClusters"): "eu-central-2",  # a DocumentDB global cluster's members
    ("rds", "DescribeDBInstanceAutomatedBackups"): "ap-northeast-2",  # replicated backups' own key, there
    ("elasticache", "DescribeReplicationGroups"): "ap-southeast-1",
    ("elasticache", "DescribeGlobalReplicationGroups"): "ap-northeast-3",
    ("memorydb", "DescribeClusters"): "eu-south-1",
    ("memorydb", "DescribeMultiRegionClusters"): "eu-south-2",
    # caches and elastic clusters outside replication groups (moto: cache clusters; tests/servers/aws_caches.py)
    ("elasticache", "DescribeCacheClusters"): "ap-south-1",  # not a region of another service/elasticache… scope
    ("elasticache", "DescribeServerlessCaches"): "ap-northeast-3",
    ("docdb-elastic", "ListClusters"): "eu-south-1",
    ("docdb-elastic", "GetCluster"): "eu-south-2",
    ("docdb-elastic", "ListTagsForResource"): "eu-central-2",
    ("es", "ListDomainNames"): "ap-east-1",
    ("es", "DescribeDomains"): "me-south-1",
    ("es", "DescribeInboundConnections"): "af-south-1",
    # AMIs and log groups: regions shared with other calls (their skips' scopes differ), so no region is added
    ("ec2", "DescribeImages"): "eu-west-2",
    ("logs", "DescribeLogGroups"): "eu-west-3",
    ("logs", "DescribeAccountPolicies"): "us-east-2",
    ("logs", "DescribeSubscriptionFilters"): "us-west-1",
    ("backup", "DescribeBackupVault"): "us-east-1",  # the copy actions' destination vault, dr
    ("organizations", "DescribeEffectivePolicy"): "us-east-1",  # the account's backup policy (a global service)
}
STORE_REGIONS = list(dict.fromkeys(["us-east-1", *STORE_CALLS.values()]))
STORE_FAULTS: dict[str, dict[str, Any]] = {
    "throttle": {"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"},
    "403": {"status": 403, "code": "AccessDeniedException", "message": "not authorised"},
    "500": {"status": 500, "code": "InternalServerError", "message": "internal error"},
    "malformed": {"mode": "malformed"},
}
# the skip scope (under account/…/region/R/service/) a persistent fault of each call yields
STORE_SCOPES = {
    "ListBackupVaults": "backup-vault",
    "ListBackupPlans": "backup-vault/plans",
    "GetBackupPlan": "backup-vault/plan/",
    "ListRecoveryPointsByBackupVault": "backup-vault/vault/",
    "ListKeys": "kms-key",
    "DescribeKey": "kms-key/",
    "ListSecrets": "secret",
    "DescribeSecret": "secret/secret/",
    "DescribeRepositories": "ecr-repository",
    "DescribeRegistry": "ecr-repository/registry",
    "DescribeClusters": "redshift",
    "DescribeAvailabilityZones": "availability-zones",
    "DescribeFileSystems": "efs",
    "DescribeReplicationConfigurations": "efs/replication",
    "DescribeGlobalClusters": "docdb/global-cluster/",
    "DescribeDBInstanceAutomatedBackups": "rds/automated-backups/",
    "DescribeReplicationGroups": "elasticache",
    "DescribeGlobalReplicationGroups": "elasticache/global-datastore/",
    "memorydb:DescribeClusters": "memorydb",
    "DescribeMultiRegionClusters": "memorydb/multi-region-cluster/",
    "DescribeCacheClusters": "elasticache-cluster",
    "DescribeServerlessCaches": "elasticache-serverless",
    "ListClusters": "docdb-elastic",
    "GetCluster": "docdb-elastic/cluster/",
    "ListTagsForResource": "docdb-elastic/cluster/",
    "ListDomainNames": "opensearch",
    "DescribeDomains": "opensearch",
    "DescribeInboundConnections": "opensearch/connections",
    "DescribeImages": "ami",
    "DescribeLogGroups": "log-group",
    "DescribeAccountPolicies": "log-group/account-policies",
    "DescribeSubscriptionFilters": "log-group/log-group/",
    "DescribeBackupVault": "backup-vault/destination-vault/dr",
    "DescribeEffectivePolicy": "",  # account-wide: account/…/backup-policy
}
# the calls whose failure hides the region's resources of that store (the others leave them reported, copies unknown)
STORE_HIDES = {"ListBackupVaults": "backup", "ListKeys": "kms", "DescribeKey": "kms", "ListSecrets": "secretsmanager",
               "DescribeRepositories": "ecr", "DescribeClusters": "redshift", "DescribeFileSystems": "efs",
               "DescribeReplicationGroups": "elasticache", "memorydb:DescribeClusters": "memorydb",
               "ListDomainNames": "opensearch", "DescribeDomains": "opensearch",
               "DescribeImages": "ami", "DescribeLogGroups": "logs", "DescribeCacheClusters": "elasticache-cluster",
               "DescribeServerlessCaches": "elasticache-serverless", "ListClusters": "docdb-elastic"}  # fmt: skip


# XML protocols (query: Redshift): botocore raises a malformed XML body's ResponseParserError outside its retry
# handler, so even a transient one is a skip (never silence); the JSON protocols' malformed bodies are retried.
STORE_XML = {"DescribeClusters", "DescribeAvailabilityZones", "DescribeGlobalClusters", "DescribeDBInstanceAutomatedBackups",
             "DescribeReplicationGroups", "DescribeGlobalReplicationGroups", "DescribeImages",
             "DescribeCacheClusters", "DescribeServerlessCaches"}  # fmt: skip


def _call(service: str, action: str) -> str:
    """The tables' key of a call: its action, or service:action where two services share an action's name."""
    return f"{service}:{action}" if f"{service}:{action}" in STORE_SCOPES else action


@dataclass
class StoreEstate:
    ep: AwsEndpoint
    env: dict[str, str]
    args: tuple[str, ...]
    ids: dict[tuple[str, str], set[str]]  # (region, store) → resource ids


@pytest.fixture(scope="module")
def store_estate() -> Iterator[StoreEstate]:
    from .servers.aws import (
        copy_recovery_point,
        seed_backup_vault,
        seed_db_instance,
        seed_file_system,
        seed_kms_key,
        seed_local_zone_db,
        seed_redshift_cluster,
        seed_repository,
        seed_secret,
    )
    from .servers.aws_copies import copy_image, seed_account_subscription_policy, seed_image, seed_log_group

    with AwsEndpoint() as ep, pytest.MonkeyPatch.context() as mp:
        for key, value in ep.env({}).items():
            mp.setenv(key, value)
        ep.reset()  # moto's state is per process: another module's endpoint may have left resources
        s = ep.session(direct=True)
        dr = seed_backup_vault(s, "dr", "us-east-1")
        ids: dict[tuple[str, str], set[str]] = {}
        for region in dict.fromkeys(STORE_CALLS.values()):
            if region == "us-east-1":
                continue  # where the copies go (dr): its DescribeBackupVault is faulted, its stores are not seeded
            ids[(region, "backup")] = {seed_backup_vault(s, f"v-{region}", region, copy_to=[dr])}
            copy_recovery_point(ep, dr, next(iter(ids[(region, "backup")])))
            ids[(region, "kms")] = {seed_kms_key(s, region)}
            ids[(region, "secretsmanager")] = {seed_secret(s, f"s-{region}", region)}
            ids[(region, "ecr")] = {seed_repository(s, f"r-{region}", region, replicate_to=["us-east-1"])}
            seed_redshift_cluster(s, f"dw-{region}", region, copy_to="us-east-1")
            ids[(region, "redshift")] = {f"arn:aws:redshift:{region}:{DEFAULT_ACCOUNT}:cluster:dw-{region}"}
            ids[(region, "efs")] = {seed_file_system(ep, s, f"fs-{region}", region, replicate_to=["us-east-1"])[0]}
            image = seed_image(ep.copies, s, f"ami-{region}", region)
            ids[(region, "ami")] = {f"arn:aws:ec2:{region}::image/{image}"}
            copy_image(ep.copies, s, image, region, "us-east-1")
            stream = f"arn:aws:kinesis:us-east-1:{DEFAULT_ACCOUNT}:stream/siem"
            ids[(region, "logs")] = {seed_log_group(ep.copies, s, f"/app/{region}", region, send_to=[stream])}
            seed_account_subscription_policy(ep.copies, region, stream)
        warsaw = {"ZoneName": "eu-central-1-waw-1a", "ZoneType": "local-zone", "GroupName": "eu-central-1-waw-1",
                  "ParentZoneName": "eu-central-1a"}  # fmt: skip
        seed_local_zone_db(ep, s, "warsaw", warsaw)
        # the graph, document and cache stores, each only where its call is faulted (and its members elsewhere)
        g = ep.graph
        g.docdb_cluster("docs", "eu-central-2", global_id="docs-g")
        g.docdb_cluster("docs-us", "us-east-1", global_id="docs-g")
        seed_db_instance(s, "pg-src", "us-east-1")
        g.backup_replica("pg-src", "ap-northeast-2")
        ids[("ap-southeast-1", "elasticache")] = {g.cache_group("cache", "ap-southeast-1")}
        g.cache_group("cache-g", "ap-northeast-3", global_id="cache-global")
        g.cache_group("cache-g-us", "us-east-1", global_id="cache-global")
        ids[("eu-south-1", "memorydb")] = {g.memorydb_cluster("mem", "eu-south-1")}
        g.memorydb_cluster("mem-mr", "eu-south-2", multi_region="mr")
        g.memorydb_cluster("mem-mr-us", "us-east-1", multi_region="mr")
        s.client("elasticache", region_name="ap-south-1").create_cache_cluster(
            CacheClusterId="mc", Engine="memcached", CacheNodeType="cache.t3.micro"
        )
        ids[("ap-south-1", "elasticache-cluster")] = {f"arn:aws:elasticache:ap-south-1:{DEFAULT_ACCOUNT}:cluster:mc"}
        ids[("ap-northeast-3", "elasticache-serverless")] = {ep.caches.serverless_cache("sls", "ap-northeast-3")}
        for region in ("eu-south-1", "eu-south-2", "eu-central-2"):
            key = next(iter(ids[(region, "kms")]))
            ids[(region, "docdb-elastic")] = {ep.caches.elastic_cluster(f"el-{region}", region, key)}
        for region in ("ap-east-1", "me-south-1", "af-south-1"):
            s.client("opensearch", region_name=region).create_domain(DomainName=f"search-{region}")
            ids[(region, "opensearch")] = {f"arn:aws:es:{region}:{DEFAULT_ACCOUNT}:domain/search-{region}"}
        g.connect(("us-east-1", "search-us"), ("af-south-1", "search-af-south-1"))
        args = [
            "--service",
            "backup-vault",
            "--service",
            "kms-key",
            "--service",
            "secret",
            "--service",
            "ecr-repository",
            "--service",
            "redshift",
            "--service",
            "rds",
            "--service",
            "efs",
            *("--service", "docdb", "--service", "elasticache", "--service", "memorydb", "--service", "opensearch"),
            *("--service", "ami", "--service", "log-group"),
            *("--service", "elasticache-cluster", "--service", "elasticache-serverless", "--service", "docdb-elastic"),
        ]
        for region in STORE_REGIONS:
            args += ["--region", region]
        yield StoreEstate(ep, ep.env(_base_env()), tuple(args), ids)


def _store_scan(estate: StoreEstate) -> Run:
    return invoke(estate.env, "scan", "--format", "json", "--timeout", str(TIMEOUT), *estate.args)


def test_store_calls_transient_faults_are_retried(store_estate: StoreEstate) -> None:
    ep = store_estate.ep
    ep.clear_faults()
    baseline = _store_scan(store_estate)
    assert baseline.code == 0 and baseline.report["complete"] is True, baseline.skips
    expected = exactly_once(baseline)
    # every retryable kind once on every new call, in turn: three faults, then the fourth attempt answers
    for (service, action), region in STORE_CALLS.items():
        xml = _call(service, action) in STORE_XML
        for kind in ("throttle", "500") if xml else ("throttle", "500", "malformed"):
            ep.add_fault(service, region, action, times=1, **STORE_FAULTS[kind])
    try:
        run = _store_scan(store_estate)
    finally:
        ep.clear_faults()
    assert run.code == 0, (run.skips, run.stderr)
    assert run.report["complete"] is True and exactly_once(run) == expected


@pytest.fixture(scope="module")
def store_persistent(store_estate: StoreEstate) -> Iterator[dict[str, tuple[Run, set[str]]]]:
    """Each kind persistent on every new call (each call in its own region), one scan per kind, run side by side."""
    ep = store_estate.ep
    ep.clear_faults()
    expected = exactly_once(_store_scan(store_estate))
    procs = {}
    for kind, fault in STORE_FAULTS.items():
        # the kind's faults only answer the scan that carries its user agent: four scans share one endpoint
        for (service, action), region in STORE_CALLS.items():
            ep.add_fault(service, region, action, **fault, agent=f"app/fault-{kind}")
        env = {**store_estate.env, "AWS_SDK_UA_APP_ID": f"fault-{kind}"}
        argv = [BIN, "scan", "--format", "json", "--timeout", str(TIMEOUT), *store_estate.args]
        procs[kind] = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = {}
    try:
        for kind, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=120)
            assert "Traceback" not in stderr, stderr
            out[kind] = (Run(proc.returncode, json.loads(stdout), stdout, stderr), expected)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        ep.clear_faults()
    yield out


@pytest.mark.parametrize("kind", list(STORE_FAULTS))
def test_store_calls_persistent_faults_are_skips(
    store_persistent: dict[str, tuple[Run, set[str]]], store_estate: StoreEstate, kind: str
) -> None:
    run, expected = store_persistent[kind]
    assert run.code == 3 and run.report["complete"] is False
    hidden: set[str] = set()
    for (service, action), region in STORE_CALLS.items():
        call = _call(service, action)
        prefix = f"account/{DEFAULT_ACCOUNT}/region/{region}/service/{STORE_SCOPES[call]}"
        if action == "DescribeKey":
            prefix = f"account/{DEFAULT_ACCOUNT}/region/{region}/kms-key/"
        if action == "DescribeAvailabilityZones":
            prefix = f"account/{DEFAULT_ACCOUNT}/region/{region}/availability-zones"
        if action == "DescribeEffectivePolicy":
            prefix = f"account/{DEFAULT_ACCOUNT}/backup-policy"
        found = {scope: reason for scope, reason in run.skips.items() if scope.startswith(prefix)}
        assert found, (action, prefix, run.skips)
        if kind == "malformed" and call in STORE_XML:
            cause = "ResponseParserError: Unable to parse response"
        elif kind == "malformed":
            cause = f"malformed or truncated JSON body in the {action} response"
        else:
            fault = STORE_FAULTS[kind]
            cause = f"{fault['code']} on {action} (HTTP {fault['status']})"
        assert all(cause in reason for reason in found.values()), (cause, found)
        if call in STORE_HIDES:
            hidden |= store_estate.ids[(region, STORE_HIDES[call])]
    assert hidden <= expected
    assert exactly_once(run) == expected - hidden  # nothing outside the faulted calls is lost or doubled
