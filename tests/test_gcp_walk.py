"""Google Cloud without Cloud Asset Inventory (the walk): every folder's log sinks, and regionally scoped snapshots.

Over real HTTP against tests/servers/gcp.py (one server for the module). The walk is reached two ways, both tested:
`--no-cloud-asset`, and CAI refusing a scope (the stand-in's Cloud Asset API starts disabled: 403, walked instead).
Request counts are read from the server's log, so the price of each listing is a measured number, not a claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit.clouds.gcp import Gcp, GcpOptions
from residency_audit.model import Resource, Skip
from residency_audit.pipeline import Task
from residency_audit.stores.gcp import compute

from .conftest import by_name, invoke_json, isolate_env, places
from .servers.gcp import GcpEndpoint
from .test_gcp_stores import CMEK, scan, services

WALK = "--no-cloud-asset"
DEST = "logging.googleapis.com/projects/p/locations/europe-west4/buckets/central"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[GcpEndpoint]:
    with GcpEndpoint() as ep:
        yield ep


@pytest.fixture
def gcp(endpoint: GcpEndpoint, monkeypatch: pytest.MonkeyPatch) -> GcpEndpoint:
    endpoint.reset()
    isolate_env(monkeypatch, ["GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_GCP_"], endpoint.env({}))
    endpoint.add_key(CMEK, "HSM")
    return endpoint


def _ops(ep: GcpEndpoint, op: str) -> int:
    return sum(n for (_, _, o), n in ep.counts.items() if o == op)


def _org(ep: GcpEndpoint, folders: int) -> list[str]:
    """Organization 1000 with `folders` folders (a chain of three, the rest side by side), each with a sink."""
    ep.add_project("p", "organizations/1000")
    ep.stores.add_log_bucket("p", "central", "europe-west4")
    ep.stores.add_sink("organizations/1000", "org-audit", DEST, children=True)
    names = []
    for i in range(folders):
        name = f"folders/{100 + i}"
        ep.add_folder(name, f"folders/{100 + i - 1}" if 0 < i < 3 else "organizations/1000")
        ep.stores.add_sink(name, f"sink-{100 + i}", DEST)
        names.append(name)
    return names


# --- folder and organization sinks -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", [WALK, "cai-refused"])
def test_the_walk_lists_the_sinks_of_every_folder_under_the_organization(gcp: GcpEndpoint, how: str) -> None:
    folders = _org(gcp, 5)
    gcp.add_project("deep", folders[2])  # a project three folders down is found, with its own sink
    gcp.stores.add_sink("deep", "deep-own", DEST)
    args = [WALK] if how == WALK else []
    code, report, err = scan("--organization", "1000", *services("logging-sink"), *args)
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    assert {f"sink-{100 + i}" for i in range(5)} | {"org-audit", "deep-own"} == set(r)
    nested = r["sink-102"]
    assert nested["id"] == "//logging.googleapis.com/folders/102/sinks/sink-102"
    assert nested["account"] == "folders/102" and places(nested) == [("europe-west4", "replica")]
    assert nested["countries"] == ["NL"]
    # the organization's and each folder's sinks once, each project's once; one folders.list per container
    assert _ops(gcp, "sinks.list") == 1 + 5 + 2
    assert _ops(gcp, "folders.list") == 1 + 5
    assert _ops(gcp, "buckets.get") == 1  # one destination, read once


@pytest.mark.parametrize("n", [0, 1, 10, 40])
def test_what_folder_sinks_cost_the_walk(gcp: GcpEndpoint, n: int) -> None:
    """The sinks add one `sinks.list` per folder: the folders were listed already, to find their projects."""
    _org(gcp, n)
    code, report, err = scan("--organization", "1000", *services("logging-sink"), WALK)
    assert code == 0, err
    assert len(report["resources"]) == n + 1
    counts = {op: _ops(gcp, op) for op in ("sinks.list", "folders.list", "projects.search")}
    # organization: 1 sinks.list, 1 folders.list, 1 projects.search; each folder one more of each; project p: 1
    assert counts == {"sinks.list": n + 2, "folders.list": n + 1, "projects.search": n + 1}, counts


def test_a_folder_named_and_found_under_the_organization_is_walked_once(gcp: GcpEndpoint) -> None:
    folders = _org(gcp, 3)
    code, report, err = scan("--organization", "1000", "--folder", folders[0], *services("logging-sink"), WALK)
    assert code == 0, err
    assert _ops(gcp, "sinks.list") == 1 + 3 + 1 and _ops(gcp, "folders.list") == 1 + 3
    assert len(report["resources"]) == 4


def test_a_denied_sinks_listing_or_folder_listing_is_a_skip_naming_the_permission(gcp: GcpEndpoint) -> None:
    folders = _org(gcp, 4)
    gcp.add_fault(operation="sinks.list", project=folders[1], status=403, message="Permission denied")
    gcp.add_fault(operation="folders.list", project=folders[1], status=403, message="Permission denied")
    code, report, err = scan("--organization", "1000", *services("logging-sink"), WALK)
    assert code == 3 and report["complete"] is False, err
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert set(skips) == {"folder/101/service/logging-sink", "folder/101"}
    assert "(needs logging.sinks.list)" in skips["folder/101/service/logging-sink"]
    assert "(needs resourcemanager.folders.list)" in skips["folder/101"]
    # the rest is read: the organization's, the other folders' (folder 102 is under 101: not found, and said so)
    assert set(by_name(report)) == {"org-audit", "sink-100", "sink-103"}
    code, table, err = _table("--organization", "1000", *services("logging-sink"), WALK)
    assert code == 3 and "logging.sinks.list" in table and "resourcemanager.folders.list" in table


def _table(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from residency_audit.cli import app

    result = CliRunner().invoke(app, ["scan", "--provider", "gcp", "--timeout", "3", "--format", "markdown", *args])
    return result.exit_code, result.stdout, result.stderr


# --- regionally scoped snapshots -------------------------------------------------------------------------------


def test_the_walk_lists_regional_snapshots_region_by_region(gcp: GcpEndpoint) -> None:
    s = gcp.stores
    s.add_snapshot("p", "global-eu", ["eu"])
    s.add_snapshot("p", "frankfurt", ["europe-west3"], region="europe-west3", kms_key=CMEK)
    s.add_snapshot("p", "iowa", None, region="us-central1")
    code, report, err = scan("--project", "p", *services("compute-snapshot"), WALK)
    assert code == 0 and report["skipped"] == [], err
    r = by_name(report)
    assert set(r) == {"global-eu", "frankfurt", "iowa"}
    frankfurt = r["frankfurt"]
    assert frankfurt["id"] == "//compute.googleapis.com/projects/p/regions/europe-west3/snapshots/frankfurt"
    assert frankfurt["countries"] == ["DE"] and frankfurt["key_control"] == "customer-managed"
    assert places(r["iowa"]) == [("us-central1", "primary")]  # no storageLocations: its region, never widened
    # one regions.list, then each of the stand-in's three regions
    assert _ops(gcp, "snapshots.list") == 1 and _ops(gcp, "regions.list") == 1
    assert _ops(gcp, "regionSnapshots.list") == len(s.regions) == 3
    assert all("/regions/" not in rec.path or rec.operation != "snapshots.list" for rec in gcp.requests)


def test_with_cloud_asset_no_region_is_listed(gcp: GcpEndpoint) -> None:
    gcp.add_project("p")
    gcp.cloud_asset.enabled = True
    gcp.stores.add_snapshot("p", "global-eu", ["eu"])
    gcp.stores.add_snapshot("p", "frankfurt", ["europe-west3"], region="europe-west3")
    code, report, err = scan("--project", "p", *services("compute-snapshot"))
    assert code == 0 and set(by_name(report)) == {"global-eu", "frankfurt"}, err
    assert _ops(gcp, "regions.list") == 0 and _ops(gcp, "regionSnapshots.list") == 0


def test_a_region_that_cannot_be_listed_is_a_skip_naming_it(gcp: GcpEndpoint) -> None:
    gcp.stores.add_snapshot("p", "global-eu", ["eu"])
    gcp.stores.add_snapshot("p", "frankfurt", ["europe-west3"], region="europe-west3")
    gcp.add_fault(operation="regionSnapshots.list", project="p", status=403, message="Required permission", times=1)
    code, report, err = scan("--project", "p", *services("compute-snapshot"), WALK)
    assert code == 3, err
    [skip] = report["skipped"]
    region = skip["scope"].rsplit("/", 1)[-1]
    assert skip["scope"] == f"project/p/service/compute-snapshot/region/{region}"
    assert skip["reason"].startswith(f"regionally scoped snapshots in {region} could not be listed: PERMISSION_DENIED")
    assert skip["reason"].endswith("(needs compute.snapshots.list)")
    assert "global-eu" in by_name(report)


def test_regions_that_cannot_be_read_are_one_visible_gap_and_the_global_snapshots_stand(gcp: GcpEndpoint) -> None:
    gcp.stores.add_snapshot("p", "global-eu", ["eu"])
    gcp.stores.add_snapshot("p", "frankfurt", ["europe-west3"], region="europe-west3")
    gcp.add_fault(operation="regions.list", project="p", status=403, message="Denied")
    code, report, err = scan("--project", "p", *services("compute-snapshot"), WALK)
    assert code == 3 and report["complete"] is False, err
    assert set(by_name(report)) == {"global-eu"}
    [skip] = report["skipped"]
    assert skip["scope"] == "project/p/service/compute-snapshot/regions"
    assert skip["reason"].startswith(compute.REGIONAL_NOT_LISTED)
    assert "(needs compute.regions.list)" in skip["reason"]
    # the gate on the saved report sees the same gap: incomplete, in every format
    _, text, _ = _table("--project", "p", *services("compute-snapshot"), WALK)
    assert compute.REGIONAL_NOT_LISTED in text


def test_compute_disabled_in_a_project_is_one_skip_not_one_per_region(gcp: GcpEndpoint) -> None:
    gcp.stores.disable("p", "compute")
    code, report, err = scan("--project", "p", *services("compute-snapshot"), WALK)
    assert code == 3, err
    assert [s["scope"] for s in report["skipped"]] == ["project/p/service/compute-snapshot"]
    assert _ops(gcp, "regions.list") == 0


def test_the_saved_report_of_an_incomplete_walk_fails_the_gate(gcp: GcpEndpoint, tmp_path: Any) -> None:
    gcp.stores.add_snapshot("p", "frankfurt", ["europe-west3"], region="europe-west3")
    gcp.add_fault(operation="regions.list", project="p", status=403, message="Denied")
    out = tmp_path / "r.json"
    code, _, err = invoke_json(
        ["scan", "--provider", "gcp", "--timeout", "3", "--project", "p", *services("compute-snapshot"), WALK,
         "--format", "json", "--output", str(out)]
    )  # fmt: skip
    assert code == 3, err
    code, _, err = invoke_json(["check", str(out), "--format", "json"])
    assert code == 3, err


# --- API bodies are outside input --------------------------------------------------------------------------------


class _Regions:
    """What snapshot_list needs of a session, answering regions.list with `bodies` (no network)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.options = GcpOptions()

    def pages(self, api: str, path: str, operation: str, items: str, params: Any = None) -> Iterator[Any]:
        if operation == compute.REGIONS_LIST:
            yield from self.items


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_REGION_NAMES = st.sampled_from(["europe-west3", "us-central1", "../x", "a/b", "eu?x=1", "", "EU", "me-central2"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ANY, st.fixed_dictionaries({"name": _REGION_NAMES | _ANY}, optional={"x": _ANY}))))
def test_any_regions_list_body_gives_a_task_per_real_region_and_a_skip_for_the_rest(items: list[Any]) -> None:
    gcp: Any = _Regions(items)
    out = list(compute.snapshot_list(gcp, "p"))
    tasks = [o for o in out if isinstance(o, Task)]
    regions = [t.scope.rsplit("/", 1)[-1] for t in tasks]
    named = [i.get("name") for i in items if isinstance(i, dict)]
    valid = sorted({n for n in named if isinstance(n, str) and compute._REGION.match(n)})
    assert regions == valid  # each once, and nothing that could leave its path segment
    assert all("/" not in r and "?" not in r and ".." not in r for r in regions)
    bad = [i for i in items if not (isinstance(i, dict) and i.get("name") in valid)]
    skips = [o for o in out if isinstance(o, Skip)]
    assert bool(skips) == bool(bad)  # an entry that is not a region is said, never dropped
    assert not [o for o in out if isinstance(o, Resource)]


