"""The plan reader's evaluators, gathered from the store modules (each holds its live and its plan reader)."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Resource
from ..stores.aws import dynamodb, rds, s3
from ..stores.azure import cosmos, storage
from ..stores.gcp import (
    artifacts,
    backupdr,
    bigquery,
    bigtable,
    compute,
    firestore,
    gcs,
    logging,
    pubsub,
    secrets,
    spanner,
)
from .context import Context, Item

PLAN_READERS: dict[str, Callable[[Context, Item], Resource]] = {
    t: fn
    for module in (
        s3,
        dynamodb,
        rds,
        storage,
        cosmos,
        gcs,
        bigquery,
        compute,
        secrets,
        logging,
        pubsub,
        spanner,
        artifacts,
        firestore,
        bigtable,
        backupdr,
    )
    for t, fn in module.PLAN.items()
}
