"""KMS keys: the key's region and, for a multi-Region key, every region holding a copy of its key material.

A key's material is the key control of everything it encrypts: a multi-Region key with a replica in us-east-1 can be
used there (and so compelled there) whatever region the data sits in. Field names are those of botocore's `kms`
model (2014-11-01): ListKeys `Keys[].KeyArn`, DescribeKey `KeyMetadata` (`KeyManager`, `Origin`, `MultiRegion`,
`MultiRegionConfiguration.PrimaryKey.Region`, `MultiRegionConfiguration.ReplicaKeys[].Region`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, key_control_of, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places

TAG_TYPE = "kms:key"  # the Resource Groups Tagging API's resource type filter

# --- live -----------------------------------------------------------------------------------------------------


def kms_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's KMS keys (customer and AWS managed), each with the regions its key material is copied to."""
    kms = account.client("kms", region)
    for page in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1000}):
        for entry in page.get("Keys", []):
            arn = entry.get("KeyArn") or entry["KeyId"]
            try:
                meta = account.key_metadata.get((region, arn))
            except Exception as exc:
                reason = f"the key's replicas and origin are unknown: {describe_error(exc)}"
                yield Skip(Provider.AWS, account.scope("region", region, "kms-key", arn), reason)
                continue
            yield from _key(account, region, arn, meta)


def _key(account: Account, region: str, arn: str, meta: dict[str, Any]) -> Iterator[Resource | Skip]:
    footprint = [Copy(region, CopyRole.PRIMARY)]
    config = meta.get("MultiRegionConfiguration") or {}
    primary = (config.get("PrimaryKey") or {}).get("Region")
    if primary:
        footprint.append(Copy(primary, CopyRole.REPLICA, note="primary key of this multi-Region key (same material)"))
    for replica in config.get("ReplicaKeys", []):
        if replica.get("Region"):
            note = f"multi-Region replica key {replica.get('Arn', '?')} (same material)"
            footprint.append(Copy(replica["Region"], CopyRole.REPLICA, note=note))
    if meta.get("MultiRegion") and not config:
        note = "multi-Region key, but DescribeKey named no regions"
        footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=note))
    tags, skip = account.tags_for(region, TAG_TYPE, arn)
    if skip:
        yield skip
    name = meta.get("Description") or meta.get("KeyId") or arn
    rid = meta.get("Arn", arn)
    key = key_control_of(meta, arn)
    yield resource(account, "kms-key", "AWS::KMS::Key", rid, name, dedupe_places(footprint), tags, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_kms_key(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note), *_plan_replicas(ctx, item, exclude=None)]
    if item.is_unknown("multi_region") and item.configured("multi_region"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"whether this is a multi-Region key is {AFTER_APPLY}"))
    return _plan_resource(ctx, item, footprint, _plan_key_control(ctx, item))


def _plan_replica_key(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    primaries = ctx.target(item, ("primary_key_arn",), "aws_kms_key", ("arn",))
    primaries += ctx.target(item, ("primary_key_arn",), "aws_kms_external_key", ("arn",))
    if len(primaries) == 1:
        primary = primaries[0]
        footprint.append(Copy(ctx.aws_region(primary)[0], CopyRole.REPLICA, note=f"primary key {primary.address}"))
        footprint.extend(_plan_replicas(ctx, primary, exclude=item))
        key = _plan_key_control(ctx, primary)
    else:
        source = ctx.describe(item, ("primary_key_arn",))
        footprint.append(
            unknown_copy(
                CopyRole.REPLICA,
                f"primary key {source} is not in this plan: where its material and other replicas are is unknown",
            )
        )
        key = (KeyControl.CUSTOMER_MANAGED, f"replica of the customer managed KMS key {source}")
    return _plan_resource(ctx, item, footprint, key)


def _plan_replicas(ctx: Context, primary: Item, exclude: Item | None) -> list[Copy]:
    copies = []
    for rtype in ("aws_kms_replica_key", "aws_kms_replica_external_key"):
        for replica in ctx.by_type.get(rtype, []):
            if replica is exclude:
                continue
            targets = ctx.target(replica, ("primary_key_arn",), primary.type, ("arn",))
            if primary.address in {t.address for t in targets}:
                where, _ = ctx.aws_region(replica)
                copies.append(Copy(where, CopyRole.REPLICA, note=f"multi-Region replica key {replica.address}"))
    return copies


def _plan_key_control(ctx: Context, key: Item) -> tuple[KeyControl, str]:
    if key.type == "aws_kms_external_key":
        return KeyControl.CUSTOMER_MANAGED, f"KMS key {key.address} with imported key material (held in AWS KMS)"
    # the context's reading of custom key stores (XKS or CloudHSM), the one every store's key goes through
    return ctx._kms_key(key)


def _plan_resource(ctx: Context, item: Item, footprint: list[Copy], key: tuple[KeyControl, str]) -> Resource:
    return ctx.resource(
        item,
        Provider.AWS,
        ("kms-key", "AWS::KMS::Key" if item.type in ("aws_kms_key", "aws_kms_external_key") else "AWS::KMS::ReplicaKey",
         "description"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )  # fmt: skip


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_kms_key": _plan_kms_key,
    "aws_kms_external_key": _plan_kms_key,
    "aws_kms_replica_key": _plan_replica_key,
    "aws_kms_replica_external_key": _plan_replica_key,
}
