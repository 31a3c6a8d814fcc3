"""Helpers the AWS stores share: copies of a cross-Region group's other members, and the plan of a one-region store.

ElastiCache global datastores, MemoryDB multi-Region clusters and RDS/DocumentDB/Neptune global clusters (rds.py) all
read their group's members once per (region, group), locate every other member in its own Region and take that
member's key from its Region's listing; an unreadable group is a skip and an unknown copy, never silence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ...clouds.aws import describe_error
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import Context, Item, plan_tags
from ..common import UNKNOWN_LOCATION, Memo


def member_copies(
    memo: Memo,
    region: str,
    group: str,
    own: str,
    what: str,
    scope: str,
    key_of: Callable[[str, str | None], tuple[KeyControl, str]],
    footprint: list[Copy],
) -> Iterator[Skip]:
    """Append to `footprint` a copy per other member of `what` `group`; `memo` maps (region, group) → (Region, name)."""
    try:
        members: list[tuple[str | None, str | None]] = memo.get((region, group))
    except Exception as exc:
        if memo.first_failure((region, group)):
            yield Skip(Provider.AWS, scope, f"{what} members unknown: {describe_error(exc)}")
        footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{what} {group}: members unread"))
        return
    for where, name in members:
        if not where or (where == region and name == own):
            continue
        try:
            key = key_of(where, name)
        except Exception as exc:
            key = (KeyControl.UNKNOWN, f"unreadable ({describe_error(exc)})")
        note = f"{what} {group} member {name}; its keys: {key[1]}"
        footprint.append(Copy(where, CopyRole.REPLICA, note=note, key_control=key[0]))


def single_region_plan(ctx: Context, item: Item, names: tuple[str, str], default_key: str) -> Resource:
    """A planned store named by `name`, with one copy in its provider's region under `kms_key_id`.

    `names` are the store's service and CloudFormation type; without a `kms_key_id` the data is under the service's
    own key, which `default_key` describes. Each store's plan reader stays in its own module and calls this.
    """
    region, note = ctx.aws_region(item)
    return ctx.resource(
        item,
        Provider.AWS,
        (*names, "name"),
        [Copy(region, CopyRole.PRIMARY, note=note)],
        ctx.aws_key(item, ("kms_key_id",), default_key),
        plan_tags(item, "tags_all", "tags"),
    )
