"""The Cloud Asset Inventory engine against its stand-in (tests/servers/cloud_asset.py), over real HTTP.

Credentials are the endpoint's real service-account key; the engine uses the connector's own session, retries and
error descriptions, so what is tested here is what a scan does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from residency_audit.clouds.gcp import Gcp, GcpOptions, describe_error
from residency_audit.inventory import cloud_asset
from residency_audit.inventory.records import Blind, Listed

from .conftest import invoke_json, isolate_env
from .servers.gcp import GcpEndpoint


@pytest.fixture(scope="module")
def endpoint() -> Iterator[GcpEndpoint]:
    with GcpEndpoint() as ep:
        yield ep


@pytest.fixture
def gcp(endpoint: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> GcpEndpoint:
    endpoint.reset()
    endpoint.cloud_asset.enabled = True
    isolate_env(monkeypatch, ["GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_GCP_"], endpoint.env({}))
    return endpoint


def search(scope: str, timeout: float = 5.0) -> tuple[list[Listed], list[Blind]]:
    out = list(cloud_asset.search(Gcp(GcpOptions(timeout=timeout)), scope, describe_error))
    return [f for f in out if isinstance(f, Listed)], [b for b in out if isinstance(b, Blind)]


def estate(ep: GcpEndpoint) -> None:
    """An organization with a folder: two projects with data, one empty, and a Filestore share the tool does not read."""
    ep.add_folder("folders/7", "organizations/1000")
    ep.add_project("alpha", "organizations/1000")
    ep.add_project("beta", "folders/7")
    ep.add_project("empty", "folders/7")
    client = ep.storage_client("alpha")
    client.create_bucket("alpha-eu", location="EU")
    pinned = client.bucket("alpha-pinned")
    pinned.labels = {"data-classification": "health"}
    client.create_bucket(pinned, location="EU", data_locations=["EUROPE-WEST3", "EUROPE-WEST6"])
    ep.add_dataset("beta", "sales", "europe-west3", kms_key="projects/k/locations/europe/keyRings/r/cryptoKeys/c")
    ep.add_instance("beta", "orders", "europe-west1")
    # a snapshot: CAI lists it, and the snapshot store reads it from Compute Engine (where its copies are)
    ep.stores.add_snapshot("beta", "nightly", ["eu"])
    ep.cloud_asset.add(
        "beta",
        "file.googleapis.com/Instance",
        "//file.googleapis.com/projects/beta/locations/europe-west3-a/instances/share",
        "europe-west3-a",
    )


def test_organization_scope_finds_every_resource_with_its_own_json(gcp: GcpEndpoint) -> None:
    estate(gcp)
    found, blind = search(cloud_asset.scope_of(organization="1000"))
    assert blind == []
    by_type = {(f.native_type, f.name): f for f in found}
    assert {t for t, _ in by_type} == {
        "cloudresourcemanager.googleapis.com/Project",
        "storage.googleapis.com/Bucket",
        "bigquery.googleapis.com/Dataset",
        "sqladmin.googleapis.com/Instance",
        "compute.googleapis.com/Snapshot",
        "file.googleapis.com/Instance",
    }
    pinned = by_type[("storage.googleapis.com/Bucket", "alpha-pinned")]
    # projects are named by id (resolved through the Project assets), not by number
    assert pinned.account == "alpha"
    assert pinned.tags == {"data-classification": "health"}
    # the bucket's own JSON came back because the read mask asked for versionedResources
    assert pinned.properties["resource"]["customPlacementConfig"] == {"dataLocations": ["EUROPE-WEST3", "EUROPE-WEST6"]}
    dataset = by_type[("bigquery.googleapis.com/Dataset", "sales")]
    assert dataset.account == "beta" and dataset.location == "europe-west3"
    assert dataset.properties["kmsKeys"] == ["projects/k/locations/europe/keyRings/r/cryptoKeys/c"]
    assert by_type[("compute.googleapis.com/Snapshot", "nightly")].account == "beta"
    assert {f.account for f in found if f.native_type.endswith("/Project")} == {"alpha", "beta", "empty"}


def test_folder_and_project_scopes(gcp: GcpEndpoint) -> None:
    estate(gcp)
    folder, _ = search(cloud_asset.scope_of(folder="7"))
    assert {f.account for f in folder} == {"beta", "empty"}
    project, _ = search(cloud_asset.scope_of(project="alpha"))
    assert {f.name for f in project} == {"alpha", "alpha-eu", "alpha-pinned"}


def test_requests_grow_with_resources_not_projects(gcp: GcpEndpoint) -> None:
    for p in range(120):
        gcp.add_project(f"p{p:03d}")
    gcp.clear_log()
    found, blind = search("organizations/1000")
    assert len(found) == 120 and blind == []
    searches = [r for r in gcp.requests if r.api == "cloudasset"]
    assert len(searches) == 1  # 120 projects, one page of 500


def test_paging(gcp: GcpEndpoint) -> None:
    estate(gcp)
    gcp.cloud_asset.page_cap = 2
    found, blind = search("organizations/1000")
    assert len(found) == 9 and blind == []
    assert len({f.id for f in found}) == 9
    assert sum(r.api == "cloudasset" for r in gcp.requests) == 5


@pytest.mark.parametrize(
    ("switch", "words"),
    [("disabled", "SERVICE_DISABLED"), ("denied", "PERMISSION_DENIED")],
)
def test_denied_scope_is_blind_with_its_reason(gcp: GcpEndpoint, switch: str, words: str) -> None:
    estate(gcp)
    getattr(gcp.cloud_asset, switch).add("organizations/1000")
    found, blind = search("organizations/1000")
    assert found == []
    assert [b.scope for b in blind] == ["organizations/1000"]
    assert "HTTP 403" in blind[0].reason
    if switch == "disabled":
        assert "Cloud Asset API has not been used" in blind[0].reason


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"status": 429, "times": 2}, "answered"),  # throttled, then answered
        ({"status": 503, "times": 1}, "answered"),
        ({"mode": "malformed", "times": 1}, "answered"),  # a body that does not parse is retried
        ({"status": 500}, "blind"),  # keeps failing: blind, never empty
        ({"mode": "malformed"}, "blind"),
    ],
)
def test_faults(gcp: GcpEndpoint, fault: dict[str, object], outcome: str) -> None:
    estate(gcp)
    gcp.add_fault("cloudasset", "searchAllResources", **fault)  # type: ignore[arg-type]
    found, blind = search("organizations/1000", timeout=1.0)
    if outcome == "answered":
        assert len(found) == 9 and blind == []
    else:
        assert found == [] and len(blind) == 1
        assert blind[0].scope == "organizations/1000"


def test_failure_after_some_pages_keeps_what_was_read_and_is_blind(gcp: GcpEndpoint) -> None:
    estate(gcp)
    gcp.cloud_asset.page_cap = 4
    gcp.cloud_asset.fail_from = 4  # the first page is answered, every later one fails
    found, blind = search("organizations/1000", timeout=1.0)
    assert len(found) == 4
    assert len(blind) == 1 and "HTTP 500" in blind[0].reason


# --- the scan: CAI first, the walk where it cannot answer -----------------------------------------------------------


def scan(*args: str) -> tuple[int, dict[str, object], str]:
    return invoke_json(["scan", "--provider", "gcp", "--format", "json", "--timeout", "5", *args])


def comparable(report: dict[str, object]) -> list[tuple[object, ...]]:
    rows = report["resources"]
    assert isinstance(rows, list)
    return sorted(
        (r["id"], r["account"], r["key_control"], json.dumps(r["footprint"], sort_keys=True), json.dumps(r["tags"]))
        for r in rows
    )


def full_estate(ep: GcpEndpoint) -> None:
    estate(ep)
    ep.add_key("projects/k/locations/europe/keyRings/r/cryptoKeys/c", "EXTERNAL")
    ep.add_instance("beta", "orders-replica", "us-east1", master="orders")


def unassessed(report: dict[str, Any]) -> dict[str, int]:
    """Data-bearing types found and not assessed, from the report's coverage section."""
    quiet = ("part-of-store", "not-data", "unknown-type")
    return {
        t["type"]: t["not_assessed"]
        for t in report["coverage"]["types"]
        if t["not_assessed"] and t["category"] not in quiet
    }


