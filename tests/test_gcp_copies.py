"""Issue 14's copies that hide in Google Cloud: Logging sinks, Backup and DR plans, regional secrets; live and planned.

Live over real HTTP against tests/servers/gcp.py (one server for the module); the faults every store shares (a
denied project, 429 back-off, an API disabled) are test_gcp_stores.py's parametrised tests, which seed these too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit.clouds.gcp import GcpCallError
from residency_audit.model import CopyRole, KeyControl
from residency_audit.stores.common import Memo
from residency_audit.stores.gcp import backupdr, secrets, sinks

from .conftest import by_name, isolate_env, places
from .servers.gcp import GcpEndpoint
from .test_gcp_bodies import _plan, _read, _where
from .test_gcp_stores import CMEK, EKM, scan, services

R = CopyRole.REPLICA


@pytest.fixture(scope="module")
def endpoint() -> Iterator[GcpEndpoint]:
    with GcpEndpoint() as ep:
        yield ep


@pytest.fixture
def gcp(endpoint: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> GcpEndpoint:
    endpoint.reset()
    isolate_env(monkeypatch, ["GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_GCP_"], endpoint.env({}))
    endpoint.add_key(CMEK, "HSM")
    endpoint.add_key(EKM, "EXTERNAL")
    return endpoint


def _ops(ep: GcpEndpoint, op: str) -> int:
    return sum(n for (_, _, o), n in ep.counts.items() if o == op)


# --- Backup and DR plans ---------------------------------------------------------------------------------------


def test_backup_plans_are_where_their_vault_is_under_its_key(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    us = s.add_vault("p", "vault-us", "us", kms_key=EKM)["name"]
    eu = s.add_vault("p", "vault-eu", "europe-west3")["name"]
    s.add_plan("p", "vms-nightly", "europe-west3", us)  # protected in Frankfurt, backed up into the us multi-region
    s.add_plan("p", "vms-weekly", "europe-west3", us)
    s.add_plan("p", "disks", "europe-west3", eu, "compute.googleapis.com/Disk")
    s.add_plan("p", "elsewhere", "europe-west3", "projects/other/locations/asia-east1/backupVaults/gone")
    code, report, err = scan("--project", "p", *services("backupdr-plan"))
    assert code == 0 and report["skipped"] == [], err  # an unknown key counts as the weakest, it is no skip
    r = by_name(report)
    nightly = r["vms-nightly"]
    assert nightly["type"] == "backupdr.googleapis.com/BackupPlan"
    assert nightly["id"] == "//backupdr.googleapis.com/projects/p/locations/europe-west3/backupPlans/vms-nightly"
    assert places(nightly) == [("US", "primary")] and "US" in nightly["countries"]
    assert "compute.googleapis.com/Instance" in nightly["footprint"][0]["note"]
    assert nightly["key_control"] == "external" and "vault-us" in nightly["key_note"]
    assert places(r["disks"]) == [("europe-west3", "primary")] and r["disks"]["countries"] == ["DE"]
    assert r["disks"]["key_control"] == "provider-managed"
    # a vault that cannot be read: its name still says where; its key is unknown, with the reason
    gone = r["elsewhere"]
    assert places(gone) == [("asia-east1", "primary")] and gone["key_control"] == "unknown"
    assert "could not be read" in gone["key_note"]
    assert _ops(gcp, "backupVaults.get") == 3  # once per vault, not per plan


def test_backup_plans_page_and_unreachable_locations_are_skips(gcp: GcpEndpoint) -> None:
    vault = gcp.stores.add_vault("p", "v", "europe-west3")["name"]
    for i in range(5):
        gcp.stores.add_plan("p", f"plan-{i}", "europe-west3", vault)
    gcp.stores.page_cap = 2
    code, report, err = scan("--project", "p", *services("backupdr-plan"))
    assert code == 0, err
    assert sorted(by_name(report)) == [f"plan-{i}" for i in range(5)]
    assert _ops(gcp, "backupPlans.list") == 3


# --- Cloud Logging sinks ---------------------------------------------------------------------------------------


def test_sinks_are_copies_where_their_destinations_are(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_log_bucket("p", "audit", "europe-west3", kms_key=CMEK)
    gcp.storage_client("p").create_bucket("logs-archive", location="EU")
    gcp.add_dataset("p", "logs_us", "US")
    s.add_topic("p", "anywhere")
    s.add_topic("p", "pinned", ["europe-west3"])
    sinks_to = {
        "to-bucket": "logging.googleapis.com/projects/p/locations/europe-west3/buckets/audit",
        "to-bucket-again": "logging.googleapis.com/projects/p/locations/europe-west3/buckets/audit",
        "to-gcs": "storage.googleapis.com/logs-archive",
        "to-bq": "bigquery.googleapis.com/projects/p/datasets/logs_us",
        "to-topic": "pubsub.googleapis.com/projects/p/topics/anywhere",
        "to-pinned": "pubsub.googleapis.com/projects/p/topics/pinned",
        "to-project": "logging.googleapis.com/projects/central",
        "to-missing": "bigquery.googleapis.com/projects/p/datasets/deleted",
        "to-foreign-bucket": "logging.googleapis.com/projects/x/locations/us-east1/buckets/theirs",
    }
    for name, destination in sinks_to.items():
        s.add_sink("p", name, destination, disabled=name == "to-pinned")
    code, report, err = scan("--project", "p", *services("logging-sink"))
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    bucket = r["to-bucket"]
    assert (
        bucket["type"] == "logging.googleapis.com/LogSink"
        and bucket["id"] == "//logging.googleapis.com/projects/p/sinks/to-bucket"
    )
    assert places(bucket) == [("europe-west3", "replica")] and bucket["key_control"] == "customer-managed"
    assert "logs routed by sink to-bucket" in bucket["footprint"][0]["note"]
    assert {"DE", "FR"} <= set(r["to-gcs"]["countries"]) and "US" not in r["to-gcs"]["countries"]
    assert r["to-bq"]["countries"] == ["US"]
    assert (
        places(r["to-topic"]) == [("unknown", "replica")]
        and "nearest its publisher" in r["to-topic"]["footprint"][0]["note"]
    )
    pinned = r["to-pinned"]
    assert pinned["countries"] == ["DE"] and "disabled now" in pinned["footprint"][0]["note"]
    assert (
        places(r["to-project"]) == [("unknown", "replica")] and "Log Router" in r["to-project"]["footprint"][0]["note"]
    )
    assert r["to-project"]["assessment"]["level"] == "unknown"  # unknown, never guessed: a strict profile fails it
    missing = r["to-missing"]
    assert places(missing) == [("unknown", "replica")] and "could not be read" in missing["footprint"][0]["note"]
    # a log bucket that cannot be read is still where its name says; only its key is unknown
    foreign = r["to-foreign-bucket"]
    assert places(foreign) == [("us-east1", "replica")] and foreign["key_control"] == "unknown"
    assert _ops(gcp, "buckets.get") == 3  # audit once for two sinks, theirs, and the Cloud Storage bucket


@pytest.mark.parametrize("cai", [False, True], ids=["walk", "cloud-asset"])
def test_organization_and_folder_sinks_are_read_once(gcp: GcpEndpoint, cai: bool) -> None:
    gcp.add_project("p", "organizations/1000")
    gcp.add_folder("folders/77", "organizations/1000")
    gcp.stores.add_log_bucket("p", "central", "europe-west4")
    dest = "logging.googleapis.com/projects/p/locations/europe-west4/buckets/central"
    gcp.stores.add_sink("organizations/1000", "org-audit", dest, children=True)
    gcp.stores.add_sink("folders/77", "folder-audit", dest)
    gcp.stores.add_sink("p", "own", dest)
    if cai:
        gcp.cloud_asset.enabled = True
        # CAI names sinks of an organization or folder with no project: each parent is listed, once
        for parent, sink in (("organizations/1000", "org-audit"), ("folders/77", "folder-audit")):
            row = {"name": f"//logging.googleapis.com/{parent}/sinks/{sink}", "assetType": sinks.ASSET}
            gcp.cloud_asset.extra.append(
                ("p", {**row, "location": "global", "project": "", "organization": "organizations/1000"})
            )
        gcp.cloud_asset.add("p", sinks.ASSET, "//logging.googleapis.com/projects/p/sinks/own", "global")
    code, report, err = scan("--organization", "1000", *services("logging-sink"))
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    assert r["org-audit"]["id"] == "//logging.googleapis.com/organizations/1000/sinks/org-audit"
    assert r["org-audit"]["countries"] == ["NL"] and "every project below" in r["org-audit"]["footprint"][0]["note"]
    assert r["own"]["account"] == "p"
    # the folder's sinks: found through CAI, or by the walk's listing of the organization's folders
    assert r["folder-audit"]["account"] == "folders/77"
    assert _ops(gcp, "sinks.list") == 3
    assert _ops(gcp, "buckets.get") == 1  # one destination, read once


# --- regional secrets ------------------------------------------------------------------------------------------


def test_regional_secrets_through_each_locations_endpoint(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_secret("p", "global-one")
    s.add_regional_secret("p", "frankfurt", "europe-west3", kms_key=CMEK)
    s.add_regional_secret("p", "iowa", "us-central1")
    code, report, err = scan("--project", "p", *services("secret-manager"))
    assert code == 0, err
    r = by_name(report)
    frankfurt = r["frankfurt"]
    assert frankfurt["id"] == "//secretmanager.googleapis.com/projects/p/locations/europe-west3/secrets/frankfurt"
    assert places(frankfurt) == [("europe-west3", "primary")] and frankfurt["countries"] == ["DE"]
    assert frankfurt["key_control"] == "customer-managed"
    assert places(r["iowa"]) == [("us-central1", "primary")] and r["iowa"]["key_control"] == "provider-managed"
    assert places(r["global-one"]) == [("global", "primary")]
    # without CAI: Secret Manager's locations, then each one's own endpoint (the stand-in refuses any other)
    assert _ops(gcp, "locations.list") == 1 and _ops(gcp, "regionalSecrets.list") == 2


def test_an_unreachable_location_is_a_skip_naming_it_and_cai_names_the_locations(gcp: GcpEndpoint) -> None:
    gcp.stores.add_secret("p", "global-one")
    gcp.stores.add_regional_secret("p", "frankfurt", "europe-west3")
    gcp.stores.add_regional_secret("p", "iowa", "us-central1")
    gcp.add_fault(operation="regionalSecrets.list", project="p", status=503, message="Location unavailable")
    code, report, err = scan("--project", "p", *services("secret-manager"))
    assert code == 3, err
    assert {s["scope"] for s in report["skipped"]} == {
        "project/p/service/secret-manager/location/europe-west3",
        "project/p/service/secret-manager/location/us-central1",
    }
    assert set(by_name(report)) == {"global-one"}
    gcp.clear_faults()
    gcp.clear_log()
    gcp.add_project("p")
    gcp.cloud_asset.enabled = True
    code, report, err = scan("--project", "p", *services("secret-manager"))
    assert code == 0, err
    assert set(by_name(report)) == {"global-one", "frankfurt", "iowa"}
    # CAI says which locations hold secrets: no locations.list, one regional list per location found
    assert _ops(gcp, "locations.list") == 0 and _ops(gcp, "regionalSecrets.list") == 2


# --- regional snapshots -----------------------------------------------------------------------------------------


def test_regional_snapshots_are_in_their_region_never_widened(gcp: GcpEndpoint) -> None:
    gcp.add_project("p")
    gcp.cloud_asset.enabled = True
    s = gcp.stores
    s.add_snapshot("p", "pinned-region", ["europe-west3"])  # global scope, stored in one region
    s.add_snapshot("p", "regional", ["europe-west3"], region="europe-west3", kms_key=CMEK)
    s.add_snapshot("p", "regional-bare", None, region="europe-west4")
    code, report, err = scan("--project", "p", *services("compute-snapshot"))
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    # a region in storageLocations is that region's country only, not the eu multi-region around it
    assert places(r["pinned-region"]) == [("europe-west3", "primary")] and r["pinned-region"]["countries"] == ["DE"]
    regional = r["regional"]
    assert regional["id"] == "//compute.googleapis.com/projects/p/regions/europe-west3/snapshots/regional"
    assert regional["countries"] == ["DE"] and regional["key_control"] == "customer-managed"
    assert places(r["regional-bare"]) == [("europe-west4", "primary")]  # its scope is where it is stored
    # regional snapshots come from CAI's JSON: snapshots.list (global) is asked once, for the global one, and no
    # region is listed (the walk's regionSnapshots.list: tests/test_gcp_walk.py)
    assert _ops(gcp, "snapshots.list") == 1 and _ops(gcp, "regionSnapshots.list") == 0


# --- the Terraform plan readers --------------------------------------------------------------------------------


def test_plan_readers_for_sinks_backup_plans_and_regional_secrets() -> None:
    vault = "projects/p/locations/us/backupVaults/v"
    data = _plan(
        (
            "google_logging_project_sink.b",
            {"name": "b", "destination": "logging.googleapis.com/projects/p/locations/europe-west3/buckets/x"},
            {},
        ),
        ("google_logging_project_sink.gcs", {"name": "g", "destination": "storage.googleapis.com/somewhere"}, {}),
        ("google_logging_organization_sink.later", {"name": "l"}, {"destination": True}),
        (
            "google_backup_dr_backup_plan.p",
            {"backup_plan_id": "p", "location": "europe-west3", "backup_vault": vault},
            {},
        ),
        (
            "google_backup_dr_backup_plan.later",
            {"backup_plan_id": "q", "location": "europe-west3"},
            {"backup_vault": True},
        ),
        ("google_secret_manager_regional_secret.r", {"secret_id": "r", "location": "europe-west3"}, {}),
        ("google_compute_snapshot.regional", {"name": "s", "storage_locations": ["europe-west3"]}, {}),
        # destinations and a vault created by the same plan: looked up there, by name or by reference
        ("google_storage_bucket.archive", {"name": "archive", "location": "EU"}, {}),
        ("google_bigquery_dataset.us", {"dataset_id": "logs_us", "location": "US"}, {}),
        ("google_logging_project_sink.named", {"name": "n", "destination": "storage.googleapis.com/archive"}, {}),
        ("google_logging_project_sink.ref", {"name": "r"}, {"destination": True}),
        ("google_backup_dr_backup_vault.new", {"backup_vault_id": "new", "location": "europe-west4"}, {"name": True}),
        (
            "google_backup_dr_backup_plan.ref",
            {"backup_plan_id": "r", "location": "europe-west3"},
            {"backup_vault": True},
        ),
    )
    expressions = {
        "google_logging_project_sink.ref": {
            "destination": {"references": ["google_bigquery_dataset.us.dataset_id", "google_bigquery_dataset.us"]}
        },
        "google_backup_dr_backup_plan.ref": {
            "backup_vault": {
                "references": ["google_backup_dr_backup_vault.new.id", "google_backup_dr_backup_vault.new"]
            }
        },
    }
    for config in data["configuration"]["root_module"]["resources"]:
        config["expressions"] = expressions.get(config["address"], {})
    r = _read(data)
    assert _where(r["google_logging_project_sink.b"]) == [("europe-west3", R)]
    # a bucket, dataset or topic outside the plan: its own location, never guessed from the sink
    assert _where(r["google_logging_project_sink.gcs"]) == [("unknown", R)]
    assert _where(r["google_logging_organization_sink.later"]) == [("unknown", R)]
    assert _where(r["google_logging_project_sink.named"]) == [("EU", R)]
    assert _where(r["google_logging_project_sink.ref"]) == [("US", R)]
    assert r["google_logging_project_sink.ref"].key_control is KeyControl.PROVIDER_MANAGED
    assert _where(r["google_backup_dr_backup_plan.p"]) == [("us", CopyRole.PRIMARY)]
    assert _where(r["google_backup_dr_backup_plan.later"]) == [("unknown", CopyRole.PRIMARY)]
    assert _where(r["google_backup_dr_backup_plan.ref"]) == [("europe-west4", CopyRole.PRIMARY)]
    regional = r["google_secret_manager_regional_secret.r"]
    assert _where(regional) == [("europe-west3", CopyRole.PRIMARY)]
    assert regional.key_control is KeyControl.PROVIDER_MANAGED
    assert _where(r["google_compute_snapshot.regional"]) == [("europe-west3", CopyRole.PRIMARY)]


# --- API bodies are outside input -------------------------------------------------------------------------------


class _Offline:
    """The session as the body readers see it, with every API call failing (no HTTP here)."""

    class options:
        classification_label = "data-classification"
        timeout = 1.0

    def __init__(self) -> None:
        self._memos: dict[str, Memo] = {}

    def memo(self, name: str, fn: Any) -> Memo:
        return self._memos.setdefault(name, Memo(fn))

    def get(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise GcpCallError("offline")

    def storage(self) -> Any:
        raise GcpCallError("offline")

    def key_control(self, name: str | None, default: tuple[KeyControl, str]) -> tuple[KeyControl, str]:
        return (KeyControl.CUSTOMER_MANAGED, f"key {name}") if name else default


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_NAMES = st.sampled_from(
    ["projects/p/locations/us/backupVaults/v", "logging.googleapis.com/projects/p/locations/eu/buckets/b",
     "storage.googleapis.com/b", "pubsub.googleapis.com/projects/p/topics/t", "projects/p/locations/l/secrets/s",
     "a/b/c", "", "/"]
)  # fmt: skip
_FIELDS = st.sampled_from(["name", "destination", "backupVault", "resourceType", "labels", "disabled",
                           "includeChildren", "customerManagedEncryption", "encryptionConfig"])  # fmt: skip
_BODIES = st.dictionaries(_FIELDS, _NAMES | _JSON, max_size=5)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=_BODIES)
def test_any_body_gives_a_resource_with_a_footprint(body: dict[str, Any]) -> None:
    gcp: Any = _Offline()
    out = [
        sinks.from_body(gcp, "p", body),
        backupdr.plan_from_body(gcp, "p", body),
        secrets.regional_from_body(gcp, "p", body, "europe-west3"),
    ]
    for resource in out:
        assert resource.footprint and all(isinstance(c.code, str) and c.code for c in resource.footprint)


@settings(max_examples=60, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in ("name", "destination", "backupVault")),
        _JSON,
        max_size=4,
    ),
    reverse=st.booleans(),
    location=st.sampled_from(["europe-west3", "us", "global", "asia-east1"]),
)
def test_the_same_body_in_any_layout_gives_the_same_copies(extra: dict[str, Any], reverse: bool, location: str) -> None:
    """Unknown fields and key order never move a sink's, a plan's or a regional secret's copy."""
    gcp: Any = _Offline()
    bodies = {
        "sink": {"name": "s", "destination": f"logging.googleapis.com/projects/p/locations/{location}/buckets/b"},
        "plan": {
            "name": "projects/p/locations/l/backupPlans/x",
            "backupVault": f"projects/p/locations/{location}/backupVaults/v",
        },
        "secret": {"name": f"projects/p/locations/{location}/secrets/x"},
    }
    readers = {
        "sink": lambda b: sinks.from_body(gcp, "p", b),
        "plan": lambda b: backupdr.plan_from_body(gcp, "p", b),
        "secret": lambda b: secrets.regional_from_body(gcp, "p", b, "elsewhere"),
    }
    for kind, body in bodies.items():
        items = list({**extra, **body}.items())
        plain, laid_out = readers[kind](body), readers[kind](dict(reversed(items) if reverse else items))
        assert [c.code for c in plain.footprint] == [c.code for c in laid_out.footprint] == [location]
