"""Artifact Registry repositories: their location (a region, or us, europe, asia) and CMEK; live and planned.

Artifact Registry API v1 (discovery document `artifactregistry:v1`): `projects.locations.list`, then
`projects.locations.repositories.list` per location (the API accepts no `-` wildcard for the location), each paged
(`pageSize` ≤ 1,000, `pageToken`/`nextPageToken`). Each location is its own task, so a project costs one request per
location with the API. `us` and `asia` resolve to the knowledge base's United States and Asia multi-regions,
`europe` to its own entry (every European country with a Google Cloud region: an upper bound).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource, scope
from ...model import Copy, CopyRole, Provider, Resource
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, mapping, text

ASSET = "artifactregistry.googleapis.com/Repository"


def repository_list(gcp: Gcp, project: str) -> Iterator[Task]:
    """One task per location Artifact Registry offers the project."""
    path = f"/v1/projects/{project}/locations"
    for location in gcp.pages("artifactregistry", path, "artifactregistry locations.list", "locations"):
        where = text(mapping(location).get("locationId"))
        if where:
            yield Task(
                Provider.GCP,
                scope(project, "artifact-registry", "location", where),
                functools.partial(_in_location, gcp, project, where),
                describe_error,
            )


def _in_location(gcp: Gcp, project: str, location: str) -> Iterator[Resource]:
    path = f"/v1/projects/{project}/locations/{location}/repositories"
    operation = "artifactregistry repositories.list"
    for item in gcp.pages("artifactregistry", path, operation, "repositories", {"pageSize": "1000"}):
        yield from_body(gcp, project, mapping(item))


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A repository from its v1 JSON (name: projects/{p}/locations/{location}/repositories/{id})."""
    parts = (text(item.get("name")) or "").split("/")
    location = parts[3] if len(parts) == 6 and parts[3] else UNKNOWN_LOCATION
    name = parts[-1] or "?"
    key = text(item.get("kmsKeyName"))
    return resource(
        gcp,
        project,
        "artifact-registry",
        ASSET,
        f"//artifactregistry.googleapis.com/projects/{project}/locations/{location}/repositories/{name}",
        name,
        [Copy(location, CopyRole.PRIMARY, note=f"{text(item.get('format')) or '?'} repository")],
        labels(item.get("labels")),
        gcp.key_control(key, GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY,
    )


def _plan_repository(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    if location:
        copy = Copy(location, CopyRole.PRIMARY)
    else:
        copy = unknown_copy(
            CopyRole.PRIMARY, f"location {AFTER_APPLY}" if item.is_unknown("location") else "no location"
        )
    return ctx.resource(
        item,
        Provider.GCP,
        ("artifact-registry", ASSET, "repository_id"),
        [copy],
        ctx.gcp_key(item, ("kms_key_name",)),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates (google provider: location, kms_key_name)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_artifact_registry_repository": _plan_repository}
