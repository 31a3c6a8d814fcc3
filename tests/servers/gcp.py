"""A local Google Cloud endpoint: the few JSON APIs the GCP connector reads, over real HTTP, in one small server.

The Cloud Storage emulators on PyPI do not keep bucket locations, so this server speaks the parts of the APIs the
tool uses, with their wire shapes:

* Cloud Storage JSON API: ``buckets.insert`` (so tests seed through the real google-cloud-storage client),
  ``buckets.list`` (per project, ``maxResults``/``pageToken``/``nextPageToken``) and ``buckets.get``; buckets keep
  upper-case ``location``, ``locationType``, ``customPlacementConfig``, ``encryption.defaultKmsKeyName`` and labels;
* Resource Manager v3 ``projects:search`` (``state:`` and ``parent:`` query terms) and ``folders.list``;
* BigQuery ``datasets.list`` / ``datasets.get``, Cloud SQL Admin ``instances.list``, Cloud KMS ``cryptoKeys.get``;
* issue 14's stores (Compute Engine images and snapshots, Secret Manager, Cloud Logging, Pub/Sub, Spanner):
  tests/servers/gcp_stores.py, seeded through ``endpoint.stores``;
* Cloud Asset Inventory ``searchAllResources`` over the same state (tests/servers/cloud_asset.py);
* ``POST /token``: the OAuth 2.0 JWT-bearer exchange google-auth performs for a service-account key (see
  :meth:`GcpEndpoint.env`, which writes a real key whose ``token_uri`` is this server); the assertion's RS256
  signature is checked against that key;
* fault injection (an HTTP error for an API / operation / project, optionally only ``times`` times), a ``latency``
  added to every request, and a log with counts per (api, method, operation).

Every API but Cloud Storage demands the bearer token the server issued (Cloud Storage clients pointed at an emulator
with STORAGE_EMULATOR_HOST send none, as the real client does).
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from . import cloud_asset, gcp_stores
from .base import Endpoint, FaultMode

__all__ = ["Fault", "GcpEndpoint", "RequestRecord", "service_account_key"]


MULTI_REGIONS = frozenset({"US", "EU", "ASIA"})
PREDEFINED_DUAL_REGIONS = frozenset({"ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"})
_TOKEN_PREFIX = "ya29.local-"

_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    # (method, path pattern, api, operation); named group "project" where the path carries one
    ("POST", re.compile(r"^/token$"), "oauth2", "token"),
    ("GET", re.compile(r"^/storage/v1/b$"), "storage", "buckets.list"),
    ("POST", re.compile(r"^/storage/v1/b$"), "storage", "buckets.insert"),
    ("GET", re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)$"), "storage", "buckets.get"),
    ("GET", re.compile(r"^/v3/projects:search$"), "resourcemanager", "projects.search"),
    ("GET", re.compile(r"^/v3/folders$"), "resourcemanager", "folders.list"),
    ("GET", re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/datasets$"), "bigquery", "datasets.list"),
    (
        "GET",
        re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/datasets/(?P<dataset>[^/]+)$"),
        "bigquery",
        "datasets.get",
    ),
    ("GET", re.compile(r"^/v1/projects/(?P<project>[^/]+)/instances$"), "sqladmin", "instances.list"),
    (
        "GET",
        re.compile(r"^/v1/(?P<key>projects/(?P<project>[^/]+)/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)$"),
        "kms",
        "cryptoKeys.get",
    ),
    *gcp_stores.ROUTES,
    ("GET", re.compile(cloud_asset.ROUTE), "cloudasset", "searchAllResources"),
]
_STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class RequestRecord(NamedTuple):
    """One request as the server saw it."""

    api: str
    operation: str
    method: str
    project: str | None
    path: str


@dataclass
class Fault:
    """An injected HTTP error; ``None`` in api/operation/project matches anything. ``hits`` counts firings."""

    api: str | None = None
    operation: str | None = None
    project: str | None = None
    status: int = 403
    message: str = "Injected fault"
    times: int | None = None
    hits: int = 0
    mode: FaultMode = "error"
    delay: float = 0.0
    retry_after: int | None = None

    def matches(self, rec: RequestRecord) -> bool:
        """Whether this rule applies to ``rec`` (ignoring how many firings are left)."""
        return (
            (self.api is None or self.api == rec.api)
            and (self.operation is None or self.operation == rec.operation)
            and (self.project is None or self.project == rec.project)
        )


@dataclass
class _State:
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # projectId → Project resource
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)  # folders/N → Folder resource
    buckets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # project → name → Bucket
    datasets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # project → id → Dataset
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project → DatabaseInstances
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # full key name → CryptoKey


def service_account_key(token_uri: str, project: str = "scanner-project") -> dict[str, Any]:
    """A real service-account key (a fresh RSA key) whose token exchange goes to ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": f"residency-audit@{project}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


