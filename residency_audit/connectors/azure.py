"""Azure connector: storage accounts, Cosmos DB, SQL databases, PostgreSQL/MySQL flexible servers, disks, snapshots.

Every subscription the credential can see (or those named), in the public, China (21Vianet) or US Government cloud.

Read-only: every request is a Resource Manager GET, or the Resource Graph query (a POST that only reads). The azure
SDKs are imported lazily, inside the tasks, so `--help` imports none.

**Calls.** One azure-core pipeline (bearer token from `DefaultAzureCredential`, retries honouring Retry-After, one
pooled HTTPS session) sends plain Resource Manager requests; no typed `azure-mgmt-*` client is used:

* the Resource Graph answer is JSON in the Resource Manager shape, so one parser per resource type, fed by either
  inventory path, is what guarantees that both paths report the same footprints;
* the fields the tool reads (`sku`, `secondaryLocation`, `locations`, `backup`, `encryption`, …) are stable across
  API versions, and the versions are pinned below, so typed models would add seven packages (azure-mgmt-compute
  alone is large), 0.13–0.19 s of import each and a pipeline and token cache per client, for no extra safety;
* an `ARMPipelineClient` (what typed clients use) adds the auto-registration policy, which answers a 409
  MissingSubscriptionRegistration by *registering* the resource provider: a write this tool must never make.

**Inventory.** By default one Resource Graph query (`resources | where type in~ (...)`, `$skipToken` paging, 1,000
rows a page, subscriptions in batches of 1,000) returns every data store of every subscription with its full
`properties`: a handful of requests for the whole estate. Where Graph cannot be used (denied, throttled past
retries, unavailable) the scan falls back by itself to Resource Manager lists, one per subscription and type
(`--no-resource-graph` asks for that path), and logs why. What Graph does not hold is read per parent, the same way
on both paths, and memoised: an Azure SQL server's failover groups, replication links (one list per server, not per
database) and TDE protector; a flexible server's replicas (only for servers whose role says they have some) and a
replica's source server.

**Footprints.** Paired regions (geo-redundant storage without a reported secondary, SQL geo-redundant backups,
flexible servers' geo-redundant backups, Cosmos DB periodic geo backups) come from the knowledge base with a note
saying so; a storage account's reported `secondaryLocation` is always kept and cross-checked against the knowledge
base's pair (a disagreement is a note on the copy). A copy whose place is known by neither is "unknown".
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ..pipeline import Task
from .common import CLIENT_SIDE_TAG, UNKNOWN_LOCATION, Memo, declared_key_control, dedupe_places

SERVICES = ("storage-account", "cosmosdb", "sql-database", "postgresql-flexible", "mysql-flexible", "disk", "snapshot")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cloud:
    endpoint: str
    audience: str  # the token scope: the cloud's Resource Manager, whatever endpoint requests go to
    authority: str


CLOUDS = {
    "public": _Cloud(
        "https://management.azure.com", "https://management.azure.com/.default", "login.microsoftonline.com"
    ),
    "china": _Cloud(
        "https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default", "login.chinacloudapi.cn"
    ),
    "usgov": _Cloud(
        "https://management.usgovcloudapi.net",
        "https://management.usgovcloudapi.net/.default",
        "login.microsoftonline.us",
    ),
}


@dataclass(frozen=True)
class _Kind:
    """One resource type: its ARM type, the API version we read it with, and how Resource Manager lists it."""

    service: str
    type: str
    api_version: str


_KINDS = {
    k.service: k
    for k in (
        _Kind("storage-account", "Microsoft.Storage/storageAccounts", "2023-05-01"),
        _Kind("cosmosdb", "Microsoft.DocumentDB/databaseAccounts", "2024-11-15"),
        # databases are children of servers: Resource Manager lists servers, then each server's databases
        _Kind("sql-database", "Microsoft.Sql/servers/databases", "2021-11-01"),
        _Kind("postgresql-flexible", "Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01"),
        _Kind("mysql-flexible", "Microsoft.DBforMySQL/flexibleServers", "2023-12-30"),
        _Kind("disk", "Microsoft.Compute/disks", "2024-03-02"),
        _Kind("snapshot", "Microsoft.Compute/snapshots", "2024-03-02"),
    )
}
_BY_TYPE = {k.type.lower(): k for k in _KINDS.values()}
_SQL_SERVERS = "Microsoft.Sql/servers"
_SUBSCRIPTIONS_API = "2022-12-01"
_GRAPH_API = "2022-10-01"
_GRAPH_PAGE = 1000  # the most rows Resource Graph returns a page
_GRAPH_SUBSCRIPTIONS = 1000  # the most subscriptions one Resource Graph request may name
_GEO_SKUS = {"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"}
# Warned and PastDue subscriptions are still active and hold data; Disabled and Deleted ones are not scanned.
_ACTIVE_STATES = {"enabled", "warned", "pastdue"}
_RETRY_AFTER_CAP = 60.0  # seconds: wait no longer than this for one Retry-After, however long the server asks


@dataclass(frozen=True)
class AzureOptions:
    """What to scan and how."""

    cloud: str = "public"  # public | china | usgov
    endpoint: str | None = None  # Resource Manager URL override (private endpoints, tests); keeps the cloud's audience
    subscriptions: tuple[str, ...] = ()  # empty: every enabled subscription the credential sees
    resource_graph: bool = True
    services: tuple[str, ...] = ()  # empty: every service
    classification_tag: str = "data-classification"
    concurrency: int = 16
    timeout: float = 30.0
    max_retries: int = 4


def tasks(options: AzureOptions) -> Iterator[Task]:
    """The root task of an Azure scan: it finds the subscriptions and yields the rest."""
    yield Task(Provider.AZURE, "azure", lambda: _start(options), describe_error)


def describe_error(exc: BaseException) -> str:
    """A one-line, credential-free reason for a failed Azure call: no response body, redacted as `--debug` logs are."""
    from ..logs import redact_reason

    return redact_reason(_describe_error(exc))


def _describe_error(exc: BaseException) -> str:
    from azure.core.exceptions import (
        ClientAuthenticationError,
        DecodeError,
        HttpResponseError,
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, IncompleteReadError):
        return _one_line(f"response cut short (connection broken mid-body): {exc.message or exc}")
    if isinstance(exc, DecodeError):
        return _one_line(f"malformed response body (not JSON): {exc.message or exc}")
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, message = "Error", exc.message or ""
        if exc.error is not None:
            code, message = exc.error.code or code, exc.error.message or message
        method = getattr(getattr(exc.response, "request", None), "method", "")
        return _one_line(f"{code} (HTTP {exc.status_code}{' on ' + method if method else ''}): {message}")
    if isinstance(exc, ClientAuthenticationError):
        # no response: the credential chain itself failed (DefaultAzureCredential lists what it tried)
        detail = str(exc.message or exc).split("To mitigate")[0]
        return _one_line(
            "no Azure credentials: sign in with `az login`, or set a service principal, workload or managed "
            f"identity (DefaultAzureCredential: {detail})"
        )
    if isinstance(exc, ServiceRequestError):
        return _one_line(f"endpoint unreachable: {exc.message or exc}")
    if isinstance(exc, ServiceResponseError):
        return _one_line(f"no complete response (timed out or connection dropped): {exc.message or exc}")
    return _one_line(f"{type(exc).__name__}: {exc}")


_SECRET = re.compile(r"(?i)(bearer\s+|access_?token[\"':= ]+|sig=|client_secret[\"':= ]+)[A-Za-z0-9._~+/=%-]+")


def _one_line(text: str, limit: int = 400) -> str:
    text = _SECRET.sub(r"\1<redacted>", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the Resource Manager client ---------------------------------------------------------------------------------


class _CachedCredential:
    """One token for the whole scan, fetched once even when every worker asks at once.

    azure-core's bearer policy keeps no lock, so 16 workers starting together would each run `az` (or probe the
    managed-identity endpoint). A failure is remembered too: a missing login fails the scan once, not per task.
    """

    def __init__(self, credential: Any) -> None:
        self._credential = credential
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], Any] = {}
        self._failure: BaseException | None = None

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any) -> Any:
        """A cached access token for `scopes`; a claims challenge or another tenant always asks afresh."""
        if claims or tenant_id:
            return self._credential.get_token(*scopes, claims=claims, tenant_id=tenant_id, **kwargs)
        with self._lock:
            if self._failure is not None:
                raise self._failure
            token = self._tokens.get(scopes)
            if token is None or token.expires_on - time.time() < 300:
                try:
                    token = self._credential.get_token(*scopes, **kwargs)
                except Exception as exc:
                    self._failure = exc
                    raise
                self._tokens[scopes] = token
            return token


class _Arm:
    """The pipeline, the scan's options, and the lookups shared by every task."""

    def __init__(self, options: AzureOptions) -> None:
        import requests
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            ContentDecodePolicy,
            HeadersPolicy,
            ProxyPolicy,
            RedirectPolicy,
            RetryPolicy,
            UserAgentPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport
        from azure.identity import DefaultAzureCredential

        if options.cloud not in CLOUDS:
            raise ValueError(f"unknown Azure cloud {options.cloud!r} (public, china or usgov)")
        cloud = CLOUDS[options.cloud]
        self.options = options
        self.endpoint = (options.endpoint or cloud.endpoint).rstrip("/")
        self.audience = cloud.audience
        self.credential = _CachedCredential(DefaultAzureCredential(authority=cloud.authority))

        class _Retry(RetryPolicy):  # type: ignore[type-arg]
            def get_retry_after(self, response: Any) -> float | None:
                after = super().get_retry_after(response)
                return None if after is None else min(float(after), _RETRY_AFTER_CAP)

        # One pooled session for every worker: a pool as large as the concurrency, so no request waits for (or
        # drops) a kept-alive TLS connection. requests honours REQUESTS_CA_BUNDLE and the proxy variables.
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=max(10, options.concurrency), max_retries=0
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        transport = RequestsTransport(session=session, connection_timeout=options.timeout, read_timeout=options.timeout)
        transport.open()  # before the workers start: RequestsTransport.open() is not thread-safe
        self.client: Any = PipelineClient(
            base_url=self.endpoint,
            transport=transport,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy(sdk_moniker="residency-audit"),
                ProxyPolicy(),
                RedirectPolicy(),
                _Retry(
                    retry_total=options.max_retries,
                    retry_status=options.max_retries,
                    retry_backoff_factor=0.5,
                    retry_backoff_max=30,
                ),
                # inside the retry policy: a body that does not decode (cut short, not JSON) is retried
                ContentDecodePolicy(),
                BearerTokenCredentialPolicy(self.credential, self.audience),
            ],
        )
        self.sql_server = Memo(self._sql_server)
        self.server_location = Memo(self._server_location)
        self.replicas = Memo(self._replicas)

    def _send(self, method: str, url: str, params: dict[str, str], body: Any = None) -> dict[str, Any]:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, url, params=params, json=body)
        # The Resource Graph query is a POST but reads only, so it may be retried like a GET.
        options = {"retry_on_methods": frozenset({"GET", "POST"})} if method == "POST" else {}
        response = self.client.send_request(request, **options)
        if response.status_code >= 400:
            # the default (OData v4) error format reads ARM's {"error": {"code", "message"}} body
            error_type = {401: ClientAuthenticationError, 404: ResourceNotFoundError}.get(
                response.status_code, HttpResponseError
            )
            raise error_type(response=response)
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def url(self, path: str) -> str:
        return self.endpoint + path

    def get(self, path: str, api_version: str) -> dict[str, Any]:
        """GET one Resource Manager object."""
        return self._send("GET", self.url(path), {"api-version": api_version})

    def pages(self, path: str, api_version: str) -> Iterator[dict[str, Any]]:
        """Every item of a Resource Manager list, following nextLink (which carries its own query)."""
        page = self._send("GET", self.url(path), {"api-version": api_version})
        while True:
            yield from page.get("value") or []
            link = page.get("nextLink")
            if not link:
                return
            # a nextLink normally carries the api-version; add it where one does not, or ARM answers 400
            page = self._send("GET", link, {} if "api-version=" in link else {"api-version": api_version})

    def graph(self, subscriptions: list[str], types: list[str]) -> list[dict[str, Any]]:
        """Every row of one Resource Graph query over `subscriptions`, all pages, or an exception."""
        quoted = ", ".join(f"'{t.lower()}'" for t in types)
        query = (
            f"resources | where type in~ ({quoted}) "
            "| project id, name, type, location, subscriptionId, kind, sku, tags, properties"
        )
        rows: list[dict[str, Any]] = []
        for i in range(0, len(subscriptions), _GRAPH_SUBSCRIPTIONS):
            batch = subscriptions[i : i + _GRAPH_SUBSCRIPTIONS]
            token: str | None = None
            while True:
                options: dict[str, Any] = {"$top": _GRAPH_PAGE, "resultFormat": "objectArray"}
                if token:
                    options["$skipToken"] = token
                answer = self._send(
                    "POST",
                    self.url("/providers/Microsoft.ResourceGraph/resources"),
                    {"api-version": _GRAPH_API},
                    {"subscriptions": batch, "query": query, "options": options},
                )
                data = answer.get("data") or []
                if isinstance(data, dict):  # the table format: columns and rows
                    names = [c["name"] for c in data.get("columns", [])]
                    data = [dict(zip(names, row, strict=False)) for row in data.get("rows", [])]
                rows.extend(data)
                token = answer.get("$skipToken")
                if not token:
                    if str(answer.get("resultTruncated", "false")).lower() == "true":
                        raise RuntimeError("Resource Graph truncated its answer and gave no $skipToken")
                    break
        return rows

    # --- memoised lookups (shared by both inventory paths) -------------------------------------------------------

    def _sql_server(self, server_id: str) -> _SqlServer:
        api = _KINDS["sql-database"].api_version
        groups: list[dict[str, Any]] | BaseException
        links: list[dict[str, Any]] | BaseException
        try:
            groups = list(self.pages(f"{server_id}/failoverGroups", api))
        except Exception as exc:
            groups = exc
        try:
            links = list(self.pages(f"{server_id}/replicationLinks", api))
        except Exception as exc:
            links = exc
        try:
            protector = self.get(f"{server_id}/encryptionProtector/current", api).get("properties") or {}
            key = _sql_key(protector)
        except Exception as exc:
            key = (KeyControl.UNKNOWN, f"TDE protector of the server unreadable: {describe_error(exc)}")
        return _SqlServer(groups, links, key)

    def _server_location(self, arg: tuple[str, str]) -> str:
        server_id, api = arg
        return str(self.get(server_id, api)["location"])

    def _replicas(self, arg: tuple[str, str]) -> list[dict[str, Any]]:
        server_id, api = arg
        return list(self.pages(f"{server_id}/replicas", api))