def test_a_regional_list_entry_that_is_no_snapshot_is_a_skip() -> None:
    class _Odd(_Regions):
        def pages(self, api: str, path: str, operation: str, items: str, params: Any = None) -> Iterator[Any]:
            yield from ([{"name": "ok", "storageLocations": ["eu"]}, "junk", 7] if "/regions/" in path else [])

    gcp: Any = _Odd([])
    gcp.key_control = lambda name, default: default
    out = list(compute._regional_list(gcp, "p", "europe-west3"))
    assert [type(o).__name__ for o in out] == ["Resource", "Skip", "Skip"]
    assert out[1].scope == "project/p/service/compute-snapshot/region/europe-west3"


def test_a_regional_snapshot_body_of_any_shape_is_in_its_region() -> None:
    gcp = Gcp(GcpOptions())
    for body in ({}, {"name": 3, "storageLocations": "eu"}, {"storageLocations": [None, 7]}, {"labels": [1]}):
        found = compute.regional_snapshot(gcp, "p", "europe-west3", dict(body))
        assert [c.code for c in found.footprint] == ["europe-west3"], body


def test_folder_entries_that_are_not_folders_are_skips(gcp: GcpEndpoint) -> None:
    _org(gcp, 1)
    with gcp._lock:
        gcp.state.folders["folders/../../x"] = {"name": "folders/../../x", "parent": "organizations/1000"}
        gcp.state.folders["odd"] = {"name": 7, "parent": "organizations/1000"}
    code, report, err = scan("--organization", "1000", *services("logging-sink"), WALK)
    assert code == 3, err
    reasons = [s["reason"] for s in report["skipped"] if s["scope"] == "organization/1000"]
    assert len(reasons) == 2 and all("not folders/NUMBER: not walked" in r for r in reasons)
    assert not [r for r in gcp.requests if ".." in r.path]
    assert set(by_name(report)) == {"org-audit", "sink-100"}


