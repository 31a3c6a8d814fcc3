"""Seeding the local endpoint's issue-14 stores (tests/servers/gcp_stores.py), each in its API's own JSON shape."""

from __future__ import annotations

import threading
from typing import Any


class StoreSeeding:
    """The add_* methods of gcp_stores.Stores (a mixin: Stores holds the lists and the lock)."""

    _lock: threading.Lock
    lists: dict[str, dict[str, list[dict[str, Any]]]]
    databases: dict[tuple[str, str], list[dict[str, Any]]]
    repositories: dict[tuple[str, str], list[dict[str, Any]]]
    firestore: dict[str, list[dict[str, Any]]]

    def _add(self, collection: str, project: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.lists[collection].setdefault(project, []).append(body)
        return body

    def add_snapshot(
        self,
        project: str,
        name: str,
        storage_locations: list[str] | None,
        *,
        source_disk: str = "zones/europe-west3-a/disks/data",
        kms_key: str | None = None,
        csek: bool = False,
        labels: dict[str, str] | None = None,
        kind: str = "snapshots",
        region: str | None = None,
    ) -> dict[str, Any]:
        """A snapshot (``kind`` "images" / "machineImages" for the other two collections, same shape).

        With ``region``, a regionally scoped snapshot: not in snapshots.list, in its region's regionSnapshots.list.
        """
        field = {"snapshots": "snapshotEncryptionKey", "images": "imageEncryptionKey"}.get(
            kind, "machineImageEncryptionKey"
        )
        source = {"snapshots": "sourceDisk", "images": "sourceDisk"}.get(kind, "sourceInstance")
        scope = f"regions/{region}" if region else "global"
        body: dict[str, Any] = {
            "kind": f"compute#{kind[:-1]}",
            "id": str(1000 + sum(len(v) for v in self.lists[kind].values())),
            "name": name,
            "status": "READY",
            "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}/{scope}/{kind}/{name}",
            source: f"https://www.googleapis.com/compute/v1/projects/{project}/{source_disk}",
        }
        if storage_locations is not None:
            body["storageLocations"] = list(storage_locations)
        if kms_key:
            body[field] = {"kmsKeyName": f"{kms_key}/cryptoKeyVersions/1", "kmsKeyServiceAccount": "sa@example"}
        elif csek:
            body[field] = {"sha256": "n2EjwYtoZPdKkGx1W/D0t0xX0B6gQ3JDr2jQ+Ik5iNQ="}
        if labels:
            body["labels"] = dict(labels)
        return self._add(kind, project, body)

    def add_secret(
        self,
        project: str,
        name: str,
        replicas: list[tuple[str, str | None]] | None = None,
        *,
        automatic_key: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A secret: automatic replication without `replicas`, else user-managed [(location, kms key or None)]."""
        replication: dict[str, Any]
        if replicas is None:
            auto: dict[str, Any] = {}
            if automatic_key:
                auto["customerManagedEncryption"] = {"kmsKeyName": automatic_key}
            replication = {"automatic": auto}
        else:
            rows = []
            for location, key in replicas:
                row: dict[str, Any] = {"location": location}
                if key:
                    row["customerManagedEncryption"] = {"kmsKeyName": key}
                rows.append(row)
            replication = {"userManaged": {"replicas": rows}}
        body = {
            "name": f"projects/{number(project)}/secrets/{name}",
            "replication": replication,
            "createTime": "2026-11-01T00:00:00Z",
            "etag": '"16"',
        }
        if labels:
            body["labels"] = dict(labels)
        return self._add("secrets", project, body)

    def add_log_bucket(self, project: str, name: str, location: str, *, kms_key: str | None = None) -> dict[str, Any]:
        """A log bucket (`_Default` and `_Required` are what every project has)."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/locations/{location}/buckets/{name}",
            "retentionDays": 400 if name == "_Required" else 30,
            "lifecycleState": "ACTIVE",
            "locked": name == "_Required",
        }
        if kms_key:
            body["cmekSettings"] = {"kmsKeyName": kms_key, "name": f"projects/{project}/cmekSettings"}
        return self._add("log_buckets", project, body)

    def add_topic(
        self,
        project: str,
        name: str,
        regions: list[str] | None = None,
        *,
        kms_key: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Pub/Sub topic, with a message storage policy when `regions` is given."""
        body: dict[str, Any] = {"name": f"projects/{project}/topics/{name}", "state": "ACTIVE"}
        if regions is not None:
            body["messageStoragePolicy"] = {"allowedPersistenceRegions": list(regions)}
        if kms_key:
            body["kmsKeyName"] = kms_key
        if labels:
            body["labels"] = dict(labels)
        return self._add("topics", project, body)

    def add_spanner_instance(
        self,
        project: str,
        name: str,
        config: str,
        *,
        databases: list[str | None] | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Spanner instance on a base configuration (SPANNER_CONFIGS), with databases [kms key or None]."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/instances/{name}",
            "config": f"projects/{project}/instanceConfigs/{config}",
            "displayName": name,
            "state": "READY",
            "edition": "ENTERPRISE_PLUS",
        }
        if labels:
            body["labels"] = dict(labels)
        with self._lock:
            self.databases[(project, name)] = [
                {
                    "name": f"projects/{project}/instances/{name}/databases/db{i}",
                    "state": "READY",
                    **({"encryptionConfig": {"kmsKeyName": key}} if key else {}),
                }
                for i, key in enumerate(databases or [])
            ]
        return self._add("spanner", project, body)

    def add_repository(
        self, project: str, name: str, location: str, *, kms_key: str | None = None, fmt: str = "DOCKER"
    ) -> dict[str, Any]:
        """An Artifact Registry repository (location one of AR_LOCATIONS)."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/locations/{location}/repositories/{name}",
            "format": fmt,
            "mode": "STANDARD_REPOSITORY",
            "createTime": "2026-11-01T00:00:00Z",
        }
        if kms_key:
            body["kmsKeyName"] = kms_key
        with self._lock:
            self.repositories.setdefault((project, location), []).append(body)
        return body

    def add_firestore(self, project: str, name: str, location: str, *, kms_key: str | None = None) -> dict[str, Any]:
        """A Firestore database (`(default)` is the usual name), in a region or a multi-region (nam5, eur3)."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/databases/{name}",
            "locationId": location,
            "type": "FIRESTORE_NATIVE",
            "concurrencyMode": "PESSIMISTIC",
        }
        if kms_key:
            body["cmekConfig"] = {"kmsKeyName": kms_key}
        with self._lock:
            self.firestore.setdefault(project, []).append(body)
        return body

    def add_bigtable(self, project: str, name: str, zones: list[str], *, kms_key: str | None = None) -> dict[str, Any]:
        """A Bigtable instance with one cluster per zone (replication between them)."""
        body = {"name": f"projects/{project}/instances/{name}", "displayName": name, "state": "READY"}
        for i, zone in enumerate(zones):
            cluster: dict[str, Any] = {
                "name": f"projects/{project}/instances/{name}/clusters/{name}-c{i}",
                "location": f"projects/{project}/locations/{zone}",
                "state": "READY",
                "serveNodes": 1,
                "defaultStorageType": "SSD",
            }
            if kms_key:
                cluster["encryptionConfig"] = {"kmsKeyName": kms_key}
            self._add("bigtable_clusters", project, cluster)
        return self._add("bigtable", project, body)

    def add_vault(self, project: str, name: str, location: str, *, kms_key: str | None = None) -> dict[str, Any]:
        """A Backup and DR backup vault."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/locations/{location}/backupVaults/{name}",
            "state": "ACTIVE",
            "backupMinimumEnforcedRetentionDuration": "86400s",
        }
        if kms_key:
            body["encryptionConfig"] = {"kmsKeyName": kms_key}
        return self._add("vaults", project, body)

    def add_plan(
        self, project: str, name: str, location: str, vault: str, resource_type: str = "compute.googleapis.com/Instance"
    ) -> dict[str, Any]:
        """A Backup and DR backup plan backing up into `vault` (its full name)."""
        body = {
            "name": f"projects/{project}/locations/{location}/backupPlans/{name}",
            "resourceType": resource_type,
            "backupVault": vault,
            "backupVaultServiceAccount": "vault-sa@example.iam.gserviceaccount.com",
            "backupRules": [{"ruleId": "daily", "backupRetentionDays": 30}],
            "state": "ACTIVE",
        }
        return self._add("plans", project, body)

    def add_sink(
        self, parent: str, name: str, destination: str, *, disabled: bool = False, children: bool = False
    ) -> dict[str, Any]:
        """A log sink of a project (`parent` a project id) or of organizations/N or folders/N."""
        owner = parent if "/" in parent else f"projects/{parent}"
        body: dict[str, Any] = {
            "name": f"{owner}/sinks/{name}",
            "destination": destination,
            "filter": "severity>=INFO",
            "writerIdentity": "serviceAccount:sink@example.iam.gserviceaccount.com",
        }
        if disabled:
            body["disabled"] = True
        if children:
            body["includeChildren"] = True
        return self._add("sinks", parent, body)

    def add_regional_secret(
        self, project: str, name: str, location: str, *, kms_key: str | None = None
    ) -> dict[str, Any]:
        """A regional secret (served by its location's endpoint only)."""
        body: dict[str, Any] = {
            "name": f"projects/{project}/locations/{location}/secrets/{name}",
            "createTime": "2026-11-01T00:00:00Z",
        }
        if kms_key:
            body["customerManagedEncryption"] = {"kmsKeyName": kms_key}
        return self._add("regional_secrets", project, body)

    # -- Cloud Asset Inventory's view of the same state -----------------------------------------------------------

    def assets(self, project: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(asset type, full resource name, location, resource JSON) of every resource seeded in `project`."""
        out: list[tuple[str, str, str, dict[str, Any]]] = []
        with self._lock:
            lists = {c: list(v.get(project, [])) for c, v in self.lists.items()}
            repos = [r for (p, _), rs in self.repositories.items() if p == project for r in rs]
            firestore = list(self.firestore.get(project, []))
        for kind, asset in (("snapshots", "Snapshot"), ("images", "Image"), ("machineImages", "MachineImage")):
            for r in lists[kind]:
                scope = r["selfLink"].split(f"/projects/{project}/", 1)[1].rsplit(f"/{kind}/", 1)[0]
                name = f"//compute.googleapis.com/projects/{project}/{scope}/{kind}/{r['name']}"
                out.append((f"compute.googleapis.com/{asset}", name, scope.split("/")[-1], r))
        for r in lists["secrets"]:
            name = f"//secretmanager.googleapis.com/projects/{project}/secrets/{r['name'].rsplit('/', 1)[-1]}"
            out.append(("secretmanager.googleapis.com/Secret", name, "global", r))
        for r in lists["log_buckets"]:
            out.append(
                (
                    "logging.googleapis.com/LogBucket",
                    "//logging.googleapis.com/" + r["name"],
                    r["name"].split("/")[3],
                    r,
                )
            )
        for r in lists["topics"]:
            out.append(("pubsub.googleapis.com/Topic", "//pubsub.googleapis.com/" + r["name"], "global", r))
        for r in lists["spanner"]:
            out.append(("spanner.googleapis.com/Instance", "//spanner.googleapis.com/" + r["name"], "global", r))
        for r in lists["bigtable"]:
            out.append(
                ("bigtableadmin.googleapis.com/Instance", "//bigtableadmin.googleapis.com/" + r["name"], "global", r)
            )
        for r in lists["regional_secrets"]:
            out.append(("secretmanager.googleapis.com/Secret", "//secretmanager.googleapis.com/" + r["name"],
                        r["name"].split("/")[3], r))  # fmt: skip
        for r in lists["sinks"]:
            out.append(("logging.googleapis.com/LogSink", "//logging.googleapis.com/" + r["name"], "global", r))
        for r in lists["plans"]:
            out.append(("backupdr.googleapis.com/BackupPlan", "//backupdr.googleapis.com/" + r["name"],
                        r["name"].split("/")[3], r))  # fmt: skip
        for r in lists["vaults"]:
            out.append(
                (
                    "backupdr.googleapis.com/BackupVault",
                    "//backupdr.googleapis.com/" + r["name"],
                    r["name"].split("/")[3],
                    r,
                )
            )
        for r in repos:
            out.append(
                (
                    "artifactregistry.googleapis.com/Repository",
                    "//artifactregistry.googleapis.com/" + r["name"],
                    r["name"].split("/")[3],
                    r,
                )
            )
        for r in firestore:
            out.append(
                ("firestore.googleapis.com/Database", "//firestore.googleapis.com/" + r["name"], r["locationId"], r)
            )
        return out


def number(project: str) -> str:
    """A project's number (Secret Manager names secrets by it); any stable number will do here."""
    return str(100000 + sum(map(ord, project)))
