"""Blob object replication (issue 13): a policy's destination account is a copy of the source account, at the
destination's location and under its keys. The real CLI over TLS against the Resource Manager stand-in on both
inventory paths, paging, faults at the HTTP level, mutated API bodies, and the plan reader.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit.clouds.azure import AzureOptions
from residency_audit.model import CopyRole, KeyControl
from residency_audit.plan.reader import read_plan
from residency_audit.stores.azure.storage import object_replicas

from .conftest import by_name, isolate_env, places
from .servers.azure import AzureEndpoint
from .servers.azure_stores import add_object_replication
from .test_azure_scan import BOTH_PATHS, S1, S2, S3, azure, endpoint, scan
from .test_azure_vaults import _JSON, P, R, _azure_add, _paths
from .test_terraform import _load, _places

__all__ = ["azure", "endpoint"]  # the fixtures, shared with test_azure_scan

POLICIES = ("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage"
            "/storageAccounts/{name}/objectReplicationPolicies")  # fmt: skip
ACCOUNT = ("GET", "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.storage"
           "/storageaccounts/{name}")  # fmt: skip


def _estate(ep: AzureEndpoint) -> dict[str, str]:
    """S1 and S2 scanned, S3 not: an EU account replicating to a US account, to an account outside the scan, and to
    one named only by name (another tenant); a file-share account that cannot replicate blobs."""
    ep.add_subscription(S1)
    ep.add_subscription(S2)
    ep.add_subscription(S3)  # visible to the credential, but not named by the scan
    ids = {
        "euhot": ep.add_storage_account(S1, "euhot", "westeurope"),
        "usarchive": ep.add_storage_account(
            S2, "usarchive", "eastus", "Standard_GRS", secondary_location="westus", key_source="Microsoft.Keyvault"
        ),
        "outside": ep.add_storage_account(S3, "outside", "japaneast"),  # in a subscription the scan does not name
        "shares": ep.add_storage_account(S1, "shares", "westeurope", kind="FileStorage"),
        "legacy": ep.add_storage_account(S1, "legacy", "westeurope", kind="Storage"),
    }
    add_object_replication(ep, ids["euhot"], ids["usarchive"], [("invoices", "invoices"), ("scans", "scans-copy")])
    add_object_replication(ep, ids["euhot"], ids["outside"])
    add_object_replication(ep, ids["euhot"], "partneracct")  # cross-tenant: a bare name
    return ids


@BOTH_PATHS
def test_destination_accounts_are_copies_at_their_location_under_their_keys(
    azure: AzureEndpoint, path_args: list[str]
) -> None:
    _estate(azure)
    azure.page_size = 1  # every list a page per item: the policies page through nextLink
    code, report, err = scan("--subscription", S1, "--subscription", S2, "--service", "storage-account", *path_args)
    assert code == 0, (report.get("skipped"), err)
    r = by_name(report)
    assert places(r["euhot"]) == [
        ("westeurope", "primary"),
        ("eastus", "replica"),  # the US destination
        ("westus", "replica"),  # ... and its own geo-redundant secondary: the blobs are there too
        ("japaneast", "replica"),  # outside the scanned subscriptions, but readable by id
        ("unknown", "replica"),  # named only by name: another tenant's account, never guessed
    ]
    us, secondary, _outside, partner = r["euhot"]["footprint"][1:]
    assert "2 rule(s): invoices → invoices, scans → scans-copy" in us["note"] and "usarchive" in us["note"]
    assert us["key_control"] == secondary["key_control"] == "customer-managed"  # the destination's keys
    assert "partneracct" in partner["note"] and "location unknown" in partner["note"]
    assert "japaneast" not in json.dumps(r["usarchive"])  # the destination lists the policy too: inbound, no copy
    assert places(r["usarchive"]) == [("eastus", "primary"), ("westus", "replica")]
    assert places(r["shares"]) == [("westeurope", "primary")] and places(r["legacy"]) == [("westeurope", "primary")]
    # one policy list per blob-capable account (not for FileStorage or general-purpose v1), paged; the destinations
    # come from the inventory already read, so only the one outside the scan costs a GET by id
    policies = [q for q in azure.requests if (q.method, q.pattern) == POLICIES]
    assert {q.path.rsplit("/", 2)[1] for q in policies} == {"euhot", "usarchive"}
    assert len([q for q in policies if "/euhot/" in q.path]) == 3  # three policies, pages of one
    by_id = [q.path.rsplit("/", 1)[1] for q in azure.requests if (q.method, q.pattern.lower()) == ACCOUNT]
    assert by_id == ["outside"]  # (Resource Manager ids are case-insensitive: the tool asks in lower case)


@pytest.mark.parametrize("client_side", [False, True], ids=["server-side", "client-side-source"])
def test_the_eu_policy_to_the_us_fails_an_eu_sovereign_profile(azure: AzureEndpoint, client_side: bool) -> None:
    azure.add_subscription(S1)
    tags = {"residency:encryption": "client-side"} if client_side else {}
    src = azure.add_storage_account(S1, "eudata", "germanywestcentral", tags=tags)
    dst = azure.add_storage_account(S1, "usdata", "eastus", key_source="Microsoft.Keyvault")
    add_object_replication(azure, src, dst)
    code, report, _ = scan("--service", "storage-account", "--profile", "eu-sovereign")
    assert code == 1
    [copy_rule] = [f for f in report["findings"] if f["rule"] == "RA001" and f["name"] == "eudata"]
    assert copy_rule["message"].startswith("replica copy in eastus (US)")  # the primary is in Germany
    assert "object replication policy" in copy_rule["reasons"][0]  # the reason says where the copy came from
    eudata = by_name(report)["eudata"]
    # the replica is under the destination's keys, unless the source's blobs are client-side ciphertext: replication
    # copies them as they are
    assert eudata["footprint"][1].get("key_control") == (None if client_side else "customer-managed")
    assert eudata["key_control"] == ("client-side" if client_side else "provider-managed")


# --- faults on the policy list: each kind once (retried), or every time (a skip and an unknown copy) -------------

FAULTS: dict[str, dict[str, Any]] = {
    "403": {"status": 403, "code": "AuthorizationFailed", "message": "no policies for you"},
    "throttle": {"status": 429, "code": "RateLimiting", "message": "too many requests", "retry_after": 1},
    "500": {"status": 500, "code": "InternalServerError", "message": "internal error"},
    "malformed": {"mode": "malformed"},
}
CAUSES = {
    "403": "AuthorizationFailed (HTTP 403 on GET): no policies for you",
    "throttle": "RateLimiting (HTTP 429 on GET): too many requests",
    "500": "InternalServerError (HTTP 500 on GET): internal error",
    "malformed": "malformed response body (not JSON)",
}
TRANSIENT = [kind for kind in FAULTS if kind != "403"]  # a denial is never retried
# one subscription per fault kind and persistence, so one scan exercises every row side by side
SUBS = {(kind, persistent): f"{i:08x}-0000-4000-8000-{int(persistent):012x}" for i, kind in enumerate(FAULTS)
        for persistent in (False, True) if persistent or kind in TRANSIENT}  # fmt: skip


@pytest.fixture(scope="module")
def faulted(endpoint: AzureEndpoint) -> Iterator[tuple[int, dict[str, Any], dict[str, int]]]:
    """Every fault kind on the policy list, transient in one subscription and persistent in another: one scan."""
    endpoint.reset()
    faults: dict[str, Any] = {}
    for (kind, persistent), sub in SUBS.items():
        endpoint.add_subscription(sub)
        src = endpoint.add_storage_account(sub, f"src{sub[:8]}{int(persistent)}", "westeurope")
        dst = endpoint.add_storage_account(sub, f"dst{sub[:8]}{int(persistent)}", "eastus", kind="BlockBlobStorage")
        add_object_replication(endpoint, src, dst)
        fault = endpoint.add_fault(
            "GET", "objectReplicationPolicies", sub, times=None if persistent else 1, **FAULTS[kind]
        )
        faults[sub] = fault
    with pytest.MonkeyPatch.context() as mp:
        import os

        isolate_env(mp, ["AZURE_"], endpoint.env(dict(os.environ)))
        code, report, _ = scan("--service", "storage-account")
    endpoint.reset()
    yield code, report, {sub: fault.hits for sub, fault in faults.items()}


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_transient_fault_on_the_policy_list_is_retried(
    faulted: tuple[int, dict[str, Any], dict[str, int]], kind: str
) -> None:
    _, report, hits = faulted
    sub = SUBS[(kind, False)]
    assert hits[sub] == 1  # the fault answered once; the retry read the policies
    r = {x["name"]: x for x in report["resources"] if x["account"] == sub}
    assert places(r[f"src{sub[:8]}0"]) == [("westeurope", "primary"), ("eastus", "replica")]
    assert not [s for s in report["skipped"] if sub in s["scope"]]


@pytest.mark.parametrize("kind", list(FAULTS))
def test_a_persistent_fault_on_the_policy_list_is_a_skip_and_an_unknown_copy(
    faulted: tuple[int, dict[str, Any], dict[str, int]], kind: str
) -> None:
    code, report, hits = faulted
    assert code == 3 and report["complete"] is False
    sub = SUBS[(kind, True)]
    r = {x["name"]: x for x in report["resources"] if x["account"] == sub}
    src = r[f"src{sub[:8]}1"]
    assert places(src) == [("westeurope", "primary"), ("unknown", "replica")]
    assert CAUSES[kind] in src["footprint"][1]["note"]
    skips = {s["scope"]: s["reason"] for s in report["skipped"] if sub in s["scope"]}
    # one skip per account whose policies could not be read, naming it and why: never silence
    assert set(skips) == {f"{r[n]['id'].lstrip('/')}/objectReplicationPolicies" for n in r}
    assert all(CAUSES[kind] in reason for reason in skips.values())
    assert hits[sub] == len(r) * (1 if kind == "403" else 5)  # a denial is not retried; the others four times


# --- mutated policy bodies: never a traceback, never a dropped copy ------------------------------------------------

_SOURCE = {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/src", "name": "src"}
_DEST_ID = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/dst"
_POLICIES = [
    {
        "name": "p1",
        "properties": {
            "policyId": "p1",
            "sourceAccount": _SOURCE["id"],
            "destinationAccount": _DEST_ID,
            "rules": [{"ruleId": "r", "sourceContainer": "a", "destinationContainer": "b"}],
        },
    }
]


class _Accounts:
    def get(self, rid: str) -> dict[str, Any]:
        return {"id": rid, "name": "dst", "location": "eastus", "sku": {"name": "Standard_LRS"}}


_ARM = SimpleNamespace(options=AzureOptions(), storage_names={"dst": _DEST_ID}, storage_accounts=_Accounts())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_policy_body_never_raises_and_never_drops_the_copy(data: st.DataObject) -> None:
    body: Any = copy.deepcopy(_POLICIES)
    path = data.draw(st.sampled_from([(), *_paths(body)]))
    value = data.draw(_JSON)
    if path:
        node = body
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    else:
        body = value if isinstance(value, list) else [value]
    copies = object_replicas(_ARM, _SOURCE, body)  # type: ignore[arg-type]
    assert all(c.role is CopyRole.REPLICA for c in copies)
    json.dumps([(c.code, c.note) for c in copies])
    # only a policy that names another account as its source is inbound (no copy of this one)
    renamed = path[-2:] == ("properties", "sourceAccount") and isinstance(value, str) and value not in ("", "src")
    if path and not renamed:
        assert copies


# --- the plan reader ------------------------------------------------------------------------------------------------


def _replication(data: dict[str, Any], address: str, source: str, dest: str | None, dest_id: str | None = None) -> None:
    values: dict[str, Any] = {"rules": [{"source_container_name": "a", "destination_container_name": "b"}]}
    if dest_id:
        values["destination_storage_account_id"] = dest_id
    _azure_add(data, address, values)
    refs: dict[str, Any] = {"source_storage_account_id": {"references": [f"{source}.id", source]}}
    if dest:
        refs["destination_storage_account_id"] = {"references": [f"{dest}.id", dest]}
    data["configuration"]["root_module"]["resources"][-1]["expressions"] = refs


def test_plan_object_replication_adds_the_destination_and_its_secondary() -> None:
    data = _load("azure")
    for address, location, kind in (
        ("eu", "westeurope", "LRS"),
        ("us", "eastus", "GRS"),
        ("cmk", "northeurope", "LRS"),
    ):
        _azure_add(data, f"azurerm_storage_account.{address}",
                   {"name": address, "location": location, "account_replication_type": kind})  # fmt: skip
    _replication(data, "azurerm_storage_object_replication.to_us", "azurerm_storage_account.eu",
                 "azurerm_storage_account.us")  # fmt: skip
    _replication(data, "azurerm_storage_object_replication.elsewhere", "azurerm_storage_account.cmk", None,
                 "/subscriptions/x/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/far")  # fmt: skip
    _replication(data, "azurerm_storage_object_replication.orphan", "azurerm_storage_account.gone", None, "/x")
    found, skipped = read_plan(data, "azure.json")
    by_id = {r.id: r for r in found}
    assert _places(by_id["azurerm_storage_account.eu"]) == [("westeurope", P), ("eastus", R), ("westus", R)]
    assert "azurerm_storage_object_replication.to_us" in (by_id["azurerm_storage_account.eu"].footprint[1].note or "")
    assert _places(by_id["azurerm_storage_account.us"]) == [("eastus", P), ("westus", R)]  # inbound: no copy
    far = by_id["azurerm_storage_account.cmk"].footprint[1]
    assert far.code == "unknown" and "not in this plan" in (far.note or "")
    # a policy whose source account is not in the plan is not evaluated, and says why
    [orphan] = [n for n in skipped if n.address == "azurerm_storage_object_replication.orphan"]
    assert "not a azurerm_storage_account in this plan" in orphan.reason


@pytest.mark.parametrize("client_side", [False, True], ids=["server-side", "client-side-source"])
def test_plan_destination_keys_are_the_copys_keys(client_side: bool) -> None:
    data = _load("azure")
    tags = {"residency:encryption": "client-side"} if client_side else {}
    _azure_add(data, "azurerm_storage_account.src", {"name": "s", "location": "westeurope", "tags": tags})
    _azure_add(data, "azurerm_storage_account.dst", {"name": "d", "location": "westeurope",
               "customer_managed_key": [{"key_vault_key_id": "https://kv/keys/k"}]})  # fmt: skip
    _replication(
        data, "azurerm_storage_object_replication.r", "azurerm_storage_account.src", "azurerm_storage_account.dst"
    )
    found, _ = read_plan(data, "azure.json")
    src = {r.id: r for r in found}["azurerm_storage_account.src"]
    if client_side:  # the replicas are the source's ciphertext: the resource's declared keys
        assert [c.key_control for c in src.footprint] == [None, None] and src.key_control is KeyControl.CLIENT_SIDE
    else:
        assert [c.key_control for c in src.footprint] == [None, KeyControl.CUSTOMER_MANAGED]
