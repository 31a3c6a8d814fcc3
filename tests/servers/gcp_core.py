"""The core Google APIs' state of the local endpoint (tests/servers/gcp.py), and its seeding in their JSON shapes.

Resource Manager projects and folders, Cloud KMS keys, BigQuery datasets, Cloud SQL instances and Cloud Storage
buckets (``buckets.insert`` keeps upper-case ``location`` and derives ``locationType`` as the API does).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .gcp_wire import _error

MULTI_REGIONS = frozenset({"US", "EU", "ASIA"})
PREDEFINED_DUAL_REGIONS = frozenset({"ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"})


@dataclass
class _State:
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # projectId → Project resource
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)  # folders/N → Folder resource
    buckets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # project → name → Bucket
    datasets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # project → id → Dataset
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project → DatabaseInstances
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # full key name → CryptoKey


class CoreSeeding:
    """The seeding methods of GcpEndpoint for the core APIs (a mixin: GcpEndpoint holds ``state`` and ``_lock``)."""

    state: _State
    url: str
    _lock: threading.Lock

    def storage_client(self, project: str) -> Any:
        """A real google-cloud-storage client for seeding buckets here (anonymous, like any emulator client)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.url},
        )

    def add_project(self, project: str, parent: str = "organizations/1000", state: str = "ACTIVE") -> None:
        """A project the credential can see, under ``parent`` (organizations/N or folders/N)."""
        with self._lock:
            number = str(100000 + len(self.state.projects))
            self.state.projects[project] = {
                "name": f"projects/{number}",
                "projectId": project,
                "parent": parent,
                "state": state,
                "displayName": project,
            }

    def add_folder(self, folder: str, parent: str = "organizations/1000") -> None:
        """A folder (``folders/N``) under an organization or another folder."""
        with self._lock:
            self.state.folders[folder] = {"name": folder, "parent": parent, "state": "ACTIVE", "displayName": folder}

    def add_key(self, name: str, protection_level: str = "SOFTWARE") -> str:
        """A Cloud KMS key (full resource name) with its primary version's protection level."""
        with self._lock:
            self.state.keys[name] = {
                "name": name,
                "purpose": "ENCRYPT_DECRYPT",
                "primary": {
                    "name": f"{name}/cryptoKeyVersions/1",
                    "state": "ENABLED",
                    "protectionLevel": protection_level,
                },
                "versionTemplate": {"protectionLevel": protection_level, "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION"},
            }
        return name

    def add_dataset(
        self,
        project: str,
        dataset: str,
        location: str,
        *,
        kms_key: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        """A BigQuery dataset (``location`` as BigQuery spells it: "US", "EU", "europe-west3" …)."""
        body: dict[str, Any] = {
            "kind": "bigquery#dataset",
            "id": f"{project}:{dataset}",
            "datasetReference": {"projectId": project, "datasetId": dataset},
            "location": location,
            "labels": dict(labels or {}),
        }
        if kms_key:
            body["defaultEncryptionConfiguration"] = {"kmsKeyName": kms_key}
        with self._lock:
            self.state.datasets.setdefault(project, {})[dataset] = body

    def add_instance(
        self,
        project: str,
        name: str,
        region: str,
        *,
        master: str | None = None,
        kms_key: str | None = None,
        backup_location: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        """A Cloud SQL instance; with ``master`` a read replica (the master's ``replicaNames`` gains it)."""
        settings: dict[str, Any] = {
            "tier": "db-custom-1-3840",
            "userLabels": dict(labels or {}),
            # read replicas take no automated backups
            "backupConfiguration": {"enabled": master is None, "kind": "sql#backupConfiguration"},
        }
        if backup_location:
            settings["backupConfiguration"]["location"] = backup_location
        body: dict[str, Any] = {
            "kind": "sql#instance",
            "name": name,
            "project": project,
            "region": region,
            "gceZone": f"{region}-a",
            "databaseVersion": "POSTGRES_16",
            "state": "RUNNABLE",
            "instanceType": "READ_REPLICA_INSTANCE" if master else "CLOUD_SQL_INSTANCE",
            "settings": settings,
        }
        if master:
            body["masterInstanceName"] = f"{project}:{master}"
        if kms_key:
            body["diskEncryptionConfiguration"] = {"kmsKeyName": kms_key, "kind": "sql#diskEncryptionConfiguration"}
        with self._lock:
            instances = self.state.instances.setdefault(project, [])
            if master:
                for inst in instances:
                    if inst["name"] == master:
                        inst.setdefault("replicaNames", []).append(name)
            instances.append(body)

    def _insert_bucket(self, project: str, bucket: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = bucket.get("name", "")
        location = str(bucket.get("location") or "US").upper()  # the API's default location is US
        placement = bucket.get("customPlacementConfig") or {}
        if placement.get("dataLocations"):
            placement = {"dataLocations": [str(d).upper() for d in placement["dataLocations"]]}
            location_type = "dual-region"
        elif location in MULTI_REGIONS:
            location_type = "multi-region"
        elif location in PREDEFINED_DUAL_REGIONS or "+" in location:
            location_type = "dual-region"
        else:
            location_type = "region"
        stored: dict[str, Any] = {
            "kind": "storage#bucket",
            "id": name,
            "name": name,
            "projectNumber": "100000",
            "location": location,
            "locationType": location_type,
            "storageClass": bucket.get("storageClass", "STANDARD"),
            "timeCreated": "2026-11-27T00:00:00.000Z",
            "etag": "CAE=",
            "metageneration": "1",
        }
        if placement:
            stored["customPlacementConfig"] = placement
        if bucket.get("labels"):
            stored["labels"] = dict(bucket["labels"])
        if (bucket.get("encryption") or {}).get("defaultKmsKeyName"):
            stored["encryption"] = {"defaultKmsKeyName": bucket["encryption"]["defaultKmsKeyName"]}
        with self._lock:
            if any(name in b for b in self.state.buckets.values()):
                return _error(409, "Your previous request to create the named bucket succeeded and you already own it.")
            self.state.buckets.setdefault(project, {})[name] = stored
        return 200, stored

    def put_bucket(self, project: str, resource: dict[str, Any]) -> None:
        """Store a bucket resource exactly as given (shapes the insert API would refuse, e.g. a zonal location)."""
        with self._lock:
            self.state.buckets.setdefault(project, {})[resource["name"]] = {"kind": "storage#bucket", **resource}
