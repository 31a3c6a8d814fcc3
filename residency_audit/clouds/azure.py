"""Azure connector: the clouds, resource types and options of a scan, and its error messages.

The Resource Manager client is clouds/azure_arm.py. Stores: storage (with blob object replication), Cosmos DB, SQL
(databases, managed instances), flexible servers, disks, vaults, Key Vault and the rest of the catalogue.

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
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Provider
from ..pipeline import Task
from ..scan import SERVICES as ALL_SERVICES

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