@dataclass(frozen=True)
class _SqlServer:
    """What a SQL server tells about its databases' other copies and keys (an exception where unreadable)."""

    failover_groups: list[dict[str, Any]] | BaseException
    replication_links: list[dict[str, Any]] | BaseException
    key: tuple[KeyControl, str]


# --- subscriptions and inventory ---------------------------------------------------------------------------------


def _quiet_sdk_logs() -> None:
    # azure-identity logs every failed credential at WARNING, several lines each; the scan reports the failure
    # itself (as a skip with its reason), so leave those logs to a user who configures logging on purpose.
    for name in ("azure.identity", "azure.core.pipeline.policies.http_logging_policy"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


def _start(options: AzureOptions) -> Iterator[Task | Skip]:
    _quiet_sdk_logs()
    arm = _Arm(options)
    # Fetch the token here, once: a missing login is then one skip for the whole scan, not one per task.
    arm.credential.get_token(arm.audience)
    if options.subscriptions:
        subscriptions = list(options.subscriptions)
    else:
        subscriptions = [
            str(s["subscriptionId"])
            for s in arm.pages("/subscriptions", _SUBSCRIPTIONS_API)
            if str(s.get("state", "Enabled")).lower() in _ACTIVE_STATES
        ]
    if not subscriptions:
        yield Skip(Provider.AZURE, "azure", "the credential sees no enabled subscription: nothing was scanned")
        return
    services = [s for s in SERVICES if not options.services or s in options.services]
    if options.resource_graph:
        yield Task(
            Provider.AZURE,
            "resource-graph",
            functools.partial(_graph_inventory, arm, subscriptions, services),
            describe_error,
        )
    else:
        yield from _arm_inventory(arm, subscriptions, services)


def _arm_inventory(arm: _Arm, subscriptions: list[str], services: list[str]) -> Iterator[Task]:
    for sub in subscriptions:
        for service in services:
            kind = _KINDS[service]
            listed = _SQL_SERVERS if service == "sql-database" else kind.type
            yield Task(
                Provider.AZURE,
                f"subscription/{sub}/type/{listed}",
                functools.partial(_arm_list, arm, sub, kind),
                describe_error,
            )


def _graph_inventory(arm: _Arm, subscriptions: list[str], services: list[str]) -> Iterator[Resource | Skip | Task]:
    try:
        rows = arm.graph(subscriptions, [_KINDS[s].type for s in services])
    except Exception as exc:
        # Graph is an accelerator, not a requirement: the same inventory, per subscription, through Resource Manager.
        _log.warning(
            "Azure Resource Graph unavailable (%s): listing each subscription through Resource Manager instead",
            describe_error(exc),
        )
        yield from _arm_inventory(arm, subscriptions, services)
        return
    by_server: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kind = _BY_TYPE.get(str(row.get("type", "")).lower())
        if kind is None:
            continue
        if kind.service == "sql-database":
            by_server.setdefault(_parent_id(str(row["id"])), []).append(row)
        else:
            yield from _items(arm, kind, _subscription_of(str(row["id"])), [row])
    for server_id, databases in by_server.items():
        yield _sql_task(arm, _subscription_of(server_id), server_id, databases)


def _arm_list(arm: _Arm, sub: str, kind: _Kind) -> Iterator[Resource | Skip | Task]:
    if kind.service == "sql-database":
        for server in arm.pages(f"/subscriptions/{sub}/providers/{_SQL_SERVERS}", kind.api_version):
            yield _sql_task(arm, sub, str(server["id"]), None)
        return
    items = list(arm.pages(f"/subscriptions/{sub}/providers/{kind.type}", kind.api_version))
    yield from _items(arm, kind, sub, items)


def _items(arm: _Arm, kind: _Kind, sub: str, items: Iterable[dict[str, Any]]) -> Iterator[Resource | Skip | Task]:
    """Resources from listed items; items that need more reading become tasks of their own."""
    for item in items:
        if kind.service == "storage-account":
            yield _storage_account(arm, sub, item)
        elif kind.service == "cosmosdb":
            yield _cosmosdb(arm, sub, item)
        elif kind.service in ("disk", "snapshot"):
            yield _disk(arm, kind, sub, item)
        elif _flexible_needs_lookups(kind, item):
            yield Task(
                Provider.AZURE,
                str(item["id"]).lstrip("/"),
                functools.partial(_flexible, arm, kind, sub, item),
                describe_error,
            )
        else:
            yield from _flexible(arm, kind, sub, item)


# --- shared helpers ----------------------------------------------------------------------------------------------


def _subscription_of(rid: str) -> str:
    parts = rid.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def _parent_id(rid: str) -> str:
    return rid.rsplit("/", 2)[0]


def _name_of(rid: str | None) -> str:
    return (rid or "").rstrip("/").rsplit("/", 1)[-1]


def _props(item: dict[str, Any]) -> dict[str, Any]:
    props = item.get("properties")
    return props if isinstance(props, dict) else {}


def _kb_pair(location: str) -> tuple[str | None, str]:
    """The knowledge base's paired region of `location` and the location's canonical code."""
    from ..knowledge import load

    loc = load().resolve(Provider.AZURE, location)
    if loc is None:
        return None, location
    return loc.paired_region, loc.code


def _azure_place(code: str) -> str:
    """What place an Azure location names: codes and display names ("West Europe") of one region are one place."""
    from ..knowledge import load

    loc = load().resolve(Provider.AZURE, code)
    return loc.code if loc is not None else "".join(code.split()).lower()


def _paired_copy(location: str, what: str) -> Copy:
    """A copy kept in `location`'s paired region, which the API does not name: the knowledge base's pair."""
    pair, code = _kb_pair(location)
    if pair:
        return Copy(pair, CopyRole.REPLICA, note=f"{what}: the paired region of {code}, from the knowledge base")
    return Copy(
        UNKNOWN_LOCATION,
        CopyRole.REPLICA,
        note=f"{what}: the API names no region and the knowledge base records no pair for {code}",
    )


def _tags(item: dict[str, Any]) -> dict[str, str]:
    tags = item.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def _resource(
    arm: _Arm,
    service: str,
    rtype: str,
    sub: str,
    item: dict[str, Any],
    footprint: Iterable[Copy],
    key: tuple[KeyControl, str],
) -> Resource:
    tags = _tags(item)
    key_control, key_note = declared_key_control(tags, CLIENT_SIDE_TAG, key)
    return Resource(
        provider=Provider.AZURE,
        account=sub,
        service=service,
        type=rtype,  # the canonical ARM type (Resource Graph returns it lower-case)
        id=str(item["id"]),
        name=str(item.get("name") or _name_of(item["id"])),
        footprint=tuple(dedupe_places(footprint, _azure_place)),
        key_control=key_control,
        key_note=key_note,
        tags=tags,
        classification=tags.get(arm.options.classification_tag),
    )


# --- storage accounts --------------------------------------------------------------------------------------------


def _storage_account(arm: _Arm, sub: str, item: dict[str, Any]) -> Resource:
    props = _props(item)
    location = str(props.get("primaryLocation") or item.get("location") or UNKNOWN_LOCATION)
    sku = str((item.get("sku") or {}).get("name") or "")
    footprint = [Copy(location, CopyRole.PRIMARY)]
    if sku in _GEO_SKUS:
        footprint.append(_storage_secondary(location, sku, props.get("secondaryLocation")))
    encryption = props.get("encryption") or {}
    source = str(encryption.get("keySource") or "")
    if source.lower() == "microsoft.keyvault":
        vault = encryption.get("keyvaultproperties") or encryption.get("keyVaultProperties") or {}
        where = vault.get("keyvaulturi") or vault.get("keyVaultUri") or "Key Vault"
        name = vault.get("keyname") or vault.get("keyName") or "?"
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {name} in {where}")
    elif source.lower() == "microsoft.storage" or not encryption:
        key = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (keySource Microsoft.Storage)")
    else:
        key = (KeyControl.UNKNOWN, f"unrecognised encryption keySource {source!r}")
    return _resource(arm, "storage-account", _KINDS["storage-account"].type, sub, item, footprint, key)


def _storage_secondary(location: str, sku: str, reported: Any) -> Copy:
    pair, code = _kb_pair(location)
    what = f"geo-redundant SKU {sku}"
    if reported:
        secondary = str(reported)
        note = f"{what}: secondary region reported by the API"
        if pair is None:
            note += f"; the knowledge base records no pair for {code}"
        elif _azure_place(pair) != _azure_place(secondary):
            note += (
                f"; the knowledge base pairs {code} with {pair}, not {secondary}: the API's value is used "
                "(the knowledge base may need an update)"
            )
        return Copy(secondary, CopyRole.REPLICA, note=note)
    return _paired_copy(location, f"{what}, but the API reported no secondaryLocation")


# --- Cosmos DB ---------------------------------------------------------------------------------------------------


def _cosmosdb(arm: _Arm, sub: str, item: dict[str, Any]) -> Resource:
    props = _props(item)
    locations = sorted(props.get("locations") or [], key=lambda loc: int(loc.get("failoverPriority") or 0))
    writes = {str(w.get("locationName")) for w in props.get("writeLocations") or []}
    footprint: list[Copy] = []
    for loc in locations:
        name = str(loc.get("locationName") or UNKNOWN_LOCATION)
        priority = loc.get("failoverPriority")
        if not footprint:
            footprint.append(Copy(name, CopyRole.PRIMARY, note=f"failover priority {priority}"))
        else:
            extra = ", a write region" if name in writes else ""
            footprint.append(Copy(name, CopyRole.REPLICA, note=f"replica region (failover priority {priority}{extra})"))
    if not footprint:
        footprint.append(Copy(str(item.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY))
    backup = props.get("backupPolicy") or {}
    periodic = backup.get("periodicModeProperties") or {}
    if str(backup.get("type", "")).lower() == "periodic" and str(
        periodic.get("backupStorageRedundancy", "")
    ).lower() in ("geo", "geozone"):
        footprint.append(_paired_copy(footprint[0].code, "periodic backups in geo-redundant storage"))
    uri = props.get("keyVaultKeyUri")
    key = (
        (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {uri}")
        if uri
        else (KeyControl.PROVIDER_MANAGED, "service-managed keys (Cosmos DB default)")
    )
    return _resource(arm, "cosmosdb", _KINDS["cosmosdb"].type, sub, item, footprint, key)


# --- Azure SQL ---------------------------------------------------------------------------------------------------


def _sql_task(arm: _Arm, sub: str, server_id: str, databases: list[dict[str, Any]] | None) -> Task:
    return Task(
        Provider.AZURE,
        server_id.lstrip("/"),
        functools.partial(_sql_databases, arm, sub, server_id, databases),
        describe_error,
    )


def _sql_key(protector: dict[str, Any]) -> tuple[KeyControl, str]:
    kind = str(protector.get("serverKeyType") or "")
    if kind == "AzureKeyVault":
        return KeyControl.CUSTOMER_MANAGED, f"TDE with a customer-managed key {protector.get('uri') or ''}".strip()
    if kind == "ServiceManaged":
        return KeyControl.PROVIDER_MANAGED, "TDE with a service-managed key"
    return KeyControl.UNKNOWN, f"unrecognised TDE protector type {kind!r}"


def _sql_databases(
    arm: _Arm, sub: str, server_id: str, databases: list[dict[str, Any]] | None
) -> Iterator[Resource | Skip]:
    kind = _KINDS["sql-database"]
    if databases is None:  # the Resource Manager path lists them; Resource Graph already did
        databases = list(arm.pages(f"{server_id}/databases", kind.api_version))
    # `master` holds the server's logins and metadata, not customer data; the real API lists it with the others.
    databases = [d for d in databases if not _is_system_db(d)]
    if not databases:
        return
    server: _SqlServer = arm.sql_server.get(server_id)
    for name, found in (("failoverGroups", server.failover_groups), ("replicationLinks", server.replication_links)):
        if isinstance(found, BaseException) and arm.sql_server.first_failure((server_id, name)):
            yield Skip(
                Provider.AZURE,
                f"{server_id.lstrip('/')}/{name}",
                f"other copies of this server's databases unknown: {describe_error(found)}",
            )
    for db in databases:
        yield _sql_database(arm, sub, db, server)


def _is_system_db(db: dict[str, Any]) -> bool:
    return str(db.get("name", "")).lower() == "master" or "system" in str(db.get("kind", "")).lower()


def _sql_database(arm: _Arm, sub: str, db: dict[str, Any], server: _SqlServer) -> Resource:
    props = _props(db)
    db_id = str(db["id"]).lower()
    db_name = str(db.get("name") or _name_of(db_id)).lower()
    footprint = [Copy(str(db.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY)]
    if isinstance(server.failover_groups, list):
        for group in server.failover_groups:
            gprops = _props(group)
            if db_id not in {str(d).lower() for d in gprops.get("databases") or []}:
                continue
            for partner in gprops.get("partnerServers") or []:
                footprint.append(
                    Copy(
                        str(partner.get("location") or UNKNOWN_LOCATION),
                        CopyRole.REPLICA,
                        note=f"failover group {group.get('name')}: partner server {_name_of(partner.get('id'))} "
                        f"({partner.get('replicationRole', '?')})",
                    )
                )
    if isinstance(server.replication_links, list):
        for link in server.replication_links:
            link_id = str(link.get("id", "")).lower()
            if f"/databases/{db_name}/replicationlinks/" not in link_id:
                continue
            lprops = _props(link)
            footprint.append(
                Copy(
                    str(lprops.get("partnerLocation") or UNKNOWN_LOCATION),
                    CopyRole.REPLICA,
                    note=f"geo-replication link ({lprops.get('role', '?')}) with "
                    f"{lprops.get('partnerServer', '?')}/{lprops.get('partnerDatabase', '?')}",
                )
            )
    redundancy = {
        str(props.get(k) or "") for k in ("currentBackupStorageRedundancy", "requestedBackupStorageRedundancy")
    }
    geo = sorted(r for r in redundancy if r.lower() in ("geo", "geozone"))
    if geo:
        footprint.append(_paired_copy(footprint[0].code, f"backups in geo-redundant storage ({'/'.join(geo)})"))
    key = server.key
    if props.get("encryptionProtector"):
        key = (KeyControl.CUSTOMER_MANAGED, f"database-level TDE customer-managed key {props['encryptionProtector']}")
    return _resource(arm, "sql-database", _KINDS["sql-database"].type, sub, db, footprint, key)


# --- PostgreSQL and MySQL flexible servers -----------------------------------------------------------------------

_SOURCE_ROLES = {"primary", "source"}  # the role a server with read replicas reports (PostgreSQL, MySQL)


def _flexible_needs_lookups(kind: _Kind, item: dict[str, Any]) -> bool:
    props = _props(item)
    return bool(props.get("sourceServerResourceId")) or str(props.get("replicationRole", "")).lower() in _SOURCE_ROLES


def _flexible(arm: _Arm, kind: _Kind, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    props = _props(item)
    location = str(item.get("location") or UNKNOWN_LOCATION)
    footprint = [Copy(location, CopyRole.PRIMARY)]
    if str((props.get("backup") or {}).get("geoRedundantBackup", "")).lower() == "enabled":
        footprint.append(_paired_copy(location, "geo-redundant backups"))
    source = props.get("sourceServerResourceId")
    if source:
        try:
            where = arm.server_location.get((str(source), kind.api_version))
            footprint.append(Copy(where, CopyRole.REPLICA, note=f"source server of this replica: {_name_of(source)}"))
        except Exception as exc:
            footprint.append(
                Copy(
                    UNKNOWN_LOCATION,
                    CopyRole.REPLICA,
                    note=f"source server {_name_of(source)} of this replica: region unreadable ({describe_error(exc)})",
                )
            )
    if str(props.get("replicationRole", "")).lower() in _SOURCE_ROLES:
        try:
            for replica in arm.replicas.get((str(item["id"]), kind.api_version)):
                footprint.append(
                    Copy(
                        str(replica.get("location") or UNKNOWN_LOCATION),
                        CopyRole.REPLICA,
                        note=f"read replica {replica.get('name') or _name_of(replica.get('id'))}",
                    )
                )
        except Exception as exc:
            yield Skip(
                Provider.AZURE,
                f"{str(item['id']).lstrip('/')}/replicas",
                f"read replicas unknown: {describe_error(exc)}",
            )
    encryption = props.get("dataEncryption") or {}
    if str(encryption.get("type", "")) == "AzureKeyVault":
        uri = encryption.get("primaryKeyURI") or encryption.get("primaryKeyUri") or ""
        key = (KeyControl.CUSTOMER_MANAGED, f"data encryption with a customer-managed key {uri}".strip())
    else:
        key = (KeyControl.PROVIDER_MANAGED, "data encryption with service-managed keys")
    yield _resource(arm, kind.service, kind.type, sub, item, footprint, key)


# --- managed disks and snapshots ---------------------------------------------------------------------------------


def _disk(arm: _Arm, kind: _Kind, sub: str, item: dict[str, Any]) -> Resource:
    props = _props(item)
    encryption = props.get("encryption") or {}
    etype = str(encryption.get("type") or "")
    des = encryption.get("diskEncryptionSetId")
    if des or etype in ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"):
        key = (
            KeyControl.CUSTOMER_MANAGED,
            f"{etype or 'customer-managed key'} via disk encryption set {_name_of(des)}",
        )
    elif etype in ("EncryptionAtRestWithPlatformKey", ""):
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys")
    else:
        key = (KeyControl.UNKNOWN, f"unrecognised encryption type {etype!r}")
    footprint = [Copy(str(item.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY)]
    return _resource(arm, kind.service, kind.type, sub, item, footprint, key)
