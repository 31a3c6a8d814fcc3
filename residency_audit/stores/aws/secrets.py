"""Secrets Manager secrets: the secret's region and every region it is replicated to.

Field names are those of botocore's `secretsmanager` model (2017-10-17): ListSecrets `SecretList[]` (`ARN`, `Name`,
`KmsKeyId`, `Tags`, `PrimaryRegion`), DescribeSecret `KmsKeyId`, `ReplicationStatus[]` (`Region`, `KmsKeyId`,
`Status`): each replica is encrypted with its own key in its own region, so each copy carries its own key control. Only
DescribeSecret names the replicas, so each secret costs one DescribeSecret; a replica is described through its
primary (same ARN, the primary's region), which alone lists every replica. Secret values are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import dedupe_places

DEFAULT_KEY = "encrypted with the AWS managed key aws/secretsmanager"

# --- live -----------------------------------------------------------------------------------------------------


def secrets_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's secrets (primaries and replicas), each with every region holding a copy."""
    client = account.client("secretsmanager", region)
    for page in client.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 100}):
        for entry in page.get("SecretList", []):
            yield from _secret(account, region, entry)


def _secret(account: Account, region: str, entry: dict[str, Any]) -> Iterator[Resource | Skip]:
    arn, name = entry["ARN"], entry.get("Name", entry["ARN"])
    primary = entry.get("PrimaryRegion") or region
    footprint = [Copy(region, CopyRole.PRIMARY)]
    if primary != region:
        footprint.append(Copy(primary, CopyRole.REPLICA, note="primary secret of this replica"))
    source = arn if primary == region else _in_region(arn, primary)
    try:
        described = account.client("secretsmanager", primary).describe_secret(SecretId=source)
    except Exception as exc:
        reason = f"replicas unknown: {describe_error(exc)}"
        yield Skip(Provider.AWS, account.scope("region", region, "service", "secret", "secret", arn), reason)
        described = {}
    if primary != region and described:
        # the primary's own key (DescribeSecret KmsKeyId): keys are per copy, the worst decides
        own, how = _key(account, primary, described.get("KmsKeyId"))
        yield from account.key_skips(primary, described.get("KmsKeyId"))
        footprint[1] = Copy(primary, CopyRole.REPLICA, note=f"primary secret of this replica; its keys: {how}",
                            key_control=own)  # fmt: skip
    for replica in described.get("ReplicationStatus", []):
        where = replica.get("Region")
        if where and where != region:
            own, how = _key(account, where, replica.get("KmsKeyId"))
            yield from account.key_skips(where, _kms_id(replica.get("KmsKeyId")))
            note = f"replica secret ({replica.get('Status', '?')}); its keys: {how}"
            footprint.append(Copy(where, CopyRole.REPLICA, note=note, key_control=own))
    key_id = entry.get("KmsKeyId")
    key = account.key_control(region, key_id, DEFAULT_KEY)
    yield from account.key_skips(region, key_id)
    tags = tag_list(entry.get("Tags", []))
    yield resource(account, "secret", "AWS::SecretsManager::Secret", arn, name, dedupe_places(footprint), tags, key)


def _kms_id(key_id: str | None) -> str | None:
    """A key to describe: None for the AWS managed key (by default or named by its alias), which needs no request."""
    return None if not key_id or key_id.endswith("alias/aws/secretsmanager") else key_id


def _key(account: Account, region: str, key_id: str | None) -> tuple[KeyControl, str]:
    """A copy's key control from ReplicationStatus[].KmsKeyId (or the primary's KmsKeyId) in its own region."""
    return account.key_control(region, _kms_id(key_id), DEFAULT_KEY)


def _in_region(arn: str, region: str) -> str:
    """A replica's ARN with the primary's region: a replica secret keeps its primary's ARN but for the region."""
    parts = arn.split(":")
    return ":".join([*parts[:3], region, *parts[4:]]) if len(parts) > 4 else arn


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_secret(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    if item.is_unknown("replica"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"replica regions {AFTER_APPLY}"))
    for i, _ in enumerate(item.blocks("replica")):
        where = item.text("replica", i, "region")
        if where is None:
            footprint.append(unknown_copy(CopyRole.REPLICA, f"replica secret: region {AFTER_APPLY}"))
        else:
            footprint.append(Copy(where, CopyRole.REPLICA, note="replica secret"))
    return ctx.resource(
        item,
        Provider.AWS,
        ("secret", "AWS::SecretsManager::Secret", "name"),
        dedupe_places(footprint),
        ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY),
        plan_tags(item, "tags_all", "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_secretsmanager_secret": _plan_secret}
