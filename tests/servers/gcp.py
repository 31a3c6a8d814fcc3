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

import json
import os
import re
import tempfile
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, unquote

from . import cloud_asset, gcp_stores
from .base import Endpoint, FaultMode
from .gcp_core import CoreSeeding, _State
from .gcp_wire import (
    Fault,
    RequestRecord,
    _b64,
    _error,
    _Handler,
    _page,
    _public_pem,
    _Server,
    _signed_by,
    service_account_key,
)

__all__ = ["Fault", "GcpEndpoint", "RequestRecord", "service_account_key"]


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


class GcpEndpoint(CoreSeeding, Endpoint):
    """The server on a free 127.0.0.1 port; use as a context manager or call start()/stop().

    Switches read on every request: ``latency`` (seconds added to each request) and the page caps
    (``bucket_page_cap``, ``search_page_cap``, ``dataset_page_cap``, ``instance_page_cap``: the largest page
    returned whatever the client asks, as the real APIs may return fewer).
    """

    routes = _ROUTES

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
