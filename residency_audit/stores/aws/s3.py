"""S3 buckets: the live reader (location, replication rules, default encryption) and the plan reader."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, error_code, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .registry import TAG_TYPES

# --- S3 ------------------------------------------------------------------------------------------------------


def s3_list(account: Account, regions: list[str]) -> Iterator[Task | Skip]:
    """The account's buckets: one task per bucket (ListBuckets gives the region where S3 sends it)."""
    s3 = account.client("s3", account.home_region)
    names: list[str] = []
    for page in s3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 10000}):
        for bucket in page.get("Buckets", []):
            names.append(bucket["Name"])
            if "BucketRegion" in bucket:
                account.bucket_regions.seed(bucket["Name"], bucket["BucketRegion"])
    for name in names:
        yield Task(
            Provider.AWS,
            account.scope("service", "s3", "bucket", name),
            functools.partial(_s3_bucket, account, name, regions),
            describe_error,
        )


def _endpoint_region(constraint: str) -> str:
    """The real region behind an S3 location constraint ("" and "EU" are aliases in the knowledge base)."""
    from ...knowledge import load

    loc = load().resolve(Provider.AWS, constraint)
    return loc.code if loc is not None else constraint


def _s3_bucket(account: Account, name: str, regions: list[str]) -> Iterator[Resource | Skip]:
    from botocore.exceptions import ClientError

    constraint = account.bucket_regions.get(name)
    region = _endpoint_region(constraint)
    if account.options.regions and region not in regions:
        return
    s3 = account.client("s3", region)
    footprint = [Copy(constraint, CopyRole.PRIMARY)]
    try:
        rules = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"].get("Rules", [])
    except ClientError as exc:
        if error_code(exc) != "ReplicationConfigurationNotFoundError":
            yield Skip(
                Provider.AWS,
                account.scope("service", "s3", "bucket", name, "replication"),
                f"replicas unknown: {describe_error(exc)}",
            )
        rules = []
    for rule in rules:
        dest = rule.get("Destination", {}).get("Bucket", "").split(":::")[-1]
        state = "enabled" if rule.get("Status") == "Enabled" else "disabled (earlier replicas may remain)"
        copy = _replica_bucket(account, dest, f"replication rule {rule.get('ID', '?')} {state}")
        replica_key = _replica_key(account, rule, copy.code)
        yield from account.key_skips(copy.code, _replica_key_id(rule))
        footprint.append(
            Copy(copy.code, copy.role, note=f"{copy.note}; replica keys: {replica_key[1]}", key_control=replica_key[0])
        )

    try:
        enc = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        default = enc.get("ApplyServerSideEncryptionByDefault", {})
        algorithm, key_id = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
        if algorithm == "AES256":
            key = (KeyControl.PROVIDER_MANAGED, "SSE-S3 (S3 managed keys)")
        elif algorithm in ("aws:kms", "aws:kms:dsse"):
            key = account.key_control(region, key_id, f"{algorithm} with the AWS managed key aws/s3")
            yield from account.key_skips(region, key_id)
        else:
            key = (KeyControl.UNKNOWN, f"unrecognised default encryption {algorithm!r}")
    except ClientError as exc:
        if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            key = (
                KeyControl.PROVIDER_MANAGED,
                "no default encryption rule: S3 applies SSE-S3 to new objects",
            )
        else:
            key = (KeyControl.UNKNOWN, f"default encryption unreadable: {describe_error(exc)}")
            yield Skip(
                Provider.AWS,
                account.scope("service", "s3", "bucket", name, "encryption"),
                f"key control unknown: {describe_error(exc)}",
            )

    arn = f"arn:{account.partition}:s3:::{name}"
    tags, skip = account.tags_for(region, TAG_TYPES["s3"], arn)
    if skip:
        yield skip
    yield resource(account, "s3", "AWS::S3::Bucket", arn, name, footprint, tags, key)


