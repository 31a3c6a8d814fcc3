"""Issue 14's Google Cloud stores: Compute Engine snapshots/images/machine images, Secret Manager, Cloud Logging
buckets, Pub/Sub topics and Spanner instances, live (real HTTP against tests/servers/gcp.py) and planned.

Each store: its footprint as the API reports it (multi-regions and `global` expanded by the knowledge base, unknown
never guessed), its keys, paging, a 403 on one project, 429 with back-off, and an API disabled in a project (a skip
naming the API, the project's other services still read).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import by_name, invoke_json, isolate_env, places
from .servers.gcp import GcpEndpoint

CMEK = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/cmek"
EKM = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/ekm"
SERVICES = ("compute-snapshot", "compute-image", "compute-machine-image", "secret-manager", "logging-bucket")
SERVICES += ("pubsub-topic", "spanner-instance", "artifact-registry", "firestore-database", "bigtable-instance")
SERVICES += ("backupdr-vault", "backupdr-plan", "logging-sink")


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


def scan(*args: str) -> tuple[int, dict[str, Any], str]:
    return invoke_json(["scan", "--provider", "gcp", "--format", "json", "--timeout", "3", *args])


def services(*names: str) -> list[str]:
    return [a for n in names for a in ("--service", n)]


# --- Compute Engine --------------------------------------------------------------------------------------------


def test_snapshots_images_and_machine_images_are_where_storage_locations_say(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_snapshot("p", "disk-eu", ["eu"], labels={"data-classification": "personal"})
    s.add_snapshot("p", "disk-frankfurt", ["europe-west3"], kms_key=CMEK)
    s.add_snapshot("p", "disk-nowhere", None)
    s.add_snapshot("p", "golden", ["us"], kind="images", kms_key=EKM)
    s.add_snapshot("p", "vm-backup", ["asia"], kind="machineImages", csek=True)
    code, report, err = scan("--project", "p", *services("compute-snapshot", "compute-image", "compute-machine-image"))
    assert code == 0, err
    r = by_name(report)
    eu = r["disk-eu"]
    assert places(eu) == [("EU", "primary")] and eu["footprint"][0]["reported_as"] == "eu"
    assert eu["type"] == "compute.googleapis.com/Snapshot"
    assert eu["id"] == "//compute.googleapis.com/projects/p/global/snapshots/disk-eu"
    # the EU multi-region is expanded to its countries: several, none outside the EU
    assert {"DE", "FR", "NL"} <= set(eu["countries"]) and "GB" not in eu["countries"]
    assert "source projects/p/zones/europe-west3-a/disks/data" in eu["footprint"][0]["note"]
    assert eu["classification"] == "personal" and eu["key_control"] == "provider-managed"
    assert r["disk-frankfurt"]["countries"] == ["DE"] and r["disk-frankfurt"]["key_control"] == "customer-managed"
    # no storageLocations: unknown, never the source disk's region
    nowhere = r["disk-nowhere"]
    assert places(nowhere) == [("unknown", "primary")] and nowhere["assessment"]["level"] == "unknown"
    assert "nearest" in nowhere["footprint"][0]["note"]
    assert r["golden"]["type"] == "compute.googleapis.com/Image" and r["golden"]["key_control"] == "external"
    assert r["golden"]["countries"] == ["US"]
    vm = r["vm-backup"]
    assert vm["type"] == "compute.googleapis.com/MachineImage" and {"JP", "SG"} <= set(vm["countries"])
    assert vm["key_control"] == "customer-managed" and "CSEK" in vm["key_note"]


def test_compute_pages_are_followed(gcp: GcpEndpoint) -> None:
    for i in range(5):
        gcp.stores.add_snapshot("p", f"snap-{i}", ["eu"])
    gcp.stores.page_cap = 2
    code, report, err = scan("--project", "p", *services("compute-snapshot"))
    assert code == 0, err
    assert sorted(by_name(report)) == [f"snap-{i}" for i in range(5)]
    assert gcp.counts[("compute", "GET", "snapshots.list")] == 3


# --- Secret Manager --------------------------------------------------------------------------------------------


def test_secrets_automatic_replication_is_global_and_user_managed_replicas_each_count(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_secret("p", "api-token", labels={"data-classification": "secret"})
    s.add_secret("p", "auto-cmek", automatic_key=CMEK)
    s.add_secret("p", "pinned", [("europe-west3", CMEK), ("europe-west4", None)])
    s.add_secret("p", "pinned-ekm", [("europe-west3", EKM), ("europe-west4", EKM)])
    declared = {"residency-encryption": "client-side"}
    s.add_secret("p", "sealed", [("europe-west3", None), ("us-east1", None)], labels=declared)
    code, report, err = scan("--project", "p", *services("secret-manager"))
    assert code == 0, err
    r = by_name(report)
    auto = r["api-token"]
    assert places(auto) == [("global", "primary")]
    assert "automatic replication" in auto["footprint"][0]["note"]
    # every country where Google Cloud has a region, the US among them: never the project's region
    assert {"US", "DE", "JP", "BR"} <= set(auto["countries"])
    assert auto["assessment"]["level"] in ("critical", "high")
    assert r["auto-cmek"]["key_control"] == "customer-managed"
    pinned = r["pinned"]
    assert places(pinned) == [("europe-west3", "primary"), ("europe-west4", "replica")]
    assert pinned["countries"] == ["DE", "NL"]
    # each replica's copy carries its own key, and the worst replica decides: europe-west4 is under Google's key
    assert [c.get("key_control") for c in pinned["footprint"]] == ["customer-managed", "provider-managed"]
    assert pinned["key_control"] == "provider-managed"
    assert "replica europe-west3: customer-managed" in pinned["key_note"]
    assert "replica europe-west4: Google default encryption" in pinned["key_note"]
    assert r["pinned-ekm"]["key_control"] == "external"
    # encrypted before upload (declared by label): every copy, whatever key each replica has
    sealed = r["sealed"]
    assert sealed["key_control"] == "client-side" and all("key_control" not in c for c in sealed["footprint"])


# --- Cloud Logging ---------------------------------------------------------------------------------------------


def test_log_buckets_default_in_global_and_user_buckets_where_named(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_log_bucket("p", "_Required", "global")
    s.add_log_bucket("p", "_Default", "global")
    s.add_log_bucket("p", "audit-eu", "europe-west3", kms_key=CMEK)
    s.add_log_bucket("q", "_Default", "eu")
    code, report, err = scan("--project", "p", "--project", "q", *services("logging-bucket"))
    assert code == 0 and report["skipped"] == [], err
    by_id = {r["id"]: r for r in report["resources"]}
    default = by_id["//logging.googleapis.com/projects/p/locations/global/buckets/_Default"]
    assert places(default) == [("global", "primary")] and "US" in default["countries"]
    assert "_Default" in default["footprint"][0]["note"]
    assert default["type"] == "logging.googleapis.com/LogBucket" and default["key_control"] == "provider-managed"
    audit = by_id["//logging.googleapis.com/projects/p/locations/europe-west3/buckets/audit-eu"]
    assert audit["countries"] == ["DE"] and audit["key_control"] == "customer-managed"
    q_default = by_id["//logging.googleapis.com/projects/q/locations/eu/buckets/_Default"]
    assert "US" not in q_default["countries"] and "DE" in q_default["countries"]
    assert len(by_id) == 4


# --- Pub/Sub ---------------------------------------------------------------------------------------------------


def test_topic_without_storage_policy_is_unknown_with_a_note_and_with_one_is_its_regions(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_topic("p", "events")
    s.add_topic("p", "orders", ["europe-west3", "europe-west4"], kms_key=CMEK)
    code, report, err = scan("--project", "p", *services("pubsub-topic"))
    assert code == 0, err
    r = by_name(report)
    events = r["events"]
    assert places(events) == [("unknown", "primary")]
    assert "nearest its publisher" in events["footprint"][0]["note"]
    assert events["assessment"]["level"] == "unknown"
    orders = r["orders"]
    assert places(orders) == [("europe-west3", "primary"), ("europe-west4", "primary")]
    assert orders["countries"] == ["DE", "NL"] and orders["key_control"] == "customer-managed"
    assert orders["type"] == "pubsub.googleapis.com/Topic"


# --- Spanner ---------------------------------------------------------------------------------------------------


def test_spanner_instances_have_every_replica_of_their_configuration(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_spanner_instance("p", "global-ledger", "nam-eur-asia1", databases=[CMEK, None])
    s.add_spanner_instance("p", "eu-orders", "eur3", databases=[EKM])
    s.add_spanner_instance("q", "frankfurt", "regional-europe-west3", databases=[])
    s.add_spanner_instance("q", "also-eur3", "eur3", databases=[EKM])
    code, report, err = scan("--project", "p", "--project", "q", *services("spanner-instance"))
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    ledger = r["global-ledger"]
    assert places(ledger) == [
        ("us-central1", "primary"),
        ("us-central2", "replica"),
        ("europe-west1", "replica"),
        ("asia-east1", "replica"),
        ("us-east1", "replica"),
    ]
    assert {"US", "BE", "TW"} <= set(ledger["countries"])
    assert "witness" in ledger["footprint"][-1]["note"] and "default leader" in ledger["footprint"][0]["note"]
    assert ledger["key_control"] == "provider-managed" and "db1" in ledger["key_note"]
    eu = r["eu-orders"]
    assert eu["countries"] == ["BE", "FI", "NL"] and eu["key_control"] == "external"
    assert places(r["frankfurt"]) == [("europe-west3", "primary")]
    # one instanceConfigs.get per configuration name (projects/{p}/instanceConfigs/{id}): eur3 once in each project
    assert gcp.counts[("spanner", "GET", "instanceConfigs.get")] == 4
    assert gcp.counts[("spanner", "GET", "databases.list")] == 4


# --- Artifact Registry, Firestore, Bigtable, Backup and DR --------------------------------------------------------


def test_repositories_databases_bigtable_clusters_and_vaults(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_repository("p", "images-eu", "europe")
    s.add_repository("p", "images-us", "us", kms_key=CMEK)
    s.add_repository("p", "pkgs-de", "europe-west3", fmt="PYTHON")
    s.add_firestore("p", "(default)", "eur3")
    s.add_firestore("p", "us-db", "nam5", kms_key=EKM)
    s.add_bigtable("p", "events", ["europe-west1-b", "us-east1-c"], kms_key=CMEK)
    s.add_vault("p", "vault-eu", "europe-west3")
    s.add_vault("p", "vault-us", "us")
    args = services("artifact-registry", "firestore-database", "bigtable-instance", "backupdr-vault")
    code, report, err = scan("--project", "p", *args)
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    europe = r["images-eu"]
    # Artifact Registry's europe: an upper bound over every European country with a region, the UK and CH included
    assert places(europe) == [("europe", "primary")] and {"DE", "GB", "CH"} <= set(europe["countries"])
    assert r["images-us"]["countries"] == ["US"] and r["images-us"]["key_control"] == "customer-managed"
    assert r["pkgs-de"]["countries"] == ["DE"] and "PYTHON" in r["pkgs-de"]["footprint"][0]["note"]
    default = r["(default)"]
    assert places(default) == [("eur3", "primary")] and default["countries"] == ["BE", "FI", "NL"]
    assert r["us-db"]["countries"] == ["US"] and r["us-db"]["key_control"] == "external"
    events = r["events"]
    assert places(events) == [("europe-west1", "primary"), ("us-east1", "replica")]
    assert "zone us-east1-c" in events["footprint"][1]["note"] and events["key_control"] == "customer-managed"
    assert [c.get("key_control") for c in events["footprint"]] == ["customer-managed", "customer-managed"]
    assert r["vault-eu"]["countries"] == ["DE"] and r["vault-us"]["countries"] == ["US"]
    # Artifact Registry: one locations.list, then one repositories.list per location
    assert gcp.counts[("artifactregistry", "GET", "locations.list")] == 1
    assert gcp.counts[("artifactregistry", "GET", "repositories.list")] == 5


# --- BigQuery dataset replicas (INFORMATION_SCHEMA.SCHEMATA_REPLICAS) ------------------------------------------------


def test_dataset_replicas_from_one_metadata_query_per_project_and_location(gcp: GcpEndpoint) -> None:
    gcp.add_dataset("p", "orders", "EU")
    gcp.add_dataset("p", "events", "EU")
    gcp.add_dataset("p", "marts", "europe-west3")
    gcp.stores.add_replica("p", "orders", "EU", "us")
    gcp.stores.add_replica("p", "marts", "europe-west3", "europe-west4")
    code, report, err = scan("--project", "p", *services("bigquery-dataset"))
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    assert places(r["orders"]) == [("EU", "primary"), ("US", "replica")]
    assert "US" in r["orders"]["countries"] and "dataset replica us" in r["orders"]["footprint"][1]["note"]
    assert places(r["events"]) == [("EU", "primary")]
    assert places(r["marts"]) == [("europe-west3", "primary"), ("europe-west4", "replica")]
    assert gcp.counts[("bigquery", "POST", "jobs.query")] == 2  # EU and europe-west3, each once
    for body in gcp.stores.queries:
        assert body["useLegacySql"] is False and body["requestId"]
        assert body["query"].startswith("SELECT schema_name, location, replica_name FROM `p`.`region-")


def test_dataset_replicas_of_a_slow_paged_query(gcp: GcpEndpoint) -> None:
    gcp.add_dataset("p", "orders", "EU")
    for replica in ("us", "europe-west3", "asia-east1"):
        gcp.stores.add_replica("p", "orders", "EU", replica)
    gcp.stores.slow_queries = True
    gcp.stores.page_cap = 1
    code, report, err = scan("--project", "p", *services("bigquery-dataset"))
    assert code == 0, err
    assert {c["location"] for c in by_name(report)["orders"]["footprint"]} == {"EU", "US", "europe-west3", "asia-east1"}
    assert gcp.counts[("bigquery", "GET", "jobs.getQueryResults")] == 4  # the wait, then 4 pages of one row


def test_dataset_replicas_unreadable_is_one_skip_per_location(gcp: GcpEndpoint) -> None:
    gcp.add_dataset("p", "orders", "EU")
    gcp.add_dataset("p", "events", "EU")
    gcp.add_fault("bigquery", "jobs.query", status=403, message="Access Denied: bigquery.jobs.create")
    code, report, err = scan("--project", "p", *services("bigquery-dataset"))
    assert code == 3, err
    [skip] = report["skipped"]
    assert skip["scope"] == "project/p/service/bigquery-dataset/replicas/EU"
    assert "SCHEMATA_REPLICAS could not be read" in skip["reason"] and "bigquery.jobs.create" in skip["reason"]
    assert set(by_name(report)) == {"orders", "events"}


# --- faults: an API disabled, a project denied, throttling -----------------------------------------------------


def _seed_everything(ep: GcpEndpoint, project: str) -> None:
    s = ep.stores
    s.add_snapshot(project, f"{project}-snap", ["eu"])
    s.add_snapshot(project, f"{project}-image", ["eu"], kind="images")
    s.add_snapshot(project, f"{project}-mi", ["eu"], kind="machineImages")
    s.add_secret(project, f"{project}-secret", [("europe-west3", None)])
    s.add_log_bucket(project, f"{project}-logs", "europe-west3")
    s.add_topic(project, f"{project}-topic", ["europe-west3"])
    s.add_spanner_instance(project, f"{project}-spanner", "regional-europe-west3", databases=[None])
    s.add_repository(project, f"{project}-repo", "europe-west3")
    s.add_firestore(project, f"{project}-fs", "eur3")
    s.add_bigtable(project, f"{project}-bt", ["europe-west3-a"])
    vault = s.add_vault(project, f"{project}-vault", "europe-west3")["name"]
    s.add_plan(project, f"{project}-plan", "europe-west3", vault)
    s.add_sink(
        project,
        f"{project}-sink",
        f"logging.googleapis.com/projects/{project}/locations/europe-west3/buckets/{project}-logs",
    )
    s.add_regional_secret(project, f"{project}-rsecret", "europe-west3")


def test_an_api_disabled_in_a_project_is_a_skip_naming_the_api_and_the_rest_is_read(gcp: GcpEndpoint) -> None:
    for project in ("on", "off"):
        _seed_everything(gcp, project)
    gcp.stores.disable("off", "compute")
    gcp.stores.disable("off", "spanner")
    code, report, err = scan("--project", "on", "--project", "off", *services(*SERVICES))
    assert code == 3, err  # incomplete: never a pass
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert set(skips) == {
        "project/off/service/compute-snapshot",
        "project/off/service/compute-image",
        "project/off/service/compute-machine-image",
        "project/off/service/spanner-instance",
    }
    assert "the compute.googleapis.com API is not enabled in this project" in skips["project/off/service/compute-image"]
    assert skips["project/off/service/spanner-instance"].startswith("SERVICE_DISABLED on spanner instances.list")
    names = set(by_name(report))
    assert {"off-secret", "off-logs", "off-topic"} <= names  # the project's other APIs are still read
    assert {"on-snap", "on-image", "on-mi", "on-secret", "on-logs", "on-topic", "on-spanner", "on-repo"} <= names
    assert {"on-fs", "on-bt", "on-vault", "off-repo", "off-fs", "off-bt", "off-vault"} <= names
    assert {"on-plan", "on-sink", "on-rsecret", "off-plan", "off-sink", "off-rsecret"} <= names
    assert not names & {"off-snap", "off-image", "off-mi", "off-spanner"}


@pytest.mark.parametrize(
    "api",
    [
        "compute",
        "secretmanager",
        "logging",
        "pubsub",
        "spanner",
        "artifactregistry",
        "firestore",
        "bigtableadmin",
        "backupdr",
    ],
)
def test_a_denied_project_is_a_skip_and_throttling_is_retried(gcp: GcpEndpoint, api: str) -> None:
    for project in ("ok", "denied"):
        _seed_everything(gcp, project)
    gcp.add_fault(api=api, project="denied", status=403, message="The caller does not have permission")
    gcp.add_fault(api=api, project="ok", status=429, message="Quota exceeded", times=2, retry_after=0)
    code, report, err = scan("--project", "ok", "--project", "denied", *services(*SERVICES))
    assert code == 3, err
    assert report["skipped"], err
    for skip in report["skipped"]:
        assert skip["scope"].startswith("project/denied/"), skip
        assert "HTTP 403): The caller does not have permission" in skip["reason"]
    names = set(by_name(report))
    assert {"ok-snap", "ok-image", "ok-mi", "ok-secret", "ok-logs", "ok-topic", "ok-spanner", "ok-repo"} <= names
    assert {"ok-fs", "ok-bt", "ok-vault", "ok-plan", "ok-sink", "ok-rsecret"} <= names
    throttled = [r for r in gcp.requests if r.api == api and r.project == "ok"]
    assert len(throttled) >= 3  # two 429s, then the answer
