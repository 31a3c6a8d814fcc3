"""The Google APIs of issue 14's stores, for tests/servers/gcp.py: their list/get calls with the v1/v2 wire shapes.

Served by the same server (one token, one fault registry, one request log), each under its real path:

* Compute Engine v1 ``snapshots.list`` / ``images.list`` / ``machineImages.list`` (``items``, ``maxResults``,
  ``storageLocations``, ``…EncryptionKey``), ``regions.list`` and ``regionSnapshots.list`` (regionally scoped
  snapshots, in their region's list only);
* Secret Manager v1 ``secrets.list`` (``secrets``, ``pageSize``, ``replication.automatic`` / ``userManaged``);
* Cloud Logging v2 ``buckets.list`` over location ``-`` (``buckets``, the location inside each ``name``);
* Pub/Sub v1 ``topics.list`` (``topics``, ``messageStoragePolicy``, ``kmsKeyName``);
* Cloud Spanner v1 ``instances.list`` / ``instanceConfigs.get`` / ``databases.list``, under the path prefix
  ``/spanner`` (its ``/v1/projects/{p}/instances`` is Cloud SQL Admin's path too; the tool's Spanner endpoint
  variable carries the prefix, as a private endpoint's base URL may);
* Artifact Registry v1 ``locations.list`` / ``repositories.list`` per location, Firestore v1 ``databases.list`` (no
  paging), Bigtable Admin v2 ``instances.list`` / ``clusters.list`` over instance ``-``, Backup and DR v1
  ``backupVaults.list`` over location ``-``.

``disable(project, api)`` makes an API answer as Google does for a project where it is off: HTTP 403
``PERMISSION_DENIED`` with a ``google.rpc.ErrorInfo`` whose reason is ``SERVICE_DISABLED``. ``page_cap`` caps every
page of these lists (the real APIs may return fewer than asked).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from .gcp_seed import StoreSeeding

SPANNER_PREFIX = "/spanner"
SM_PREFIX = "/secretmanager"
# Secret Manager's locations (locations.list) in this stand-in: where regional secrets may be
SM_LOCATIONS = ("europe-west3", "us-central1")
_P = r"(?P<project>[^/]+)"

ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("GET", re.compile(rf"^/compute/v1/projects/{_P}/global/snapshots$"), "compute", "snapshots.list"),
    ("GET", re.compile(rf"^/compute/v1/projects/{_P}/global/images$"), "compute", "images.list"),
    ("GET", re.compile(rf"^/compute/v1/projects/{_P}/global/machineImages$"), "compute", "machineImages.list"),
    ("GET", re.compile(rf"^/compute/v1/projects/{_P}/regions$"), "compute", "regions.list"),
    (
        "GET",
        re.compile(rf"^/compute/v1/projects/{_P}/regions/(?P<region>[^/]+)/snapshots$"),
        "compute",
        "regionSnapshots.list",
    ),
    # Secret Manager under a prefix: its locations.list path is Artifact Registry's too; each regional endpoint
    # (the tool's {location} filled in) under /rep/{location}, serving that location only
    ("GET", re.compile(rf"^{SM_PREFIX}/v1/projects/{_P}/secrets$"), "secretmanager", "secrets.list"),
    ("GET", re.compile(rf"^{SM_PREFIX}/v1/projects/{_P}/locations$"), "secretmanager", "locations.list"),
    (
        "GET",
        re.compile(rf"^/rep/(?P<rep>[^/]+)/v1/projects/{_P}/locations/(?P<location>[^/]+)/secrets$"),
        "secretmanager",
        "regionalSecrets.list",
    ),
    ("GET", re.compile(rf"^/v2/projects/{_P}/locations/-/buckets$"), "logging", "buckets.list"),
    ("GET", re.compile(rf"^/v2/(?P<bucket>projects/{_P}/locations/[^/]+/buckets/[^/]+)$"), "logging", "buckets.get"),
    ("GET", re.compile(rf"^/v2/projects/{_P}/sinks$"), "logging", "sinks.list"),
    ("GET", re.compile(r"^/v2/(?P<parent>(?:organizations|folders)/[^/]+)/sinks$"), "logging", "sinks.list"),
    ("GET", re.compile(rf"^/v1/projects/{_P}/topics$"), "pubsub", "topics.list"),
    ("GET", re.compile(rf"^/v1/(?P<topic>projects/{_P}/topics/[^/]+)$"), "pubsub", "topics.get"),
    ("GET", re.compile(rf"^{SPANNER_PREFIX}/v1/projects/{_P}/instances$"), "spanner", "instances.list"),
    (
        "GET",
        re.compile(rf"^{SPANNER_PREFIX}/v1/(?P<config>projects/{_P}/instanceConfigs/[^/]+)$"),
        "spanner",
        "instanceConfigs.get",
    ),
    (
        "GET",
        re.compile(rf"^{SPANNER_PREFIX}/v1/projects/{_P}/instances/(?P<instance>[^/]+)/databases$"),
        "spanner",
        "databases.list",
    ),
    ("GET", re.compile(rf"^/v1/projects/{_P}/locations$"), "artifactregistry", "locations.list"),
    (
        "GET",
        re.compile(rf"^/v1/projects/{_P}/locations/(?P<location>[^/-][^/]*)/repositories$"),
        "artifactregistry",
        "repositories.list",
    ),
    ("GET", re.compile(rf"^/v1/projects/{_P}/databases$"), "firestore", "databases.list"),
    ("GET", re.compile(rf"^/v2/projects/{_P}/instances$"), "bigtableadmin", "instances.list"),
    ("GET", re.compile(rf"^/v2/projects/{_P}/instances/-/clusters$"), "bigtableadmin", "clusters.list"),
    ("GET", re.compile(rf"^/v1/projects/{_P}/locations/-/backupVaults$"), "backupdr", "backupVaults.list"),
    ("GET", re.compile(rf"^/v1/projects/{_P}/locations/-/backupPlans$"), "backupdr", "backupPlans.list"),
    (
        "GET",
        re.compile(rf"^/v1/(?P<vault>projects/{_P}/locations/[^/]+/backupVaults/[^/]+)$"),
        "backupdr",
        "backupVaults.get",
    ),
    # BigQuery's metadata query for dataset replicas (the rest of BigQuery is tests/servers/gcp.py's)
    ("POST", re.compile(rf"^/bigquery/v2/projects/{_P}/queries$"), "bigquery", "jobs.query"),
    ("GET", re.compile(rf"^/bigquery/v2/projects/{_P}/queries/(?P<job>[^/]+)$"), "bigquery", "jobs.getQueryResults"),
]
APIS = frozenset(api for _, _, api, _ in ROUTES) - {"bigquery"}
_REGION = re.compile(r"`region-([a-z0-9-]+)`\.INFORMATION_SCHEMA\.SCHEMATA_REPLICAS", re.IGNORECASE)
SERVICE_NAMES = {
    "compute": "compute.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "logging": "logging.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "spanner": "spanner.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "firestore": "firestore.googleapis.com",
    "bigtableadmin": "bigtableadmin.googleapis.com",
    "backupdr": "backupdr.googleapis.com",
}
_COLLECTIONS = {
    ("compute", "snapshots.list"): ("snapshots", "items", "compute#snapshotList"),
    ("compute", "regionSnapshots.list"): ("snapshots", "items", "compute#snapshotList"),
    ("compute", "images.list"): ("images", "items", "compute#imageList"),
    ("compute", "machineImages.list"): ("machineImages", "items", "compute#machineImageList"),
    ("secretmanager", "secrets.list"): ("secrets", "secrets", None),
    ("logging", "buckets.list"): ("log_buckets", "buckets", None),
    ("pubsub", "topics.list"): ("topics", "topics", None),
    ("spanner", "instances.list"): ("spanner", "instances", None),
    ("bigtableadmin", "instances.list"): ("bigtable", "instances", None),
    ("bigtableadmin", "clusters.list"): ("bigtable_clusters", "clusters", None),
    ("backupdr", "backupVaults.list"): ("vaults", "backupVaults", None),
    ("backupdr", "backupPlans.list"): ("plans", "backupPlans", None),
    ("logging", "sinks.list"): ("sinks", "sinks", None),
    ("secretmanager", "regionalSecrets.list"): ("regional_secrets", "secrets", None),
}
# get operations: the path's group naming the resource, and the collection it is found in
_GETS = {
    "buckets.get": ("bucket", "log_buckets"),
    "topics.get": ("topic", "topics"),
    "backupVaults.get": ("vault", "vaults"),
}
# Compute Engine's regions (regions.list) in this stand-in, unless a test sets Stores.regions
COMPUTE_REGIONS = ("europe-west3", "europe-west4", "us-central1")
_QUOTAS = [{"metric": "SNAPSHOTS", "limit": 5000.0, "usage": 0.0}]
# Artifact Registry's locations (locations.list) in this stand-in
AR_LOCATIONS = ("europe-west3", "us-central1", "europe", "us", "asia")
# Spanner's base configurations as instanceConfigs.get returns them (replicas[].location / type)
SPANNER_CONFIGS: dict[str, list[tuple[str, str]]] = {
    "regional-europe-west3": [("europe-west3", "READ_WRITE")] * 3,
    "eur3": [("europe-west1", "READ_WRITE"), ("europe-west4", "READ_WRITE"), ("europe-north1", "WITNESS")],
    "nam-eur-asia1": [
        ("us-central1", "READ_WRITE"),
        ("us-central2", "READ_WRITE"),
        ("europe-west1", "READ_ONLY"),
        ("asia-east1", "READ_ONLY"),
        ("us-east1", "WITNESS"),
    ],
}


class Stores(StoreSeeding):
    """The state of these APIs on one GcpEndpoint (seed with the add_* methods)."""

    def __init__(self, page: Callable[..., dict[str, Any]], error: Callable[[int, str], tuple[int, dict[str, Any]]]):
        self._lock = threading.Lock()
        self._page = page
        self._error = error
        self.page_cap: int | None = None
        self.reset()

    def reset(self) -> None:
        """No resources, no disabled APIs, no page cap."""
        with self._lock:
            self.lists: dict[str, dict[str, list[dict[str, Any]]]] = {c[0]: {} for c in _COLLECTIONS.values()}
            self.databases: dict[tuple[str, str], list[dict[str, Any]]] = {}
            self.repositories: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (project, location) → repos
            self.firestore: dict[str, list[dict[str, Any]]] = {}
            # project → (dataset, its primary location, replica location, replica name), for SCHEMATA_REPLICAS
            self.replicas: dict[str, list[tuple[str, str, str, str]]] = {}
            self.queries: list[dict[str, Any]] = []  # the jobs.query bodies received
            self._jobs: dict[str, list[list[str]]] = {}
            self.disabled: set[tuple[str, str]] = set()
        self.page_cap = None
        self.regions: tuple[str, ...] = COMPUTE_REGIONS
        self.slow_queries = False  # jobs.query answers jobComplete: false first, as a slow job does

    def handles(self, api: str, op: str) -> bool:
        """Whether a request is one of these APIs'."""
        return api in APIS or op in ("jobs.query", "jobs.getQueryResults")

    def add_replica(self, project: str, dataset: str, primary: str, replica: str) -> None:
        """A cross-region replica of a BigQuery dataset (SCHEMATA_REPLICAS lists the primary replica too)."""
        with self._lock:
            rows = self.replicas.setdefault(project, [])
            if not any(r[0] == dataset for r in rows):
                rows.append((dataset, primary, primary, primary))
            rows.append((dataset, primary, replica, replica))

    def env(self, url: str) -> dict[str, str]:
        """The tool's endpoint variables for these APIs."""
        return {
            "RESIDENCY_AUDIT_GCP_COMPUTE_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_SECRETMANAGER_ENDPOINT": url + SM_PREFIX,
            "RESIDENCY_AUDIT_GCP_SECRETMANAGER_REP_ENDPOINT": url + "/rep/{location}",
            "RESIDENCY_AUDIT_GCP_LOGGING_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_PUBSUB_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_SPANNER_ENDPOINT": url + SPANNER_PREFIX,
            "RESIDENCY_AUDIT_GCP_ARTIFACTREGISTRY_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_FIRESTORE_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_BIGTABLEADMIN_ENDPOINT": url,
            "RESIDENCY_AUDIT_GCP_BACKUPDR_ENDPOINT": url,
        }

    def disable(self, project: str, api: str) -> None:
        """Answer every call of `api` about `project` with 403 SERVICE_DISABLED, as Google does for an API off."""
        with self._lock:
            self.disabled.add((project, api))

    # -- requests -------------------------------------------------------------------------------------------------

    def handle(
        self, api: str, op: str, groups: dict[str, str], q: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request of these APIs."""
        project = groups.get("project", "")
        with self._lock:
            disabled = (project, api) in self.disabled
        if disabled:
            return _service_disabled(api, project)
        if (api, op) in _COLLECTIONS:
            collection, key, kind = _COLLECTIONS[(api, op)]
            with self._lock:
                items = list(self.lists[collection].get(project or groups.get("parent", ""), []))
            if api == "compute":  # regionally scoped snapshots are not in the global list, only in their region's
                where = f"/regions/{groups['region']}/" if op == "regionSnapshots.list" else "/global/"
                items = [i for i in items if where in i["selfLink"]]
            if op == "regionalSecrets.list":
                if groups["rep"] != groups["location"]:  # a regional endpoint serves its own location only
                    return self._error(400, f"Location {groups['location']} is not served by this endpoint")
                items = [i for i in items if i["name"].split("/")[3] == groups["location"]]
            return 200, self._page(items, key, q, self.page_cap, {"kind": kind} if kind else None)
        if op in _GETS:
            group, collection = _GETS[op]
            with self._lock:
                found = [i for i in self.lists[collection].get(project, []) if i["name"] == groups[group]]
            return (200, found[0]) if found else self._error(404, f"{groups[group]} not found")
        if op == "regions.list":  # each Region with its quotas, as Compute returns them (the tool asks names only)
            rows = [{"kind": "compute#region", "name": r, "status": "UP", "quotas": _QUOTAS} for r in self.regions]
            return 200, self._page(rows, "items", q, self.page_cap, {"kind": "compute#regionList"})
        if api == "secretmanager" and op == "locations.list":
            rows = [{"name": f"projects/{project}/locations/{loc}", "locationId": loc} for loc in SM_LOCATIONS]
            return 200, self._page(rows, "locations", q, self.page_cap)
        if op == "jobs.query":
            return self._query(project, json.loads(body or b"{}"))
        if op == "jobs.getQueryResults":
            with self._lock:
                rows = self._jobs.get(groups["job"])
            if rows is None:
                return self._error(404, f"Not found: Job {project}:{groups['job']}")
            return 200, self._result(groups["job"], rows, q)
        if op == "instanceConfigs.get":
            short = groups["config"].rsplit("/", 1)[-1]
            replicas = SPANNER_CONFIGS.get(short)
            if replicas is None:
                return self._error(404, f"Instance config {groups['config']} not found")
            return 200, {
                "name": groups["config"],
                "displayName": short,
                "configType": "GOOGLE_MANAGED",
                "replicas": [
                    {"location": loc, "type": role, **({"defaultLeaderLocation": True} if i == 0 else {})}
                    for i, (loc, role) in enumerate(replicas)
                ],
            }
        if op == "locations.list":
            rows = [{"name": f"projects/{project}/locations/{loc}", "locationId": loc} for loc in AR_LOCATIONS]
            return 200, self._page(rows, "locations", q, self.page_cap)
        if op == "repositories.list":
            with self._lock:
                repos = list(self.repositories.get((project, groups["location"]), []))
            return 200, self._page(repos, "repositories", q, self.page_cap)
        if api == "firestore":
            with self._lock:  # databases.list has no paging
                return 200, {"databases": list(self.firestore.get(project, []))}
        if op == "databases.list":
            with self._lock:
                dbs = list(self.databases.get((project, groups["instance"]), []))
            return 200, self._page(dbs, "databases", q, self.page_cap)
        return self._error(404, "no such operation")

    def _query(self, project: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.queries.append(body)
        match = _REGION.search(str(body.get("query", "")))
        if body.get("useLegacySql") is not False or not match:
            return self._error(
                400, "Syntax error: expected a standard SQL query of INFORMATION_SCHEMA.SCHEMATA_REPLICAS"
            )
        region = match.group(1).lower()
        with self._lock:
            rows = [
                [d, loc, name] for d, primary, loc, name in self.replicas.get(project, []) if primary.lower() == region
            ]
            job = f"job_{len(self._jobs) + 1}"
            self._jobs[job] = rows
        if self.slow_queries:
            return 200, {
                "kind": "bigquery#queryResponse",
                "jobComplete": False,
                "jobReference": _job(project, job, region),
            }
        return 200, self._result(job, rows, {"maxResults": str(body.get("maxResults", 10000))}, project, region)

    def _result(
        self, job: str, rows: list[list[str]], q: dict[str, str], project: str = "", region: str = ""
    ) -> dict[str, Any]:
        page = self._page([{"f": [{"v": v} for v in row]} for row in rows], "rows", q, self.page_cap)
        if "nextPageToken" in page:  # BigQuery's query results name it pageToken
            page["pageToken"] = page.pop("nextPageToken")
        return {
            "kind": "bigquery#getQueryResultsResponse",
            "jobComplete": True,
            "jobReference": _job(project, job, region or q.get("location", "")),
            "totalRows": str(len(rows)),
            "schema": {"fields": [{"name": n, "type": "STRING"} for n in ("schema_name", "location", "replica_name")]},
            **page,
        }


def _job(project: str, job: str, location: str) -> dict[str, str]:
    return {"projectId": project, "jobId": job, "location": location}


def _service_disabled(api: str, project: str) -> tuple[int, dict[str, Any]]:
    service = SERVICE_NAMES[api]
    message = (
        f"{service.split('.')[0].title()} API has not been used in project {project} before or it is disabled."
        f" Enable it by visiting https://console.developers.google.com/apis/api/{service}/overview?project={project}"
    )
    return 403, {
        "error": {
            "code": 403,
            "message": message,
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {"service": service, "consumer": f"projects/{project}"},
                }
            ],
        }
    }