def _replica_key_id(rule: dict[str, Any]) -> str | None:
    # botocore s3 model: ReplicationRule.Destination.EncryptionConfiguration.ReplicaKmsKeyID
    key: str | None = ((rule.get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    return key


def _replica_key(account: Account, rule: dict[str, Any], region: str) -> tuple[KeyControl, str]:
    """A replica's own keys: a rule re-encrypts SSE-KMS replicas with ReplicaKmsKeyID.

    Without one, what it replicates is not under the source's KMS key (SSE-KMS objects need ReplicaKmsKeyID to be
    replicated at all), so the replica is counted as under S3's keys (SSE-S3), never under a better key.
    """
    key_id = _replica_key_id(rule)
    if key_id:
        return account.key_control(region, key_id, None)
    return KeyControl.PROVIDER_MANAGED, "no ReplicaKmsKeyID: replicas under S3 managed keys (SSE-S3) at best"


def _replica_bucket(account: Account, dest: str, note: str) -> Copy:
    try:
        return Copy(account.bucket_regions.get(dest), CopyRole.REPLICA, note=f"{note} → s3://{dest}")
    except Exception as exc:  # another account's bucket we may not read: unknown, never guessed
        return Copy(
            UNKNOWN_LOCATION,
            CopyRole.REPLICA,
            note=f"{note} → s3://{dest}: region unreadable ({describe_error(exc)})",
        )


# --- the Terraform plan reader --------------------------------------------------------------------------------

# --- AWS: S3 ---------------------------------------------------------------------------------------------------


def _plan_s3_bucket(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note), *_plan_s3_replicas(ctx, item)]
    return ctx.resource(
        item,
        Provider.AWS,
        ("s3", "AWS::S3::Bucket", "bucket"),
        footprint,
        _plan_s3_key(ctx, item),
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_s3_replicas(ctx: Context, bucket: Item) -> list[Copy]:
    copies: list[Copy] = []
    for config in ctx.linked(bucket, "aws_s3_bucket_replication_configuration"):
        copies.extend(_plan_s3_rules(ctx, config, ("rule",)))
    # The inline block (configurable in AWS provider v3, read-only since v4) mirrors the live configuration of an
    # existing bucket: read it only when no separate resource does, or each rule would count twice.
    # Since v4 the block is computed, so it is known only after apply for every new bucket: unknown rules count
    # only where the configuration sets the block (v3), never for the computed mirror.
    configured_unknown = bucket.is_unknown("replication_configuration") and bucket.configured(
        "replication_configuration"
    )
    if not copies and (bucket.blocks("replication_configuration") or configured_unknown):
        copies.extend(_plan_s3_rules(ctx, bucket, ("replication_configuration", 0, "rules")))
    return copies


def _plan_s3_rules(ctx: Context, source: Item, rules_path: tuple[str | int, ...]) -> list[Copy]:
    if source.is_unknown(*rules_path):
        return [unknown_copy(CopyRole.REPLICA, f"replication rules of {source.address}: {AFTER_APPLY}")]
    copies = []
    for i, rule in enumerate(source.blocks(*rules_path)):
        state = "enabled" if rule.get("status") == "Enabled" else "disabled (earlier replicas may remain)"
        what = f"replication rule {rule.get('id') or i} {state}"
        copy = _plan_s3_destination(ctx, source, (*rules_path, i, "destination", 0, "bucket"), what)
        # the replica's own keys: the rule's replica_kms_key_id (the live reader's ReplicaKmsKeyID)
        key_path = (*rules_path, i, "destination", 0, "encryption_configuration", 0, "replica_kms_key_id")
        if source.get(*key_path[:-1]) is None and not source.is_unknown(*key_path[:-1]):
            key = (
                KeyControl.PROVIDER_MANAGED,
                "no replica_kms_key_id: replicas under S3 managed keys (SSE-S3) at best",
            )
        else:
            key = ctx.aws_key(source, key_path, "replicas under S3 managed keys (SSE-S3)")
        note = f"{copy.note}; replica keys: {key[1]}"
        copies.append(Copy(copy.code, copy.role, note=note, key_control=key[0]))
    return copies


def _plan_s3_name(arn: str) -> str:
    return arn.split(":::")[-1]


def _plan_s3_destination(ctx: Context, source: Item, path: tuple[str | int, ...], what: str) -> Copy:
    arn = source.text(*path)
    targets = ctx.target(source, path, "aws_s3_bucket", ("bucket",), _plan_s3_name)
    if not targets:
        if arn is None:
            return unknown_copy(CopyRole.REPLICA, f"{what}: destination bucket {AFTER_APPLY}")
        return unknown_copy(
            CopyRole.REPLICA,
            f"{what} → s3://{_plan_s3_name(arn)}: the destination bucket is not in this plan, so its region is unknown"
            " (scan the live account)",
        )
    regions = {ctx.aws_region(t) for t in targets}
    shown = targets[0].text("bucket") if len(targets) == 1 else None
    where = f"s3://{shown}" if shown else " or ".join(t.address for t in targets)
    if len(regions) == 1:
        region, note = regions.pop()
        return Copy(region, CopyRole.REPLICA, note=f"{what} → {where}" + (f"; {note}" if note else ""))
    return unknown_copy(CopyRole.REPLICA, f"{what} → {where}: instances in different regions")


def _plan_s3_key(ctx: Context, bucket: Item) -> tuple[KeyControl, str]:
    configs = ctx.linked(bucket, "aws_s3_bucket_server_side_encryption_configuration")
    prefix: tuple[str | int, ...]
    if configs:
        source, prefix = configs[0], ("rule", 0, "apply_server_side_encryption_by_default", 0)
    elif bucket.blocks("server_side_encryption_configuration"):
        source = bucket
        prefix = ("server_side_encryption_configuration", 0, "rule", 0, "apply_server_side_encryption_by_default", 0)
    else:
        return KeyControl.PROVIDER_MANAGED, "no default encryption rule: S3 applies SSE-S3 to new objects"
    algorithm = source.text(*prefix, "sse_algorithm")
    if algorithm == "AES256":
        return KeyControl.PROVIDER_MANAGED, "SSE-S3 (S3 managed keys)"
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        return ctx.aws_key(source, (*prefix, "kms_master_key_id"), f"{algorithm} with the AWS managed key aws/s3")
    if algorithm is None:
        return KeyControl.UNKNOWN, f"default encryption algorithm {AFTER_APPLY}"
    return KeyControl.UNKNOWN, f"unrecognised default encryption {algorithm!r}"


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_s3_bucket": _plan_s3_bucket}