@pytest.mark.parametrize(
    ("scope", "snapshot"),
    [(["--organization", "1000"], True), (["--folder", "7"], True), (["--project", "alpha"], False), ([], True)],
)
def test_scan_through_cai_assesses_what_the_walk_does_without_per_project_listings(
    gcp: GcpEndpoint, scope: list[str], snapshot: bool
) -> None:
    full_estate(gcp)
    code, walked, err = scan("--no-cloud-asset", *scope)
    assert code == 0, err
    gcp.clear_log()
    code, report, err = scan(*scope)
    assert comparable(report) == comparable(walked) and report["resources"]
    # the Filestore share in beta holds data no store reads yet: CAI sees it, the walk cannot; the scan says so (exit 3)
    assert (code, unassessed(report)) == ((3, {"file.googleapis.com/Instance": 1}) if snapshot else (0, {})), err
    assert unassessed(walked) == {}
    engines = {e["engine"]: e["scopes"] for e in report["coverage"]["engines"]}
    assert "cloud-asset-inventory" in engines and "walk" not in engines
    apis = {(r.api, r.operation) for r in gcp.requests}
    assert not apis & {("storage", "buckets.list"), ("bigquery", "datasets.list"), ("bigquery", "datasets.get"),
                       ("sqladmin", "instances.list"), ("resourcemanager", "folders.list")}  # fmt: skip
    searches = [r for r in gcp.requests if r.api == "cloudasset"]
    # a named scope is one search; without one, each project the credential sees is searched
    assert len(searches) == (1 if scope else 3)


def test_cai_disabled_falls_back_to_the_walk_with_the_same_result(gcp: GcpEndpoint) -> None:
    full_estate(gcp)
    code, walked, err = scan("--no-cloud-asset", "--organization", "1000")
    assert code == 0, err
    gcp.cloud_asset.disabled.add("organizations/1000")
    gcp.clear_log()
    code, report, err = scan("--organization", "1000")
    assert code == 0, err  # the walk cannot see the Filestore share: nothing to say about it
    assert comparable(report) == comparable(walked) and report["skipped"] == []
    assert [r.operation for r in gcp.requests if r.api == "cloudasset"] == ["searchAllResources"]  # not per project
