"""ElastiCache serverless caches: the cache's region and its key; live and planned.

Field names are those of botocore's `elasticache` model (2015-02-02): DescribeServerlessCaches `ServerlessCaches[]`
(`ServerlessCacheName`, `ARN`, `KmsKeyId`, `StorageEncryptionType`). A serverless cache is regional (its data is
spread over the region's zones, chosen by the service) and always encrypted at rest: `StorageEncryptionType` is
`sse-elasticache` for ElastiCache's own key, `sse-kms` for the customer managed KMS key `KmsKeyId`. An empty region
costs one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, resource
from ...model import Copy, CopyRole, KeyControl, Resource, Skip
from ...plan.context import Context, Item
from .common import single_region_plan
from .registry import TAG_TYPES

RTYPE = "AWS::ElastiCache::ServerlessCache"
SERVICE = "elasticache-serverless"
DEFAULT_KEY = "encrypted at rest with an ElastiCache-managed key (serverless caches' default)"

# --- live -----------------------------------------------------------------------------------------------------


def serverless_cache_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's serverless caches, each under its own key."""
    pages = account.client("elasticache", region).get_paginator("describe_serverless_caches").paginate()
    for cache in (c for page in pages for c in page.get("ServerlessCaches", [])):
        name = cache["ServerlessCacheName"]
        arn = cache.get("ARN") or f"arn:{account.partition}:elasticache:{region}:{account.id}:serverlesscache:{name}"
        tags, skip = account.tags_for(region, TAG_TYPES[SERVICE], arn)
        if skip is not None:
            yield skip
        key = _key(account, region, cache)
        yield resource(account, SERVICE, RTYPE, arn, name, [Copy(region, CopyRole.PRIMARY)], tags, key)
        if cache.get("StorageEncryptionType") != "sse-elasticache":
            yield from account.key_skips(region, cache.get("KmsKeyId"))


def _key(account: Account, region: str, cache: dict[str, Any]) -> tuple[KeyControl, str]:
    kind = cache.get("StorageEncryptionType")
    if kind == "none":  # not an option the service offers today; reported as the API says it
        return KeyControl.PROVIDER_MANAGED, "not encrypted at rest (StorageEncryptionType none)"
    if kind == "sse-elasticache":
        return KeyControl.PROVIDER_MANAGED, DEFAULT_KEY
    # sse-kms names its key; an older answer without the field: its KmsKeyId, else ElastiCache's own key
    return account.key_control(region, cache.get("KmsKeyId"), None if kind == "sse-kms" else DEFAULT_KEY)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_cache(ctx: Context, item: Item) -> Resource:
    return single_region_plan(ctx, item, (SERVICE, RTYPE), DEFAULT_KEY)


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_elasticache_serverless_cache": _plan_cache}
