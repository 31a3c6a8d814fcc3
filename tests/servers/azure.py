"""A local Azure Resource Manager endpoint: the REST API the Azure connector reads, over TLS, in one small server.

No emulator exists for Resource Manager (Azurite is data-plane only), so this speaks just enough of it:
subscriptions, resource groups, ``/resources`` with ``$filter``, per-type lists for the data stores the tool reads,
GET by id, SQL servers' databases / failover groups / replication links / encryption protector, flexible servers'
replicas, and Resource Graph queries (``POST /providers/Microsoft.ResourceGraph/resources``, ``$skipToken`` paging).
Lists page through ``nextLink`` (``page_size`` makes pages small). Bodies are shaped with the SDKs' own model classes
(``azure-mgmt-storage``, ``-cosmosdb``, ``-sql``, ``-postgresqlflexibleservers``, ``-mysqlflexibleservers``,
``-compute``, ``-resourcegraph``) so their field names and nesting are the real API's.

The tool under test reaches it unchanged: ``RESIDENCY_AUDIT_AZURE_ENDPOINT`` points at it, ``REQUESTS_CA_BUNDLE``
trusts its trustme certificate (azure-core's bearer-token policy refuses plain http), and
``AZURE_TOKEN_CREDENTIALS=AzureCliCredential`` with a stand-in ``az`` on ``PATH`` makes the real
``DefaultAzureCredential`` fetch a token (the stand-in logs the ``--resource`` it was asked for).

Every request is logged with its (method, path pattern); requests without ``Authorization: Bearer <token>`` get 401;
faults (403, 429 with Retry-After, …) are injected with :meth:`AzureEndpoint.add_fault`; ``latency`` delays every
answer (the benchmark). Seeding helpers are methods (servers/azure_seed.py, a mixin; servers/azure_stores.py for
later stores); the HTTP server, fault rules and path patterns are servers/azure_wire.py. The tool under test never writes.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import stat
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .azure_seed import Seeding
from .azure_wire import (
    _DISPLAY,
    _FAULT_DELAY,
    _FAULT_MODE,
    GRAPH_PATH,
    TENANT,
    Fault,
    RequestRecord,
    _error,
    _graph_row,
    _norm_type,
    _pattern,
    _Server,
    _subscription_of,
    wire,
)
from .base import Endpoint, FaultMode

# child lists served under their parent's id, in the order they were seeded
CHILD_LISTS = (
    "failoverGroups",
    "replicationLinks",
    "replicas",
    "replications",
    "linkedServers",
    "objectReplicationPolicies",
)

__all__ = ["_DISPLAY", "AzureEndpoint", "Fault", "RequestRecord", "wire"]


class AzureEndpoint(Seeding, Endpoint):
    """The server on a free 127.0.0.1 port over TLS; use as a context manager or call start()/stop().

    ``url`` is the Resource Manager endpoint, ``ca_path`` the CA bundle to trust, ``env()`` a child environment.
    Switches read on every request: ``latency`` (seconds), ``page_size`` (largest page of any list or Graph query;
    None: the client's ``$top`` or everything).
    """

    def __init__(self, *, latency: float = 0.0, page_size: int | None = None) -> None:
        super().__init__()
        self.latency = latency
        self.page_size = page_size
        self.token = "fake-arm-token-" + uuid.uuid4().hex
        self.url = ""
        self.ca_path = ""
        self.bin_dir = ""
        self.az_log = ""
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, dict[str, dict[str, Any]]] = {}  # subscription → lower name → group
        self._resources: dict[str, dict[str, Any]] = {}  # lower id → body
        self._children: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (lower parent id, kind) → bodies
        self._server: _Server | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> AzureEndpoint:
        """Issue a certificate, write the CA bundle and the stand-in ``az``, and serve."""
        import trustme

        self._tmp = tempfile.mkdtemp(prefix="azure-endpoint-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = os.path.join(self._tmp, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self.bin_dir = os.path.join(self._tmp, "bin")
        os.mkdir(self.bin_dir)
        self.az_log = os.path.join(self._tmp, "az.log")
        self._write_az()
        self._server = _Server(self, ctx)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._serve(self._server, "azure-arm")
        return self

    def reset(self) -> None:
        """No subscriptions, resources, faults or log; default switches."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._subscriptions.clear()
            self._groups.clear()
            self._resources.clear()
            self._children.clear()
        self.latency = 0.0
        self.page_size = None
        if self.az_log and os.path.exists(self.az_log):
            os.remove(self.az_log)

    def _write_az(self) -> None:
        """A stand-in ``az`` that prints what ``az account get-access-token`` prints, and logs its arguments."""
        script = os.path.join(self.bin_dir, "az")
        body = f"""#!{sys.executable}
import json, sys, time
with open({self.az_log!r}, "a", encoding="utf-8") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:3] != ["account", "get-access-token"]:
    sys.stderr.write("stand-in az: only 'account get-access-token' is supported\\n")
    sys.exit(2)
expires = int(time.time()) + 3600
print(json.dumps({{
    "accessToken": {self.token!r},
    "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
    "expires_on": expires,
    "subscription": "00000000-0000-0000-0000-000000000000",
    "tenant": {TENANT!r},
    "tokenType": "Bearer",
}}))
"""
        with open(script, "w", encoding="utf-8") as f:
            f.write(body)
        os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for the tool: ``base`` minus ``AZURE_*``, plus the endpoint, the CA and the stand-in ``az``."""
        out = {k: v for k, v in (base or {}).items() if not k.startswith("AZURE_")}
        out.update(
            {
                "RESIDENCY_AUDIT_AZURE_ENDPOINT": self.url,
                "REQUESTS_CA_BUNDLE": self.ca_path,
                "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential",
                "PATH": self.bin_dir + os.pathsep + (base or {}).get("PATH", os.defpath),
                # the real az reads its config from here; the stand-in ignores it, but never the developer's own
                "AZURE_CONFIG_DIR": os.path.join(self._tmp or "", "azure-config"),
            }
        )
        return out

    def az_calls(self) -> list[str]:
        """The argument lines the stand-in ``az`` was called with since the last reset."""
        if not os.path.exists(self.az_log):
            return []
        with open(self.az_log, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]

    # -- faults and the request log ----------------------------------------------------------------------------

    def add_fault(
        self,
        method: str | None = None,
        pattern: str | None = None,
        subscription: str | None = None,
        *,
        status: int = 403,
        code: str = "AuthorizationFailed",
        message: str = "Injected fault",
        retry_after: int | None = None,
        times: int | None = None,
        mode: FaultMode = "error",
        delay: float = 0.0,
    ) -> Fault:
        """Answer matching requests with ``status`` and an ARM error body; the first live matching rule wins.

        Other ``mode``s: ``reset`` drops the connection with a TCP RST; ``timeout`` holds the request ``delay``
        seconds (0: 600) and closes without answering; ``truncate`` sends the real answer's headers and half its
        body; ``malformed`` answers 200 with a body that is not JSON.
        """
        return self._add_fault(
            Fault(method, pattern, subscription, status, code, message, retry_after, times, mode=mode, delay=delay),
            mode,
        )

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """Requests per (method, path pattern), retries and failures included."""
        with self._lock:
            return Counter((r.method, r.pattern) for r in self._requests)

    # -- answering ---------------------------------------------------------------------------------------------

    def _page(self, items: list[dict[str, Any]], url: str, query: dict[str, list[str]], base: str) -> dict[str, Any]:
        start = int(query.get("$skiptoken", ["0"])[0] or 0)
        top = query.get("$top", [""])[0]
        size = int(top) if top else None
        if self.page_size is not None:
            size = min(size or self.page_size, self.page_size)
        page = items[start:] if size is None else items[start : start + size]
        out: dict[str, Any] = {"value": page}
        if size is not None and start + size < len(items):
            q = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(start + size)
            out["nextLink"] = f"{base}{url}?{urlencode(q)}"
        return out

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """One request → (status, extra headers, JSON body)."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        pattern = _pattern(path)
        sub = _subscription_of(path)
        request: dict[str, Any] = {}
        if method == "POST" and body:
            try:
                request = json.loads(body)
            except ValueError:
                request = {}
        subs = [sub] if sub else [str(s) for s in request.get("subscriptions", [])]
        auth = headers.get("authorization", "")

        def done(status: int, extra: dict[str, str], doc: Any) -> tuple[int, dict[str, str], Any]:
            with self._lock:
                self._requests.append(RequestRecord(method, pattern, path, sub, status))
            return status, extra, doc

        if auth != f"Bearer {self.token}":
            return done(
                401,
                {
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="The authentication failed"'
                },
                _error(
                    "InvalidAuthenticationToken" if auth else "AuthenticationFailed",
                    "The access token is invalid."
                    if auth
                    else "Authentication failed. The 'Authorization' header is missing.",
                ),
            )
        if "api-version" not in query:
            return done(400, {}, _error("MissingApiVersionParameter", "The api-version query parameter is required."))
        fault = self.live_fault(lambda f: f.matches(method, pattern, subs))
        if fault is not None and fault.mode == "error":
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return done(fault.status, extra, _error(fault.code, fault.message))
        try:
            status, doc = self._route(method, path, query, request, split.path)
        except KeyError as exc:
            status, doc = 404, _error("ResourceNotFound", f"The resource {exc.args[0]} was not found.")
        # a fault on the wire rather than in the answer: the handler reads (and removes) these two keys
        extra = {_FAULT_MODE: fault.mode, _FAULT_DELAY: str(fault.delay)} if fault is not None else {}
        return done(status, extra, doc)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], request: dict[str, Any], raw_path: str
    ) -> tuple[int, Any]:
        low = path.lower()
        parts = [p for p in path.split("/") if p]
        lparts = [p.lower() for p in parts]
        if method == "POST":
            if low == GRAPH_PATH:
                return self._graph(request)
            return 405, _error("MethodNotAllowed", "Only the Resource Graph query is a POST here.")
        if method != "GET":
            return 405, _error("MethodNotAllowed", f"{method} is not served by this test endpoint.")
        with self._lock:
            subscriptions = dict(self._subscriptions)
            resources = dict(self._resources)
            groups = {k: dict(v) for k, v in self._groups.items()}
            children = dict(self._children)
        if lparts == ["subscriptions"]:
            return 200, self._page(list(subscriptions.values()), raw_path, query, self.url)
        if len(parts) < 2 or lparts[0] != "subscriptions":
            raise KeyError(path)
        sub = parts[1]
        if sub not in subscriptions:
            return 404, _error("SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        if len(parts) == 2:
            return 200, subscriptions[sub]
        if lparts[2:] == ["resourcegroups"]:
            return 200, self._page(list(groups.get(sub, {}).values()), raw_path, query, self.url)
        if lparts[2:] == ["resources"]:
            items = [r for k, r in resources.items() if k.startswith(f"/subscriptions/{sub.lower()}/")]
            wanted = re.findall(r"resourceType eq '([^']+)'", query.get("$filter", [""])[0], re.IGNORECASE)
            if wanted:
                items = [r for r in items if _norm_type(r["type"]) in {_norm_type(w) for w in wanted}]
            brief = [
                {k: r[k] for k in ("id", "name", "type", "location", "tags", "kind", "sku") if k in r} for r in items
            ]
            return 200, self._page(brief, raw_path, query, self.url)
        if lparts[2] == "providers" and len(parts) == 5:
            rtype = f"{parts[3]}/{parts[4]}".lower()
            items = [
                r
                for k, r in resources.items()
                if k.startswith(f"/subscriptions/{sub.lower()}/") and _norm_type(r["type"]) == rtype
            ]
            return 200, self._page(items, raw_path, query, self.url)
        if low in resources:
            return 200, resources[low]
        parent, _, kind = low.rpartition("/")
        if parent.endswith("/encryptionprotector") and kind == "current":
            found = children.get((parent.rsplit("/", 1)[0], "encryptionProtector"))
            if not found:
                raise KeyError(path)
            return 200, found[0]
        if kind in ("databases", "images", "versions") and parent in resources:  # child resources listed by id
            depth = parent.count("/") + 2
            items = [r for k, r in resources.items() if k.startswith(f"{parent}/{kind}/") and k.count("/") == depth]
            return 200, self._page(items, raw_path, query, self.url)
        if kind == "instancefailovergroups":  # listed per resource group and location, not under a resource
            return 200, self._page(
                list(children.get((parent, "instanceFailoverGroups"), [])), raw_path, query, self.url
            )
        for child_kind in CHILD_LISTS:
            if kind == child_kind.lower() and parent in resources:
                return 200, self._page(list(children.get((parent, child_kind), [])), raw_path, query, self.url)
        raise KeyError(path)

    def _graph(self, request: dict[str, Any]) -> tuple[int, Any]:
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryResponse

        try:
            parsed = QueryRequest.deserialize(request)
        except Exception as exc:  # the same answer the service gives a malformed body
            return 400, _error("BadRequest", f"Invalid query request: {exc}")
        if not parsed.query:
            return 400, _error("BadRequest", "The query is empty.")
        types = re.findall(r"'([a-z0-9.]+/[a-z0-9./]+)'", parsed.query.lower())
        query = " ".join(parsed.query.split()).lower()
        # the two shapes the tool sends: a type filter, or every type with properties only for some
        every_type = "extend properties = iff(type in~ (" in query and "dynamic(null)" in query
        if not query.startswith("resources |") or not types or (not every_type and "where type in~ (" not in query):
            return 400, _error("BadRequest", "This test endpoint understands `resources | where type in~ (...)`.")
        subs = {s.lower() for s in (parsed.subscriptions or [])}
        with self._lock:
            rows = [
                _graph_row(r) if _norm_type(r["type"]) in types else _graph_row(r) | {"properties": None}
                for k, r in sorted(self._resources.items())
                if k.split("/")[2] in subs and (every_type or _norm_type(r["type"]) in types)
            ]
        options = parsed.options
        start = int(options.skip_token) if options and options.skip_token else 0
        size = options.top if options and options.top else 100
        if self.page_size is not None:
            size = min(size, self.page_size)
        page = rows[start : start + size]
        response = QueryResponse(
            total_records=len(rows),
            count=len(page),
            result_truncated="false",
            skip_token=str(start + size) if start + size < len(rows) else None,
            data=page,
        )
        return 200, response.serialize(keep_readonly=True)
