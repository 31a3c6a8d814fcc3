"""BigQuery datasets: location, cross-region replicas and default encryption; live and planned.

BigQuery API v2 (discovery document `bigquery:v2`): `datasets.list`, `datasets.get`, and for replicas one
`jobs.query` per project and dataset location: `SELECT schema_name, location, replica_name FROM
region-{location}.INFORMATION_SCHEMA.SCHEMATA_REPLICAS` (read-only metadata; a query on INFORMATION_SCHEMA is billed
at BigQuery's 10 MB minimum under on-demand pricing, so about $0.00006 per project and location at $6.25 per TiB;
it needs `bigquery.jobs.create`). A replica's `location` is a copy of the dataset. When the query cannot run (no
permission to create jobs, a location without replication), that (project, location) is one skip and the datasets
keep their primary location only.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, GcpApiError, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import listed, mapping, text

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
    copies = [Copy(location, CopyRole.PRIMARY)]
    replicas, skip = replica_copies(gcp, project, location, dataset)
    copies += replicas
    if skip is not None:
        yield skip
    yield resource(
        gcp,
        project,
        "bigquery-dataset",
        "bigquery.googleapis.com/Dataset",
        f"//bigquery.googleapis.com/projects/{project}/datasets/{dataset}",
        dataset,
        copies,
        dict(full.get("labels") or listed.get("labels") or {}),
        key,
    )


_SAFE = re.compile(r"^[a-z0-9][a-z0-9.:-]*$")  # project ids and locations: nothing that could end the identifier
_REPLICA_SQL = (
    "SELECT schema_name, location, replica_name"
    " FROM `{project}`.`region-{location}`.INFORMATION_SCHEMA.SCHEMATA_REPLICAS"
)


def replica_copies(gcp: Gcp, project: str, location: str, dataset: str) -> tuple[list[Copy], Skip | None]:
    """The dataset's replicas (one metadata query per project and location, shared); a skip, once, if unreadable."""
    memo = gcp.memo("bigquery-replicas", lambda key: _replicas(gcp, *key))
    key = (project, location.lower())
    try:
        found: dict[str, list[tuple[str, str]]] = memo.get(key)
    except Exception as exc:
        if not memo.first_failure(key):
            return [], None
        reason = f"dataset replicas in {location} unknown: INFORMATION_SCHEMA.SCHEMATA_REPLICAS could not be read"
        return [], Skip(
            Provider.GCP, scope(project, "bigquery-dataset", "replicas", location), f"{reason} ({describe_error(exc)})"
        )
    return [
        Copy(where, CopyRole.REPLICA, note=f"dataset replica {name}") for where, name in found.get(dataset, [])
    ], None


def _replicas(gcp: Gcp, project: str, location: str) -> dict[str, list[tuple[str, str]]]:
    if not (_SAFE.match(project) and _SAFE.match(location)):
        raise ValueError(f"not a project id and location BigQuery would accept: {project!r}, {location!r}")
    body = {
        "query": _REPLICA_SQL.format(project=project, location=location),
        "useLegacySql": False,
        "requestId": str(uuid.uuid4()),  # retried POSTs run the query once
        "timeoutMs": int(gcp.options.timeout * 1000),
        "maxResults": 10000,
    }
    path = f"/bigquery/v2/projects/{project}/queries"
    page = gcp.get("bigquery", path, "bigquery jobs.query", query=body)
    out: dict[str, list[tuple[str, str]]] = {}
    for _ in range(100):  # pages of 10,000 replicas, or waits for a slow job: bounded either way
        for row in listed(page.get("rows")):
            cells = [mapping(c).get("v") for c in listed(mapping(row).get("f"))] + [None, None, None]
            schema, where, name = cells[:3]
            if isinstance(schema, str) and isinstance(where, str) and isinstance(name, str):
                out.setdefault(schema, []).append((where, name))
        complete = page.get("jobComplete") is not False
        token = text(page.get("pageToken"))
        if complete and not token:
            return out
        ref = mapping(page.get("jobReference"))
        job = text(ref.get("jobId"))
        if not job:
            raise ValueError("jobs.query left results to read but named no job")
        params = {"location": text(ref.get("location")) or location, "timeoutMs": str(body["timeoutMs"])}
        if token and complete:
            params["pageToken"] = token
        page = gcp.get("bigquery", f"{path}/{job}", "bigquery jobs.getQueryResults", params)
    raise ValueError("SCHEMATA_REPLICAS query did not finish")


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