def test_the_permission_a_denial_names_is_the_one_the_shipped_role_grants() -> None:
    from residency_audit.clouds.gcp_errors import PERMISSIONS

    from .test_readonly import GCP_PERMISSIONS, gcp_permissions

    for operation, permission in PERMISSIONS.items():
        api, op = operation.split(" ")
        assert GCP_PERMISSIONS[(api, op)] == permission, operation
        assert permission in gcp_permissions(), permission


class _Folders:
    """What the walk of a container needs of a session, answering folders.list with `items` (no network)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.options = GcpOptions(services=("logging-sink",))
        self.seen: set[str] = set()

    def pages(self, api: str, path: str, operation: str, items: str, params: Any = None) -> Iterator[Any]:
        if operation == "resourcemanager folders.list":
            yield from self.items

    def claim(self, key: str) -> bool:
        new = key not in self.seen
        self.seen.add(key)
        return new


_FOLDER_NAMES = st.sampled_from(["folders/12", "folders/12/../3", "organizations/1", "folders/", "folders/x", ""])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            _ANY,
            st.fixed_dictionaries(
                {"name": _FOLDER_NAMES | st.from_regex(r"folders/[0-9]{1,5}", fullmatch=True) | _ANY},
                optional={"state": st.sampled_from(["ACTIVE", "DELETE_REQUESTED"]) | _ANY},
            ),
        )
    )
)
def test_any_folders_list_body_walks_real_folders_once_and_says_what_it_skipped(items: list[Any]) -> None:
    from residency_audit.clouds import gcp as walk

    fake: Any = _Folders(items)
    out = list(walk._container(fake, "organizations/1"))
    tasks = [o.scope for o in out if isinstance(o, Task)]
    active = [i if isinstance(i, dict) else {"name": i} for i in items]
    active = [i for i in active if i.get("state", "ACTIVE") == "ACTIVE"]
    valid = [n for i in active if isinstance(n := i.get("name"), str) and walk._FOLDER.match(n)]
    # each real folder: its sinks once and its walk once, whatever else the answer holds
    expected = {f"folder/{n.split('/')[1]}" for n in valid} | {
        f"folder/{n.split('/')[1]}/service/logging-sink" for n in valid
    }
    assert sorted(tasks) == sorted(expected)
    skips = [o for o in out if isinstance(o, Skip)]
    assert len(skips) == len(active) - len(valid)  # every entry that is not a folder is said, never dropped
    assert all(s.scope == "organization/1" for s in skips)
