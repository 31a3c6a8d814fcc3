"""Azure Cache for Redis: geo-replication links (linked servers), live and planned.

Passive geo-replication links a primary cache to a secondary in another region and copies its data there; both
caches list the link (`Microsoft.Cache/redis/{name}/linkedServers`: `properties.linkedRedisCacheLocation`,
`serverRole`), so each counts the other's region. Only the Premium tier can be linked, so only Premium caches (or
one whose SKU is not reported) cost the extra list. Field names: azure-mgmt-redis `RedisResource` and
`RedisLinkedServerWithProperties`, api-version 2024-11-01. Data at rest is encrypted with Microsoft-managed keys
(the service offers no customer-managed key for this tier).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.azure import KINDS, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places
from .common import azure_place, dict_of, location_of, name_of, plan_location, properties_of, resource

_KEY = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys")


def cache_needs_lookups(item: dict[str, Any]) -> bool:
    """Whether a cache can have linked servers to read: Premium, or a SKU the record does not say."""
    sku = str(dict_of(item.get("sku")).get("name") or dict_of(properties_of(item).get("sku")).get("name") or "")
    return sku.lower() in ("premium", "")


def cache_task(arm: Arm, sub: str, item: dict[str, Any]) -> Task:
    """A task reading one cache with its linked servers."""
    return Task(Provider.AZURE, str(item["id"]).lstrip("/"), functools.partial(cache, arm, sub, item), describe_error)


def cache(arm: Arm, sub: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    """A cache: its region and, for caches that can have them, every linked server's region."""
    kind = KINDS["redis-cache"]
    footprint = [Copy(location_of(item), CopyRole.PRIMARY)]
    if cache_needs_lookups(item):
        rid = str(item["id"])
        try:
            for link in arm.pages(f"{rid}/linkedServers", kind.api_version):
                props = properties_of(link) if isinstance(link, dict) else {}
                where = props.get("linkedRedisCacheLocation")
                footprint.append(
                    Copy(
                        where if isinstance(where, str) and where else UNKNOWN_LOCATION,
                        CopyRole.REPLICA,
                        note=f"geo-replication link with {name_of(props.get('linkedRedisCacheId'))} "
                        f"(this cache's role: {props.get('serverRole') or '?'})",
                    )
                )
        except Exception as exc:
            yield Skip(Provider.AZURE, f"{rid.lstrip('/')}/linkedServers", f"replicas unknown: {describe_error(exc)}")
            footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="linked servers unreadable"))
    yield resource(arm, kind.service, kind.type, sub, item, footprint, _KEY)


# --- the Terraform plan reader --------------------------------------------------------------------------------

_LINK = "azurerm_redis_linked_server"


def _plan_cache(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    name = item.text("name")
    for link in ctx.by_type.get(_LINK, []):
        primary = link.text("redis_cache_name")
        secondaries = ctx.target(link, ("linked_redis_cache_id",), "azurerm_redis_cache", ("id",))
        if name is not None and primary == name:  # this cache is the primary: the copy is where the link points
            where = link.text("linked_redis_cache_location")
            footprint.append(
                Copy(where, CopyRole.REPLICA, note=f"geo-replication link {link.address}")
                if where
                else unknown_copy(CopyRole.REPLICA, f"{link.address}: linked_redis_cache_location {AFTER_APPLY}")
            )
        elif any(s.address == item.address for s in secondaries):  # the secondary: the primary's region
            found = ctx.with_value("azurerm_redis_cache", "name", primary) if primary else []
            for other in found:
                where, other_note = plan_location(other)
                footprint.append(Copy(where, CopyRole.REPLICA, note=other_note or f"primary of {link.address}"))
            if not found:
                footprint.append(unknown_copy(CopyRole.REPLICA, f"{link.address}: its primary is not in the plan"))
    kind = KINDS["redis-cache"]
    return ctx.resource(
        item,
        Provider.AZURE,
        (kind.service, kind.type, "name"),
        dedupe_places(footprint, azure_place),
        _KEY,
        plan_tags(item, "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_redis_cache": _plan_cache}
