"""The plan reader's evaluators, gathered from the store modules (each holds its live and its plan reader)."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Resource
from ..stores.aws import (
    ami,
    backup,
    backup_policy,
    docdb,
    docdb_elastic,
    dynamodb,
    ecr,
    efs,
    elasticache,
    elasticache_clusters,
    elasticache_serverless,
    kms,
    memorydb,
    opensearch,
    rds,
    redshift,
    s3,
    secrets,
)
from ..stores.aws import logs as aws_logs
from ..stores.azure import (
    cache,
    cosmos,
    gallery,
    keyvault,
    managed_instance,
    messaging,
    registry,
    storage,
    vaults,
    workspaces,
)
from ..stores.gcp import artifacts, backupdr, bigquery, bigtable, compute, firestore, gcs, pubsub, spanner
from ..stores.gcp import logging as gcp_logging
from ..stores.gcp import secrets as gcp_secrets
from ..stores.gcp import sinks as gcp_sinks
from .context import Context, Item

_MODULES = (
    *(s3, dynamodb, rds, backup, kms, secrets, ecr, redshift, efs, docdb, elasticache, memorydb, opensearch),
    *(ami, aws_logs, elasticache_clusters, elasticache_serverless, docdb_elastic, backup_policy),
    *(storage, cosmos, vaults, keyvault, managed_instance, registry, messaging, cache, workspaces, gallery),
    *(gcs, bigquery, compute, gcp_secrets, gcp_logging, pubsub, spanner, artifacts, firestore, bigtable, backupdr),
    gcp_sinks,
)
PLAN_READERS: dict[str, Callable[[Context, Item], Resource]] = {
    t: fn for module in _MODULES for t, fn in module.PLAN.items()
}
# Readers of types some of whose instances are no data store of their own (an Organizations policy of another type
# than BACKUP_POLICY): for those they give the reason, listed as not evaluated and not counted as a store.
PLAN_OR_REASON: dict[str, Callable[[Context, Item], Resource | str]] = {
    t: fn for module in _MODULES for t, fn in getattr(module, "PLAN_OR_REASON", {}).items()
}
