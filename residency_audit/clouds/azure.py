"""Azure connector: storage, Cosmos DB, SQL (databases, managed instances), flexible servers, disks, vaults, Key Vault.

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
database) and TDE protector; a managed instance's failover groups (one list per resource group and location) and
TDE protector; a flexible server's replicas (only for servers whose role says they have some) and a
replica's source server.

**Footprints.** Paired regions (geo-redundant storage without a reported secondary, SQL geo-redundant backups,
flexible servers' geo-redundant backups, Cosmos DB periodic geo backups) come from the knowledge base with a note
saying so; a storage account's reported `secondaryLocation` is always kept and cross-checked against the knowledge
base's pair (a disagreement is a note on the copy). A copy whose place is known by neither is "unknown".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model import KeyControl, Provider
from ..pipeline import Task

if TYPE_CHECKING:
    from ..stores.azure.sql import SqlServer
from ..scan import SERVICES as ALL_SERVICES
from ..stores.common import Memo

SERVICES = ALL_SERVICES["azure"]  # one list, in scan.py, so --help need not import this module

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
class Kind:
    """One resource type: its ARM type, the API version we read it with, and how Resource Manager lists it."""

    service: str
    type: str
    api_version: str


KINDS = {
    k.service: k
    for k in (
        Kind("storage-account", "Microsoft.Storage/storageAccounts", "2023-05-01"),
        Kind("cosmosdb", "Microsoft.DocumentDB/databaseAccounts", "2024-11-15"),
        # databases are children of servers: Resource Manager lists servers, then each server's databases
        Kind("sql-database", "Microsoft.Sql/servers/databases", "2021-11-01"),
        Kind("postgresql-flexible", "Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01"),
        Kind("mysql-flexible", "Microsoft.DBforMySQL/flexibleServers", "2023-12-30"),
        Kind("disk", "Microsoft.Compute/disks", "2024-03-02"),
        Kind("snapshot", "Microsoft.Compute/snapshots", "2024-03-02"),
        # the azure-mgmt-recoveryservices / -dataprotection / -keyvault models' versions (stores/azure/vaults.py,
        # keyvault.py): their fields are read as those models define them
        Kind("recovery-services-vault", "Microsoft.RecoveryServices/vaults", "2026-11-01"),
        Kind("backup-vault", "Microsoft.DataProtection/backupVaults", "2026-06-01"),
        Kind("key-vault", "Microsoft.KeyVault/vaults", "2026-05-15"),
        Kind("managed-hsm", "Microsoft.KeyVault/managedHSMs", "2026-05-15"),
        Kind("sql-managed-instance", "Microsoft.Sql/managedInstances", "2021-11-01"),  # as Azure SQL databases
        Kind("container-registry", "Microsoft.ContainerRegistry/registries", "2025-11-01"),
        Kind("eventhub-namespace", "Microsoft.EventHub/namespaces", "2026-01-01"),
        Kind("servicebus-namespace", "Microsoft.ServiceBus/namespaces", "2026-01-01"),
        Kind("log-analytics-workspace", "Microsoft.OperationalInsights/workspaces", "2025-07-01"),
        Kind("redis-cache", "Microsoft.Cache/Redis", "2024-11-01"),
        # versions are children of images of galleries: Resource Manager lists galleries, then images, then versions
        Kind("gallery-image-version", "Microsoft.Compute/galleries/images/versions", "2024-03-03"),
    )
}
BY_TYPE = {k.type.lower(): k for k in KINDS.values()}
SQL_SERVERS = "Microsoft.Sql/servers"
SUBSCRIPTIONS_API = "2022-12-01"
GRAPH_API = "2022-10-01"
GRAPH_PAGE = 1000  # the most rows Resource Graph returns a page
GRAPH_SUBSCRIPTIONS = 1000  # the most subscriptions one Resource Graph request may name
# Warned and PastDue subscriptions are still active and hold data; Disabled and Deleted ones are not scanned.
ACTIVE_STATES = {"enabled", "warned", "pastdue"}
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
    from ..inventory.resource_graph import start as _start

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
        return one_line(f"response cut short (connection broken mid-body): {exc.message or exc}")
    if isinstance(exc, DecodeError):
        return one_line(f"malformed response body (not JSON): {exc.message or exc}")
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, message = "Error", exc.message or ""
        if exc.error is not None:
            code, message = exc.error.code or code, exc.error.message or message
        method = getattr(getattr(exc.response, "request", None), "method", "")
        return one_line(f"{code} (HTTP {exc.status_code}{' on ' + method if method else ''}): {message}")
    if isinstance(exc, ClientAuthenticationError):
        # no response: the credential chain itself failed (DefaultAzureCredential lists what it tried)
        detail = str(exc.message or exc).split("To mitigate")[0]
        return one_line(
            "no Azure credentials: sign in with `az login`, or set a service principal, workload or managed "
            f"identity (DefaultAzureCredential: {detail})"
        )
    if isinstance(exc, ServiceRequestError):
        return one_line(f"endpoint unreachable: {exc.message or exc}")
    if isinstance(exc, ServiceResponseError):
        return one_line(f"no complete response (timed out or connection dropped): {exc.message or exc}")
    return one_line(f"{type(exc).__name__}: {exc}")


_SECRET = re.compile(r"(?i)(bearer\s+|access_?token[\"':= ]+|sig=|client_secret[\"':= ]+)[A-Za-z0-9._~+/=%-]+")


def one_line(text: str, limit: int = 400) -> str:
    """`text` on one line, secrets masked, at most `limit` characters."""
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


class Arm:
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
        # any child list several resources share (a resource group's instance failover groups): (path, api-version)
        self.lists = Memo(lambda arg: list(self.pages(*arg)))

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
        """The absolute Resource Manager URL of `path`."""
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

    def graph(self, subscriptions: list[str], types: list[str], every_type: bool = False) -> list[dict[str, Any]]:
        """Every row of one Resource Graph query over `subscriptions`, all pages, or an exception.

        `every_type`: every resource of every type (for coverage), with `properties` only for `types` (the ones a
        store reads: the rest cost a row of id, type and location each); else only rows of `types`.
        """
        quoted = ", ".join(f"'{t.lower()}'" for t in types)
        columns = "| project id, name, type, location, subscriptionId, kind, sku, tags, properties"
        if every_type:
            query = f"resources | extend properties = iff(type in~ ({quoted}), properties, dynamic(null)) {columns}"
        else:
            query = f"resources | where type in~ ({quoted}) {columns}"
        rows: list[dict[str, Any]] = []
        for i in range(0, len(subscriptions), GRAPH_SUBSCRIPTIONS):
            batch = subscriptions[i : i + GRAPH_SUBSCRIPTIONS]
            token: str | None = None
            while True:
                options: dict[str, Any] = {"$top": GRAPH_PAGE, "resultFormat": "objectArray"}
                if token:
                    options["$skipToken"] = token
                answer = self._send(
                    "POST",
                    self.url("/providers/Microsoft.ResourceGraph/resources"),
                    {"api-version": GRAPH_API},
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

    def _sql_server(self, server_id: str) -> SqlServer:
        from ..stores.azure.sql import SqlServer, sql_key

        api = KINDS["sql-database"].api_version
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
            key = sql_key(protector)
        except Exception as exc:
            key = (KeyControl.UNKNOWN, f"TDE protector of the server unreadable: {describe_error(exc)}")
        return SqlServer(groups, links, key)

    def _server_location(self, arg: tuple[str, str]) -> str:
        server_id, api = arg
        return str(self.get(server_id, api)["location"])

    def _replicas(self, arg: tuple[str, str]) -> list[dict[str, Any]]:
        server_id, api = arg
        return list(self.pages(f"{server_id}/replicas", api))