class GcpEndpoint(Endpoint):
    """The server on a free 127.0.0.1 port; use as a context manager or call start()/stop().

    Switches read on every request: ``latency`` (seconds added to each request) and the page caps
    (``bucket_page_cap``, ``search_page_cap``, ``dataset_page_cap``, ``instance_page_cap``: the largest page
    returned whatever the client asks, as the real APIs may return fewer).
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.bucket_page_cap: int | None = None
        self.search_page_cap: int | None = None
        self.dataset_page_cap: int | None = None
        self.instance_page_cap: int | None = None
        #: project → bucket names buckets.list reports as `unreachable` (with returnPartialSuccess; else a 503)
        self.unreachable: dict[str, list[str]] = {}
        #: Cloud Asset Inventory stand-in (tests/servers/cloud_asset.py): extra assets, disabled scopes, page cap
        self.cloud_asset = cloud_asset.CloudAsset(self)
        self.url = ""
        #: issue 14's stores (tests/servers/gcp_stores.py): seed with endpoint.stores.add_…
        self.stores = gcp_stores.Stores(_page, _error)
        self.state = _State()
        self.scopes_requested: list[str] = []
        self._tokens: set[str] = set()
        self._server: _Server | None = None
        self._key_file = ""
        self._public_pem = b""

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> GcpEndpoint:
        """Start serving, and write a service-account key whose token_uri is this server."""
        endpoint = self

        class Handler(_Handler):
            server_endpoint = endpoint

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._serve(self._server, "gcp-endpoint")
        self._tmp = tempfile.mkdtemp(prefix="gcp-endpoint-")
        self._key_file = os.path.join(self._tmp, "service-account.json")
        key = service_account_key(self.url + "/token")
        self._public_pem = _public_pem(key["private_key"])
        with open(self._key_file, "w", encoding="utf-8") as f:
            json.dump(key, f)
        return self

    def reset(self) -> None:
        """Empty state, log and faults; no latency; no page caps (issued tokens stay valid)."""
        with self._lock:
            self.state = _State()
            self._faults.clear()
            self._requests.clear()
            self.scopes_requested.clear()
        self.latency = 0.0
        self.bucket_page_cap = self.search_page_cap = self.dataset_page_cap = self.instance_page_cap = None
        self.unreachable = {}
        self.stores.reset()
        self.cloud_asset.reset()

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment pointing google-auth, the storage client and the connector's REST calls at this server."""
        env = {k: v for k, v in (base or {}).items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
        env.update(
            {
                "GOOGLE_APPLICATION_CREDENTIALS": self._key_file,
                "STORAGE_EMULATOR_HOST": self.url,
                "RESIDENCY_AUDIT_GCP_RESOURCEMANAGER_ENDPOINT": self.url,
                "RESIDENCY_AUDIT_GCP_BIGQUERY_ENDPOINT": self.url,
                "RESIDENCY_AUDIT_GCP_SQLADMIN_ENDPOINT": self.url,
                "RESIDENCY_AUDIT_GCP_KMS_ENDPOINT": self.url,
                **self.stores.env(self.url),
                "RESIDENCY_AUDIT_GCP_CLOUDASSET_ENDPOINT": self.url,
                # never the developer's own gcloud configuration
                "CLOUDSDK_CONFIG": os.path.join(self._tmp or tempfile.gettempdir(), "gcloud"),
            }
        )
        return env

    # -- faults and the log ----------------------------------------------------------------------------------------

    def add_fault(
        self,
        api: str | None = None,
        operation: str | None = None,
        project: str | None = None,
        *,
        status: int = 403,
        message: str = "Injected fault",
        times: int | None = None,
        mode: FaultMode = "error",
        delay: float = 0.0,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer matching requests with an HTTP error in Google's JSON error shape (``times``: only that often).

        Other ``mode``s: ``reset`` drops the connection with a TCP RST; ``timeout`` holds the request ``delay``
        seconds (0: 600) and closes without answering; ``truncate`` sends the real answer's headers and half its
        body; ``malformed`` answers 200 with a body that is not JSON. ``retry_after`` adds that header to an error.
        """
        return self._add_fault(
            Fault(api, operation, project, status, message, times, mode=mode, delay=delay, retry_after=retry_after),
            mode,
        )

    @property
    def counts(self) -> Counter[tuple[str, str, str]]:
        """Requests per (api, method, operation)."""
        return Counter((r.api, r.method, r.operation) for r in self.requests)

    # -- seeding ---------------------------------------------------------------------------------------------------

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

    # -- request handling ------------------------------------------------------------------------------------------

    def _issue_token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", [""])[0]
        assertion = form.get("assertion", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" or assertion.count(".") != 2:
            return 400, {"error": "invalid_grant", "error_description": "expected a JWT-bearer assertion"}
        if not _signed_by(assertion, self._public_pem):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        claims = json.loads(_b64(assertion.split(".")[1]))
        with self._lock:
            self.scopes_requested.append(str(claims.get("scope", "")))
            token = f"{_TOKEN_PREFIX}{len(self._tokens) + 1}"
            self._tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _authorised(self, header: str | None) -> bool:
        with self._lock:
            return bool(header) and header.removeprefix("Bearer ").strip() in self._tokens  # type: ignore[union-attr]

    def _handle(
        self, api: str, op: str, groups: dict[str, str], query: dict[str, list[str]], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        q = {k: v[0] for k, v in query.items()}
        s = self.state
        if self.stores.handles(api, op):  # before the operations below: "buckets.list" is Cloud Storage's name too
            return self.stores.handle(api, op, groups, q, body)
        if op == "token":
            return self._issue_token(parse_qs(body.decode()))
        if op == "buckets.insert":
            return self._insert_bucket(q.get("project", ""), json.loads(body or b"{}"))
        if op == "buckets.list":
            project = q.get("project", "")
            with self._lock:
                items = sorted(s.buckets.get(project, {}).values(), key=lambda b: b["name"])
                down = list(self.unreachable.get(project, []))
            if down and q.get("returnPartialSuccess", "").lower() != "true":  # the client sends "True"
                return _error(503, "A location is unavailable; retry or ask for partial success")
            page = _page(items, "items", q, self.bucket_page_cap, {"kind": "storage#buckets"})
            if down and not q.get("pageToken"):
                page["unreachable"] = [f"projects/_/buckets/{name}" for name in down]
            return 200, page
        if op == "buckets.get":
            name = unquote(groups["bucket"])
            with self._lock:
                found = next((b[name] for b in s.buckets.values() if name in b), None)
            return (200, found) if found else _error(404, f"The specified bucket does not exist: {name}")
        if op == "projects.search":
            # as documented for v3: with several fields in the query, a project matching ANY of them is returned
            terms = [t.split(":", 1) for t in q.get("query", "").split() if ":" in t]
            with self._lock:
                found_projects = [p for p in s.projects.values() if not terms or any(p.get(k) == v for k, v in terms)]
            return 200, _page(found_projects, "projects", q, self.search_page_cap)
        if op == "folders.list":
            if "parent" not in q:
                return _error(400, "parent is required")
            with self._lock:
                folders = [f for f in s.folders.values() if f["parent"] == q["parent"]]
            return 200, _page(folders, "folders", q, None)
        project = groups.get("project", "")
        if op == "datasets.list":
            with self._lock:
                listed = [
                    {k: d[k] for k in ("kind", "id", "datasetReference", "location", "labels")}
                    for d in s.datasets.get(project, {}).values()
                ]
            return 200, _page(listed, "datasets", q, self.dataset_page_cap, {"kind": "bigquery#datasetList"})
        if op == "datasets.get":
            with self._lock:
                dataset = s.datasets.get(project, {}).get(groups["dataset"])
            return (200, dataset) if dataset else _error(404, f"Not found: Dataset {project}:{groups['dataset']}")
        if op == "instances.list":
            with self._lock:
                instances = list(s.instances.get(project, []))
            return 200, _page(instances, "items", q, self.instance_page_cap, {"kind": "sql#instancesList"})
        if op == "searchAllResources":
            return self.cloud_asset.handle(groups["scope"], q)
        if op == "cryptoKeys.get":
            with self._lock:
                key = s.keys.get(groups["key"])
            return (200, key) if key else _error(404, f"{groups['key']} not found.")
        return _error(404, "no such operation")

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


def _public_pem(private_pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _signed_by(jwt: str, public_pem: bytes) -> bool:
    """Whether an RS256 JWT carries a valid signature by the key whose public half is `public_pem`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    head, body, signature = jwt.split(".")
    public = serialization.load_pem_public_key(public_pem)
    if json.loads(_b64(head)).get("alg") != "RS256" or not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(_b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _page(
    items: Iterable[dict[str, Any]],
    key: str,
    q: dict[str, str],
    cap: int | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page (``pageToken`` = offset); ``maxResults``/``pageSize`` asked, never more than ``cap``."""
    rows = list(items)
    start = int(q.get("pageToken") or 0)
    size = int(q.get("maxResults") or q.get("pageSize") or 1000)
    if cap is not None:
        size = min(size, cap)
    page: dict[str, Any] = dict(extra or {})
    if rows[start : start + size]:
        page[key] = rows[start : start + size]
    if start + size < len(rows):
        page["nextPageToken"] = str(start + size)
    return page


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    reason = {403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 503: "backendError"}.get(status, "error")
    return status, {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_TEXT.get(status, "UNKNOWN"),
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


class _Server(ThreadingHTTPServer):
    # the default listen backlog of 5 drops SYNs when 16 threads connect at once: the client then waits 1 s to retry
    request_queue_size = 128
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    server_endpoint: GcpEndpoint
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the second waits for the client's delayed ACK
    # (40 ms per request on Linux), which would swamp the latency the benchmark sets
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the endpoint keeps its own log

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        ep = self.server_endpoint
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        api, op, groups = "unknown", f"{method} {parts.path}", dict[str, str]()
        for route_method, pattern, route_api, route_op in _ROUTES:
            match = pattern.match(parts.path)
            if match and route_method == method:
                api, op, groups = route_api, route_op, match.groupdict()
                break
        project = groups.get("project") or next(iter(query.get("project", [])), None)
        rec = RequestRecord(api, op, method, project, parts.path)
        fault = ep._record(rec)
        if ep.latency:
            time.sleep(ep.latency)
        mode = fault.mode if fault is not None else "error"
        if mode == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "timeout":
            time.sleep(fault.delay if fault is not None and fault.delay > 0 else 600)
            self.close_connection = True
            return
        if fault is not None and mode != "error":
            fault = None  # truncate / malformed: the real answer, spoilt on the way out
        if fault is not None and api == "oauth2":
            # the token endpoint answers in OAuth 2.0's shape, not the APIs' JSON error shape
            code, _, description = fault.message.partition(": ")
            status, payload = fault.status, {"error": code, "error_description": description}
        elif fault is not None:
            status, payload = _error(fault.status, fault.message)
        elif api not in ("oauth2", "storage", "unknown") and not ep._authorised(self.headers.get("Authorization")):
            status, payload = _error(401, "Request is missing required authentication credential.")
        elif api == "unknown":
            status, payload = _error(404, f"no route for {method} {parts.path}")
        else:
            status, payload = ep._handle(api, op, groups, query, body)
        data = json.dumps(payload).encode()
        if mode == "malformed":
            status, data = 200, b'{"items": [{"name": '
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if fault is not None and fault.retry_after is not None:
            self.send_header("Retry-After", str(fault.retry_after))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)
