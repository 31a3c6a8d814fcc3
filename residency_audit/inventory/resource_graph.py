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
    Arm,
    AzureOptions,
    Kind,
    describe_error,
)
from ..model import Provider, Resource, Skip
from ..pipeline import Task
from ..stores.azure.common import parent_id, subscription_of
from ..stores.azure.cosmos import cosmosdb
from ..stores.azure.disks import disk
from ..stores.azure.flexible import flexible, flexible_needs_lookups
from ..stores.azure.sql import sql_task
from ..stores.azure.storage import storage_account

_log = logging.getLogger(__name__)

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
        for service in services:
            kind = KINDS[service]
            listed = SQL_SERVERS if service == "sql-database" else kind.type
            yield Task(
                Provider.AZURE,
                f"subscription/{sub}/type/{listed}",
                functools.partial(_arm_list, arm, sub, kind),
                describe_error,
            )


def _graph_inventory(arm: Arm, subscriptions: list[str], services: list[str]) -> Iterator[Resource | Skip | Task]:
    try:
        rows = arm.graph(subscriptions, [KINDS[s].type for s in services])
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
        kind = BY_TYPE.get(str(row.get("type", "")).lower())
        if kind is None:
            continue
        if kind.service == "sql-database":
            by_server.setdefault(parent_id(str(row["id"])), []).append(row)
        else:
            yield from _items(arm, kind, subscription_of(str(row["id"])), [row])
    for server_id, databases in by_server.items():
        yield sql_task(arm, subscription_of(server_id), server_id, databases)


def _arm_list(arm: Arm, sub: str, kind: Kind) -> Iterator[Resource | Skip | Task]:
    if kind.service == "sql-database":
        for server in arm.pages(f"/subscriptions/{sub}/providers/{SQL_SERVERS}", kind.api_version):
            yield sql_task(arm, sub, str(server["id"]), None)
        return
    items = list(arm.pages(f"/subscriptions/{sub}/providers/{kind.type}", kind.api_version))
    yield from _items(arm, kind, sub, items)


def _items(arm: Arm, kind: Kind, sub: str, items: Iterable[dict[str, Any]]) -> Iterator[Resource | Skip | Task]:
    """Resources from listed items; items that need more reading become tasks of their own."""
    for item in items:
        if kind.service == "storage-account":
            yield storage_account(arm, sub, item)
        elif kind.service == "cosmosdb":
            yield cosmosdb(arm, sub, item)
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
