"""Issue 14's Google Cloud plan readers and API-body readers: Terraform plans of the google provider, and any JSON
an API may answer (outside input: any shape gives a resource with a footprint, never an exception; key order and
unknown fields never move a copy). No server: these read documents only.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency_audit.model import CopyRole, KeyControl, Resource
from residency_audit.plan.reader import read_plan
from residency_audit.stores.gcp import (
    artifacts,
    backupdr,
    bigtable,
    compute,
    firestore,
    logging,
    pubsub,
    secrets,
    spanner,
)

# --- the Terraform plan readers --------------------------------------------------------------------------------

PLANS = Path(__file__).parent / "fixtures" / "plans"


def _plan(*resources: tuple[str, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """A plan of the google provider creating `resources` (address, values, after_unknown)."""
    data: dict[str, Any] = copy.deepcopy(json.loads((PLANS / "gcp.json").read_text()))
    data["planned_values"]["root_module"] = {"resources": []}
    data["resource_changes"] = []
    data["configuration"]["root_module"]["resources"] = []
    for address, values, unknown in resources:
        rtype, name = address.split(".")
        common = {"address": address, "mode": "managed", "type": rtype, "name": name}
        common["provider_name"] = "registry.terraform.io/hashicorp/google"
        data["planned_values"]["root_module"]["resources"].append({**common, "values": values, "sensitive_values": {}})
        change = {"actions": ["create"], "before": None, "after": values, "after_unknown": unknown}
        data["resource_changes"].append({**common, "change": change})
        config = {**{k: common[k] for k in ("address", "mode", "type", "name")}, "provider_config_key": "google"}
        data["configuration"]["root_module"]["resources"].append({**config, "expressions": {}})
    return data


def _read(data: dict[str, Any]) -> dict[str, Resource]:
    resources, _ = read_plan(data, "plan.json")
    return {r.id: r for r in resources}


def _where(resource: Resource) -> list[tuple[str, CopyRole]]:
    return [(c.code, c.role) for c in resource.footprint]


P, R = CopyRole.PRIMARY, CopyRole.REPLICA


def test_plan_readers_for_snapshots_secrets_log_buckets_topics_and_spanner() -> None:
    data = _plan(
        ("google_compute_snapshot.eu", {"name": "s", "storage_locations": ["eu"]}, {}),
        ("google_compute_snapshot.later", {"name": "l"}, {"storage_locations": True}),
        ("google_compute_image.csek", {"name": "i", "image_encryption_key": [{"raw_key": "x"}]}, {}),
        ("google_secret_manager_secret.auto", {"secret_id": "a", "replication": [{"auto": [{}]}]}, {}),
        (
            "google_secret_manager_secret.pinned",
            {
                "secret_id": "b",
                "replication": [
                    {"user_managed": [{"replicas": [{"location": "europe-west3"}, {"location": "us-east1"}]}]}
                ],
            },
            {},
        ),
        ("google_logging_project_bucket_config.b", {"bucket_id": "audit", "location": "global"}, {}),
        ("google_pubsub_topic.t", {"name": "t", "message_storage_policy": []}, {}),
        (
            "google_pubsub_topic.pinned",
            {"name": "u", "message_storage_policy": [{"allowed_persistence_regions": ["europe-west3"]}]},
            {},
        ),
        ("google_spanner_instance.r", {"name": "r", "config": "regional-europe-west3"}, {}),
        ("google_spanner_instance.m", {"name": "m", "config": "nam-eur-asia1"}, {}),
        ("google_artifact_registry_repository.a", {"repository_id": "a", "location": "europe"}, {}),
        ("google_firestore_database.f", {"name": "(default)", "location_id": "nam5"}, {}),
        (
            "google_bigtable_instance.b",
            {"name": "b", "cluster": [{"zone": "europe-west1-b"}, {"zone": "asia-east1-a"}]},
            {},
        ),
        ("google_backup_dr_backup_vault.v", {"backup_vault_id": "v", "location": "us-central1"}, {}),
    )
    r = _read(data)
    assert _where(r["google_compute_snapshot.eu"]) == [("eu", P)]
    assert _where(r["google_compute_snapshot.later"]) == [("unknown", P)]
    assert r["google_compute_image.csek"].key_control is KeyControl.CUSTOMER_MANAGED
    assert _where(r["google_secret_manager_secret.auto"]) == [("global", P)]
    assert _where(r["google_secret_manager_secret.pinned"]) == [("europe-west3", P), ("us-east1", R)]
    assert _where(r["google_logging_project_bucket_config.b"]) == [("global", P)]
    topic = r["google_pubsub_topic.t"]
    assert _where(topic) == [("unknown", P)] and "nearest its publisher" in (topic.footprint[0].note or "")
    assert _where(r["google_pubsub_topic.pinned"]) == [("europe-west3", P)]
    assert _where(r["google_spanner_instance.r"]) == [("europe-west3", P)]
    # a multi-region configuration the knowledge base does not list stays as named: assessed as unknown
    assert _where(r["google_spanner_instance.m"]) == [("nam-eur-asia1", P)]
    assert _where(r["google_artifact_registry_repository.a"]) == [("europe", P)]
    assert _where(r["google_firestore_database.f"]) == [("nam5", P)]
    assert _where(r["google_bigtable_instance.b"]) == [("europe-west1", P), ("asia-east1", R)]
    assert _where(r["google_backup_dr_backup_vault.v"]) == [("us-central1", P)]


# --- API bodies are outside input: any JSON shape gives a resource, never an exception --------------------------


class _Keys:
    """The two things the body readers ask of the session: options and key control (no HTTP here)."""

    class options:  # mirrors GcpOptions' attribute name
        classification_label = "data-classification"

    def key_control(self, name: str | None, default: tuple[KeyControl, str]) -> tuple[KeyControl, str]:
        return (KeyControl.CUSTOMER_MANAGED, f"key {name}") if name else default


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    ["name", "storageLocations", "labels", "snapshotEncryptionKey", "replication", "messageStoragePolicy",
     "kmsKeyName", "cmekSettings", "replicas", "automatic", "userManaged", "locationId", "cmekConfig",
     "location", "encryptionConfig", "format", "type"]
)  # fmt: skip
_BODIES = st.dictionaries(_FIELDS, _JSON, max_size=5)
_KNOWN = {"name", "storageLocations", "labels", "replication", "messageStoragePolicy", "kmsKeyName"}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=_BODIES)
def test_any_api_body_gives_a_resource_with_a_footprint(body: dict[str, Any]) -> None:
    keys: Any = _Keys()
    out = [
        compute.from_body(keys, "p", "compute-snapshot", body),
        secrets.from_body(keys, "p", body),
        logging.from_body(keys, "p", body),
        pubsub.from_body(keys, "p", body),
        artifacts.from_body(keys, "p", body),
        firestore.from_body(keys, "p", body),
        bigtable.from_body(keys, "p", body, [body]),
        backupdr.from_body(keys, "p", body),
    ]
    for resource in out:
        assert resource.footprint and all(isinstance(c.code, str) and c.code for c in resource.footprint)
    assert spanner.footprint(body, "x")


@settings(max_examples=100, deadline=None)
@given(
    extra=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in _KNOWN), _JSON, max_size=4),
    reverse=st.booleans(),
    regions=st.lists(st.sampled_from(["europe-west3", "us-east1", "eu", "global", "asia-east1"]), max_size=3),
)
def test_the_same_body_in_any_layout_gives_the_same_footprint(
    extra: dict[str, Any], reverse: bool, regions: list[str]
) -> None:
    """Unknown fields and key order never change where a copy is (a new API field must not move data)."""
    keys: Any = _Keys()
    bodies = {
        "snapshot": {"name": "s", "storageLocations": regions, "labels": {"a": "b"}},
        "secret": {"name": "x", "replication": {"userManaged": {"replicas": [{"location": r} for r in regions]}}},
        "topic": {"name": "t", "messageStoragePolicy": {"allowedPersistenceRegions": regions}},
    }
    readers = {
        "snapshot": lambda b: compute.from_body(keys, "p", "compute-snapshot", b),
        "secret": lambda b: secrets.from_body(keys, "p", b),
        "topic": lambda b: pubsub.from_body(keys, "p", b),
    }
    for kind, body in bodies.items():
        items = list({**extra, **body}.items())
        shuffled = dict(reversed(items) if reverse else items)
        plain, laid_out = readers[kind](body), readers[kind](shuffled)
        assert [(c.code, c.role) for c in plain.footprint] == [(c.code, c.role) for c in laid_out.footprint]
        assert plain.key_control == laid_out.key_control
