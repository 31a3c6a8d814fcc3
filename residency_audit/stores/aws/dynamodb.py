"""DynamoDB tables: global-table replicas and witnesses, live and planned."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import dedupe_places
from .registry import TAG_TYPES

# --- DynamoDB ------------------------------------------------------------------------------------------------


def dynamodb_list(account: Account, region: str) -> Iterator[Task]:
    """The region's tables: one task per table (each table is described once)."""
    ddb = account.client("dynamodb", region)
    for page in ddb.get_paginator("list_tables").paginate():
        for table in page.get("TableNames", []):
            yield Task(
                Provider.AWS,
                account.scope("region", region, "service", "dynamodb", "table", table),
                functools.partial(_dynamodb_table, account, region, table),
                describe_error,
            )


def _dynamodb_table(account: Account, region: str, name: str) -> Iterator[Resource | Skip]:
    table = account.client("dynamodb", region).describe_table(TableName=name)["Table"]
    footprint = [Copy(region, CopyRole.PRIMARY)]
    for replica in table.get("Replicas", []):
        if replica.get("RegionName") and replica["RegionName"] != region:
            # a replica's own KMS key (botocore dynamodb model: ReplicaDescription.KMSMasterKeyId); none: the table's
            key_id = replica.get("KMSMasterKeyId")
            own = account.key_control(replica["RegionName"], key_id, None) if key_id else None
            yield from account.key_skips(replica["RegionName"], key_id)
            note = f"global table replica ({replica.get('ReplicaStatus', '?')})"
            if own is not None:
                note += f"; replica keys: {own[1]}"
            footprint.append(
                Copy(replica["RegionName"], CopyRole.REPLICA, note=note, key_control=own[0] if own else None)
            )
    for witness in table.get("GlobalTableWitnesses", []):
        if witness.get("RegionName"):
            footprint.append(
                Copy(
                    witness["RegionName"],
                    CopyRole.REPLICA,
                    note="global table witness (holds replicated change data)",
                )
            )
    sse = table.get("SSEDescription") or {}
    if sse.get("SSEType") == "KMS":
        key = account.key_control(region, sse.get("KMSMasterKeyArn"), None)
        yield from account.key_skips(region, sse.get("KMSMasterKeyArn"))
    else:
        key = (KeyControl.PROVIDER_MANAGED, "encrypted with an AWS owned key (DynamoDB default)")
    arn = table.get("TableArn", f"arn:{account.partition}:dynamodb:{region}:{account.id}:table/{name}")
    tags, skip = account.tags_for(region, TAG_TYPES["dynamodb"], arn)
    if skip:
        yield skip
    yield resource(account, "dynamodb", "AWS::DynamoDB::Table", arn, name, footprint, tags, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------

# --- AWS: DynamoDB ---------------------------------------------------------------------------------------------


def _plan_dynamodb_table(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    if item.is_unknown("replica"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"global table replicas {AFTER_APPLY}"))
    for i, replica in enumerate(item.blocks("replica")):
        name = replica.get("region_name")
        if isinstance(name, str) and name and not item.is_unknown("replica", i, "region_name"):
            own = None
            if item.is_unknown("replica", i, "kms_key_arn") or item.get("replica", i, "kms_key_arn"):
                own = ctx.aws_key(item, ("replica", i, "kms_key_arn"), "encrypted with the AWS managed key")
            note = "global table replica" + (f"; replica keys: {own[1]}" if own else "")
            footprint.append(Copy(name, CopyRole.REPLICA, note=note, key_control=own[0] if own else None))
        else:
            footprint.append(unknown_copy(CopyRole.REPLICA, f"global table replica: region {AFTER_APPLY}"))
    for linked in ctx.linked(item, "aws_dynamodb_table_replica"):
        replica_region, replica_note = ctx.aws_region(linked)
        note = f"global table replica {linked.address}" + (f"; {replica_note}" if replica_note else "")
        footprint.append(Copy(replica_region, CopyRole.REPLICA, note=note))
    if item.get("server_side_encryption", 0, "enabled") is True:
        key = ctx.aws_key(
            item, ("server_side_encryption", 0, "kms_key_arn"), "encrypted with the AWS managed key aws/dynamodb"
        )
    else:
        key = (KeyControl.PROVIDER_MANAGED, "encrypted with an AWS owned key (DynamoDB default)")
    return ctx.resource(
        item,
        Provider.AWS,
        ("dynamodb", "AWS::DynamoDB::Table", "name"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_dynamodb_table": _plan_dynamodb_table}
