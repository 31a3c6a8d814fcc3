"""Amazon DocumentDB elastic clusters: the cluster's region and its key; live and planned.

Field names are those of botocore's `docdb-elastic` model (2022-11-28): ListClusters `clusters[]` (`clusterArn`,
`clusterName`), GetCluster `cluster` (`kmsKeyId`) and ListTagsForResource `tags`. An elastic cluster's shards live
in its region; with no key chosen it is encrypted under the account's default DocumentDB key, an AWS managed key
(`kmsKeyId` names it either way, and DescribeKey tells which). An empty region costs one request; a cluster costs
two more (its description and its tags: the list carries neither).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import Context, Item
from .common import single_region_plan

RTYPE = "AWS::DocDBElastic::Cluster"
SERVICE = "docdb-elastic"
DEFAULT_KEY = "encrypted with the account's default DocumentDB key for the region, an AWS managed key"

# --- live -----------------------------------------------------------------------------------------------------


def docdb_elastic_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's elastic clusters, each under its own key."""
    client = account.client("docdb-elastic", region)
    for summary in (c for page in client.get_paginator("list_clusters").paginate() for c in page.get("clusters", [])):
        arn = summary["clusterArn"]
        name = summary.get("clusterName") or arn.rsplit("/", 1)[-1]
        scope = account.scope("region", region, "service", SERVICE, "cluster", name)
        try:
            key_id = client.get_cluster(clusterArn=arn)["cluster"].get("kmsKeyId")
            key = account.key_control(region, key_id, None)
        except Exception as exc:
            key_id, key = None, (KeyControl.UNKNOWN, f"cluster unreadable ({describe_error(exc)})")
            yield Skip(Provider.AWS, scope, f"key control unknown: {describe_error(exc)}")
        try:
            found = client.list_tags_for_resource(resourceArn=arn).get("tags") or {}
            tags = {str(k): str(v) for k, v in found.items()}
        except Exception as exc:
            tags = {}
            reason = f"tags unreadable, so declared encryption and classification are unknown: {describe_error(exc)}"
            yield Skip(Provider.AWS, f"{scope}/tags", reason)
        yield resource(account, SERVICE, RTYPE, arn, name, [Copy(region, CopyRole.PRIMARY)], tags, key)
        yield from account.key_skips(region, key_id)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_cluster(ctx: Context, item: Item) -> Resource:
    return single_region_plan(ctx, item, (SERVICE, RTYPE), DEFAULT_KEY)


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_docdb_elastic_cluster": _plan_cluster}
