"""The AWS stores' registry: each --service name's endpoint service, tag type and per-region listing.

A new store adds its row here (and its name to scan.SERVICES), not to clouds/aws.py. Store modules are imported
only when `listings()` is first called, so importing this module (clouds.aws does) costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...clouds.aws import Account
    from ...model import Resource, Skip
    from ...pipeline import Task

# The botocore service each of our service names needs, for botocore's per-partition region lists.
ENDPOINT_SERVICE = {
    "s3": "s3",
    "dynamodb": "dynamodb",
    "rds": "rds",
    "ebs-snapshot": "ec2",
    "backup-vault": "backup",
    "kms-key": "kms",
    "secret": "secretsmanager",
    "ecr-repository": "ecr",
    "redshift": "redshift",
    "efs": "efs",
    "docdb": "docdb",
    "neptune": "neptune",
    "elasticache": "elasticache",
    "elasticache-cluster": "elasticache",
    "elasticache-serverless": "elasticache",
    # botocore lists no regions for docdb-elastic (its endpoints are rules): elastic clusters are a DocumentDB
    # feature, so DocumentDB's regions bound them (a region inside them without the service is a skip, not silence)
    "docdb-elastic": "docdb",
    "memorydb": "memorydb",
    "opensearch": "opensearch",
    "ami": "ec2",
    "log-group": "logs",
}
# Partitions a service is not offered in at all, where its regions need not be listed. docdb-elastic: "not available in
# China regions or AWS GovCloud" (Amazon DocumentDB developer guide, "Using Amazon DocumentDB elastic clusters",
# https://docs.aws.amazon.com/documentdb/latest/developerguide/docdb-using-elastic-clusters.html, read 2026-11-30)
ABSENT_IN_PARTITIONS = {"docdb-elastic": ("aws-cn", "aws-us-gov")}
# Resource Groups Tagging API resource types, for stores whose list calls carry no tags
TAG_TYPES = {
    "s3": "s3:bucket",
    "dynamodb": "dynamodb:table",
    "elasticache": "elasticache:replicationgroup",
    "elasticache-cluster": "elasticache:cluster",
    "elasticache-serverless": "elasticache:serverlesscache",
    "memorydb": "memorydb:cluster",
    "opensearch": "es:domain",
}


def listings() -> dict[str, Callable[[Account, str], Iterator[Task | Resource | Skip]]]:
    """Each per-region service's listing: (account, region) → its tasks, resources and skips (S3 lists per account)."""
    from .ami import ami_list
    from .backup import backup_list
    from .docdb import docdb_list, neptune_list
    from .docdb_elastic import docdb_elastic_list
    from .dynamodb import dynamodb_list
    from .ebs import ebs_list
    from .ecr import ecr_list
    from .efs import efs_list
    from .elasticache import elasticache_list
    from .elasticache_clusters import cache_cluster_list
    from .elasticache_serverless import serverless_cache_list
    from .kms import kms_list
    from .logs import logs_list
    from .memorydb import memorydb_list
    from .opensearch import opensearch_list
    from .rds import rds_list
    from .redshift import redshift_list
    from .secrets import secrets_list

    return {
        "dynamodb": dynamodb_list,
        "rds": rds_list,
        "ebs-snapshot": ebs_list,
        "backup-vault": backup_list,
        "kms-key": kms_list,
        "secret": secrets_list,
        "ecr-repository": ecr_list,
        "redshift": redshift_list,
        "efs": efs_list,
        "docdb": docdb_list,
        "neptune": neptune_list,
        "elasticache": elasticache_list,
        "elasticache-cluster": cache_cluster_list,
        "elasticache-serverless": serverless_cache_list,
        "docdb-elastic": docdb_elastic_list,
        "memorydb": memorydb_list,
        "opensearch": opensearch_list,
        "ami": ami_list,
        "log-group": logs_list,
    }
