"""Azure inventory: one Resource Graph query for every subscription, or Resource Manager lists as fallback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from ..clouds.azure import (
    ACTIVE_STATES,
    BY_TYPE,
    KINDS,
    SERVICES,
    SQL_SERVERS,
    SUBSCRIPTIONS_API,
    AzureOptions,
    Kind,
    describe_error,
)
from ..clouds.azure_arm import Arm
from ..inventory import RESOURCE_GRAPH, RESOURCE_MANAGER, Found
from ..model import Provider, Resource, Skip
from ..pipeline import Task
from ..stores.azure.cache import cache, cache_needs_lookups, cache_task
from ..stores.azure.common import parent_id, subscription_of
from ..stores.azure.cosmos import cosmosdb
from ..stores.azure.disks import disk
from ..stores.azure.flexible import flexible, flexible_needs_lookups
from ..stores.azure.gallery import GALLERIES, arm_versions, image_version
from ..stores.azure.keyvault import key_vault, managed_hsm
from ..stores.azure.managed_instance import managed_instance_task
from ..stores.azure.messaging import event_hubs, service_bus
from ..stores.azure.registry import registry, registry_needs_lookups, registry_task
from ..stores.azure.sql import sql_task
from ..stores.azure.storage import replication_readable, storage_account, storage_task
from ..stores.azure.vaults import backup_vault, recovery_vault
from ..stores.azure.workspaces import workspace

_log = logging.getLogger(__name__)
RESOURCES_API = "2021-04-01"  # Resource Manager's list of a subscription's resources
# stores whose every copy is in the inventory record (and the knowledge base): one call, no further reading
_ONE_RECORD = {
    "cosmosdb": cosmosdb,
    "recovery-services-vault": recovery_vault,
    "backup-vault": backup_vault,
    "key-vault": key_vault,
    "managed-hsm": managed_hsm,
    "eventhub-namespace": event_hubs,
    "servicebus-namespace": service_bus,
    "log-analytics-workspace": workspace,
    "gallery-image-version": image_version,
}

# --- subscriptions and inventory ---------------------------------------------------------------------------------


def quiet_sdk_logs() -> None:
    """Leave azure-identity's per-credential warnings to users who configure logging on purpose."""
    # azure-identity logs every failed credential at WARNING, several lines each; the scan reports the failure
    # itself (as a skip with its reason), so leave those logs to a user who configures logging on purpose.
    for name in ("azure.identity", "azure.core.pipeline.policies.http_logging_policy"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


def start(options: AzureOptions) -> Iterator[Task | Skip]:
    """Find the subscriptions, then inventory them: Resource Graph, or Resource Manager lists as fallback."""
    quiet_sdk_logs()
    arm = Arm(options)
    # Fetch the token here, once: a missing login is then one skip for the whole scan, not one per task.
    arm.credential.get_token(arm.audience)
    if options.subscriptions:
        subscriptions = list(options.subscriptions)
    else:
        subscriptions = [
            str(s["subscriptionId"])
            for s in arm.pages("/subscriptions", SUBSCRIPTIONS_API)
            if str(s.get("state", "Enabled")).lower() in ACTIVE_STATES
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


def _arm_inventory(arm: Arm, subscriptions: list[str], services: list[str]) -> Iterator[Task]:
    for sub in subscriptions:
        if not arm.options.services:  # every type, for coverage: one paged list per subscription, then the stores'
            yield Task(
                Provider.AZURE,
                f"subscription/{sub}/resources",
                functools.partial(_arm_census, arm, sub, services),
                describe_error,
            )
        else:
            yield from _type_lists(arm, sub, services)


def _listed(service: str) -> str:
    """The top-level type Resource Manager lists for a service (its parent's, for child resources)."""
    return {"sql-database": SQL_SERVERS, "gallery-image-version": GALLERIES}.get(service, KINDS[service].type)


def _type_lists(arm: Arm, sub: str, services: Iterable[str]) -> Iterator[Task]:
    for service in services:
        yield Task(
            Provider.AZURE,
            f"subscription/{sub}/type/{_listed(service)}",
            functools.partial(_arm_list, arm, sub, KINDS[service]),
            describe_error,
        )


def _graph_inventory(
    arm: Arm, subscriptions: list[str], services: list[str]
) -> Iterator[Resource | Skip | Found | Task]:
    try:
        # without --service: every resource of every type (coverage); with it, only the types asked for
        every_type = not arm.options.services
        rows = arm.graph(subscriptions, [KINDS[s].type for s in services], every_type=every_type)
    except Exception as exc:
        # Graph is an accelerator, not a requirement: the same inventory, per subscription, through Resource Manager.
        _log.warning(
            "Azure Resource Graph unavailable (%s): listing each subscription through Resource Manager instead",
            describe_error(exc),
        )
        yield from _arm_inventory(arm, subscriptions, services)
        return
    if every_type:
        yield from census(RESOURCE_GRAPH, rows)
        # every subscription asked about answered, even one with nothing in it
        yield from (Found(Provider.AZURE, RESOURCE_GRAPH, f"subscription/{sub}", "", 0) for sub in subscriptions)
    storage = KINDS["storage-account"].type.lower()
    for row in rows:  # every account first: an object replication destination is then found without a request
        if str(row.get("type", "")).lower() == storage:
            arm.seed_storage_account(row)
    by_server: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kind = BY_TYPE.get(str(row.get("type", "")).lower())
        if kind is None:
            continue
        if kind.service == "sql-database":
            by_server.setdefault(parent_id(str(row["id"])), []).append(row)
        else:
            yield from _items(arm, kind, subscription_of(str(row["id"])), [row])
    for server_id, databases in by_server.items():
        yield sql_task(arm, subscription_of(server_id), server_id, databases)


def _arm_census(arm: Arm, sub: str, services: list[str]) -> Iterator[Found | Resource | Skip | Task]:
    """Every resource of a subscription by type (Resource Manager's list; no properties), then the stores' lists.

    The census is for coverage; after it, one list per store whose (top-level) type the subscription holds, so an
    empty subscription costs one request, not one per store. Where the census fails, every store's list is read:
    which types are there is then unknown.
    """
    try:
        rows = list(arm.pages(f"/subscriptions/{sub}/resources", RESOURCES_API))
    except Exception as exc:
        if _denied(exc):
            yield from _denied_census(arm, sub, services, exc)
        else:
            yield Skip(Provider.AZURE, f"subscription/{sub}/resources", describe_error(exc))
            yield from _type_lists(arm, sub, services)
        return
    yield from census(RESOURCE_MANAGER, rows)
    # an empty subscription still answered: say so, so the coverage section lists the scope
    yield Found(Provider.AZURE, RESOURCE_MANAGER, f"subscription/{sub}", "", 0)
    present = {str(row.get("type") or "").lower() for row in rows}
    yield from _type_lists(arm, sub, [s for s in services if _listed(s).lower() in present])


def _denied(exc: BaseException) -> bool:
    return getattr(exc, "status_code", None) in (401, 403)


def _denied_census(arm: Arm, sub: str, services: list[str], exc: BaseException) -> Iterator[Resource | Skip | Task]:
    """After a denied census: every store's list, here, and one skip if the whole subscription is denied.

    A subscription the credential has no role on answers 403 to every list; one skip naming it, the reason and that
    none of its types were read says all the per-type skips would (and a report stays readable). Where some lists
    answer (a role without the census's read action), their resources are reported and each failed list is its own
    skip, as on the other paths. The lists run one after another in this task, which only a denied census costs.
    """
    out: list[Resource | Skip | Task] = []
    failures: list[BaseException] = []
    for service in services:
        try:
            out.extend(_arm_list(arm, sub, KINDS[service]))
        except Exception as failure:
            failures.append(failure)
            out.append(Skip(Provider.AZURE, f"subscription/{sub}/type/{_listed(service)}", describe_error(failure)))
    if len(failures) == len(services) and all(_denied(f) for f in failures):
        answers = "/".join(sorted({_status(f) for f in failures}))
        yield Skip(
            Provider.AZURE,
            f"subscription/{sub}",
            f"{describe_error(exc)}; the subscription is denied: none of its resources were read (its resource "
            f"list and the lists of all {len(services)} store types answered {answers})",
        )
        return
    yield Skip(Provider.AZURE, f"subscription/{sub}/resources", describe_error(exc))
    yield from out


def _status(exc: BaseException) -> str:
    return f"HTTP {getattr(exc, 'status_code', '?')}"


def census(engine: str, rows: Iterable[dict[str, Any]]) -> Iterator[Found]:
    """One inventory record per resource row: its subscription, type and location.

    System databases are left out, as the SQL store leaves them out: `master` holds the server's metadata.
    """
    for row in rows:
        rtype = str(row.get("type") or "")
        if not rtype or (rtype.lower() == "microsoft.sql/servers/databases" and _is_system(row)):
            continue
        rid = str(row.get("id") or "")
        location = str(row.get("location") or "")
        yield Found(Provider.AZURE, engine, f"subscription/{subscription_of(rid)}", _canonical(rtype), 1,
                    (location,) if location else ())  # fmt: skip


def _canonical(rtype: str) -> str:
    """The catalogue's spelling of an ARM type (Resource Graph returns types lower-case)."""
    from ..catalogue import load

    entry = load().find(rtype)
    return entry.native if entry is not None and entry.native else rtype


def _is_system(row: dict[str, Any]) -> bool:
    kind = str(row.get("kind") or "").lower()
    return str(row.get("name") or "").lower() == "master" or "system" in kind


def _arm_list(arm: Arm, sub: str, kind: Kind) -> Iterator[Resource | Skip | Task]:
    if kind.service == "sql-database":
        for server in arm.pages(f"/subscriptions/{sub}/providers/{SQL_SERVERS}", kind.api_version):
            yield sql_task(arm, sub, str(server["id"]), None)
        return
    if kind.service == "gallery-image-version":
        yield from arm_versions(arm, sub)
        return
    items = list(arm.pages(f"/subscriptions/{sub}/providers/{kind.type}", kind.api_version))
    yield from _items(arm, kind, sub, items)


def _items(arm: Arm, kind: Kind, sub: str, items: Iterable[dict[str, Any]]) -> Iterator[Resource | Skip | Task]:
    """Resources from listed items; items that need more reading become tasks of their own."""
    for item in items:
        if kind.service == "storage-account":
            arm.seed_storage_account(item)  # idempotent: Graph rows are seeded before any task runs
            # object replication policies are child resources no record shows: one GET per account that can have them
            yield storage_task(arm, sub, item) if replication_readable(item) else storage_account(arm, sub, item)
        elif kind.service in _ONE_RECORD:
            yield _ONE_RECORD[kind.service](arm, sub, item)
        elif kind.service == "sql-managed-instance":
            yield managed_instance_task(arm, sub, item)
        elif kind.service == "redis-cache":
            if cache_needs_lookups(item):
                yield cache_task(arm, sub, item)
            else:
                yield from cache(arm, sub, item)
        elif kind.service == "container-registry":
            # only Premium registries can have replications: the others need no further call
            if registry_needs_lookups(item):
                yield registry_task(arm, sub, item)
            else:
                yield from registry(arm, sub, item)
        elif kind.service in ("disk", "snapshot"):
            yield disk(arm, kind, sub, item)
        elif flexible_needs_lookups(kind, item):
            yield Task(
                Provider.AZURE,
                str(item["id"]).lstrip("/"),
                functools.partial(flexible, arm, kind, sub, item),
                describe_error,
            )
        else:
            yield from flexible(arm, kind, sub, item)
