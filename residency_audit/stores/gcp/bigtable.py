"""Bigtable instances: one copy per cluster (replication copies data to each), each cluster's CMEK; live, planned.

Cloud Bigtable Admin API v2 (discovery document `bigtableadmin:v2`): `projects.instances.list` (labels) and one
`projects.instances.clusters.list` over instance `-` (every cluster of the project), both paged
(`pageToken`/`nextPageToken`); locations that could not be reached are named in `failedLocations`, each a skip.
A cluster's `location` is a zone (`projects/{p}/locations/europe-west1-b`): the copy is its region, the zone in
the note. The instance's key control is its weakest cluster's (`encryptionConfig.kmsKeyName`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, ZONE, Gcp, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, mapping, text
from .secrets import weakest

ASSET = "bigtableadmin.googleapis.com/Instance"


def _all(gcp: Gcp, path: str, operation: str, items: str) -> tuple[list[dict[str, Any]], list[str]]:
    out: list[dict[str, Any]] = []
    failed: list[str] = []
    query: dict[str, str] = {}
    while True:
        page = gcp.get("bigtableadmin", path, operation, query)
        out += [mapping(i) for i in listed(page.get(items))]
        failed += [str(f) for f in listed(page.get("failedLocations"))]
        token = text(page.get("nextPageToken"))
        if not token:
            return out, failed
        query["pageToken"] = token


def instance_list(gcp: Gcp, project: str) -> Iterator[Resource | Skip]:
    """The project's instances, each with every cluster's location."""
    instances, failed = _all(gcp, f"/v2/projects/{project}/instances", "bigtableadmin instances.list", "instances")
    clusters, failed_clusters = _all(
        gcp, f"/v2/projects/{project}/instances/-/clusters", "bigtableadmin clusters.list", "clusters"
    )
    for location in sorted(set(failed + failed_clusters)):
        yield Skip(
            Provider.GCP,
            scope(project, "bigtable-instance", "location", location.rsplit("/", 1)[-1]),
            "Bigtable could not list this location (unavailable): instances or clusters there are unknown",
        )
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for cluster in clusters:
        owner = (text(cluster.get("name")) or "").split("/clusters/")[0]
        by_instance.setdefault(owner, []).append(cluster)
    for item in instances:
        yield from_body(gcp, project, item, by_instance.get(text(item.get("name")) or "", []))


def from_body(gcp: Gcp, project: str, item: dict[str, Any], clusters: list[dict[str, Any]]) -> Resource:
    """An instance from its v2 JSON and its clusters'."""
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
    copies: list[Copy] = []
    keys: list[tuple[KeyControl, str]] = []
    for cluster in clusters:
        cid = (text(cluster.get("name")) or "?").rsplit("/", 1)[-1]
        zone = (text(cluster.get("location")) or "").rsplit("/", 1)[-1]
        match = ZONE.match(zone)
        where = match.group(1).lower() if match else (zone or UNKNOWN_LOCATION)
        role = CopyRole.PRIMARY if not copies else CopyRole.REPLICA
        key = text(mapping(cluster.get("encryptionConfig")).get("kmsKeyName"))
        control, note = gcp.key_control(key, GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY
        # each cluster has its own key: the copy carries it, so the worst copy decides
        copies.append(Copy(where, role, note=f"cluster {cid} in zone {zone or '?'}; {note}", key_control=control))
        keys.append((control, f"cluster {cid}: {note}"))
    if not copies:
        copies.append(Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note="no clusters listed for this instance"))
        keys.append((KeyControl.UNKNOWN, "no clusters listed, so their keys are unknown"))
    return resource(
        gcp,
        project,
        "bigtable-instance",
        ASSET,
        f"//bigtableadmin.googleapis.com/projects/{project}/instances/{name}",
        name,
        copies,
        labels(item.get("labels")),
        weakest(keys),
    )


def _plan_instance(ctx: Context, item: Item) -> Resource:
    copies: list[Copy] = []
    keys: list[tuple[KeyControl, str]] = []
    if item.is_unknown("cluster"):
        copies.append(unknown_copy(CopyRole.PRIMARY, f"clusters {AFTER_APPLY}"))
    for i, cluster in enumerate(item.blocks("cluster")):
        zone = cluster.get("zone")
        match = ZONE.match(zone) if isinstance(zone, str) else None
        role = CopyRole.PRIMARY if not copies else CopyRole.REPLICA
        control, note = ctx.gcp_key(item, ("cluster", i, "kms_key_name"))
        if match:
            copies.append(
                Copy(match.group(1).lower(), role, note=f"cluster in zone {zone}; {note}", key_control=control)
            )
        else:
            copies.append(unknown_copy(role, f"cluster zone {AFTER_APPLY}" if zone is None else f"zone {zone}"))
        keys.append((control, f"cluster {i}: {note}"))
    if not copies:
        copies.append(unknown_copy(CopyRole.PRIMARY, "no cluster block in the plan"))
    return ctx.resource(
        item,
        Provider.GCP,
        ("bigtable-instance", ASSET, "name"),
        copies,
        weakest(keys) if keys else (KeyControl.UNKNOWN, "no cluster in the plan"),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates (google provider: cluster[].zone, kms_key_name)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_bigtable_instance": _plan_instance}
