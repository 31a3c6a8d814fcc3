"""BigQuery datasets: location and default encryption; live and planned."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, GcpApiError, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION

# --- BigQuery ------------------------------------------------------------------------------------------------


def bigquery_list(gcp: Gcp, project: str) -> Iterator[Task]:
    """The project's datasets: one task per dataset (its encryption needs a datasets.get)."""
    for item in gcp.pages(
        "bigquery",
        f"/bigquery/v2/projects/{project}/datasets",
        "bigquery datasets.list",
        "datasets",
        {"maxResults": "1000", "all": "true"},  # hidden datasets hold data too
    ):
        ref = item.get("datasetReference") or {}
        dataset = ref.get("datasetId") or str(item.get("id", "")).split(":")[-1]
        if dataset:
            yield Task(
                Provider.GCP,
                scope(project, "bigquery-dataset", "dataset", dataset),
                functools.partial(_bigquery_dataset, gcp, project, dataset, item),
                describe_error,
            )


def _bigquery_dataset(gcp: Gcp, project: str, dataset: str, listed: dict[str, Any]) -> Iterator[Resource | Skip]:
    # datasets.list has location and labels but not defaultEncryptionConfiguration: one datasets.get each
    try:
        full = gcp.get("bigquery", f"/bigquery/v2/projects/{project}/datasets/{dataset}", "bigquery datasets.get")
        cmek = (full.get("defaultEncryptionConfiguration") or {}).get("kmsKeyName")
        key = gcp.key_control(cmek, GOOGLE_DEFAULT_KEY)
    except Exception as exc:
        if isinstance(exc, GcpApiError) and exc.status == 404:
            return  # deleted since it was listed: no data left to report
        full = listed
        key = (KeyControl.UNKNOWN, f"dataset unreadable, so its default encryption is unknown: {describe_error(exc)}")
        yield Skip(Provider.GCP, scope(project, "bigquery-dataset", "dataset", dataset), key[1])
    location = str(full.get("location") or listed.get("location") or UNKNOWN_LOCATION)
    yield resource(
        gcp,
        project,
        "bigquery-dataset",
        "bigquery.googleapis.com/Dataset",
        f"//bigquery.googleapis.com/projects/{project}/datasets/{dataset}",
        dataset,
        [Copy(location, CopyRole.PRIMARY)],
        dict(full.get("labels") or listed.get("labels") or {}),
        key,
    )


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_bigquery_dataset(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    copy = Copy(location, CopyRole.PRIMARY) if location else unknown_copy(CopyRole.PRIMARY, f"location {AFTER_APPLY}")
    return ctx.resource(
        item,
        Provider.GCP,
        ("bigquery-dataset", "bigquery.googleapis.com/Dataset", "dataset_id"),
        [copy],
        ctx.gcp_key(item, ("default_encryption_configuration", 0, "kms_key_name")),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_bigquery_dataset": _plan_bigquery_dataset}
