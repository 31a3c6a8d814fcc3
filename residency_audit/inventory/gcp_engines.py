"""Google Cloud: Cloud Asset Inventory answers for a scope, and the stores assess its resources from its JSON.

For an organization, a folder or a project, one `searchAllResources` per 500 resources lists everything, with each
resource's own JSON (`versionedResources`). Buckets, datasets and Cloud SQL instances are assessed from that JSON
by the same code that reads the per-service APIs' answers, so a scan of 200 projects costs a page of inventory
instead of three listings per project (plus a `datasets.get` per dataset). Only Cloud KMS keys are still read, once
per key. A project CAI does not show, a record without its JSON, or a scope CAI refuses or fails on, is walked
service by service, as without CAI; the reason is logged (`--debug`) and the scan goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from ..clouds import gcp as walk
from ..model import Copy, CopyRole, Provider, Resource, Skip
from ..pipeline import Task
from ..stores.common import UNKNOWN_LOCATION, dedupe_places
from ..stores.gcp.bigquery import replica_copies
from ..stores.gcp.cloudsql import _sql_instance
from ..stores.gcp.gcs import _gcs_bucket
from . import Found, cloud_asset
from .records import Blind, Listed, readers

_log = logging.getLogger(__name__)

#: CAI asset type → the service that reads it (the names --service takes), from the catalogue; each of these
#: services is assessed from CAI's JSON below
READERS = {name: service for name, service in readers(Provider.GCP).items() if service in walk.SERVICES}
#: the services assessed from CAI's own JSON of the resource; the other stores list a project where CAI found some
FROM_JSON = ("gcs", "bigquery-dataset", "cloudsql-instance")
SINK_TYPE = "logging.googleapis.com/LogSink"


def scope_task(gcp: Any, scope: str) -> Task:
    """The task that searches `scope` (organizations/N, folders/N, projects/ID) and yields the stores' work."""
    return Task(Provider.GCP, _label(scope), functools.partial(_search, gcp, scope), walk.describe_error)


def _label(scope: str) -> str:
    return (
        scope.replace("organizations/", "organization/").replace("folders/", "folder/").replace("projects/", "project/")
    )


def _search(gcp: Any, scope: str) -> Iterator[Task | Resource | Skip | Found]:
    records = list(cloud_asset.search(gcp, scope, walk.describe_error))
    blind = [r for r in records if isinstance(r, Blind)]
    if blind:
        # part of the scope unseen: walk all of it (what was listed would only be found twice)
        _log.info("%s for %s: walking it service by service", blind[0].reason, scope)
        yield from _walk(gcp, scope)
        return
    listed = [r for r in records if isinstance(r, Listed)]
    yield Found(Provider.GCP, cloud_asset.ENGINE, _label(scope), "", 0)
    for record in listed:
        # the types stores read are counted by what they assess; with --service, only those types are asked for
        if record.native_type not in READERS and not gcp.options.services:
            where = (record.location,) if record.location else ()
            yield Found(Provider.GCP, cloud_asset.ENGINE, f"project/{record.account}", record.native_type, 1, where)
    # sinks of an organization or folder (no project): each such parent's sinks are listed once
    container_sinks = {_sink_parent(r) for r in listed if r.native_type == SINK_TYPE and "/" in r.account}
    listed = [r for r in listed if not (r.native_type == SINK_TYPE and "/" in r.account)]
    if "logging-sink" in (gcp.options.services or walk.SERVICES):
        for parent in sorted(p for p in container_sinks if p):
            yield from walk.container_sinks_task(gcp, parent)
    projects = sorted({r.account for r in listed if r.native_type == cloud_asset.PROJECT_TYPE})
    by_project: dict[str, dict[str, list[Listed]]] = {}
    for record in listed:
        service = READERS.get(record.native_type)
        if service is not None:
            by_project.setdefault(record.account, {}).setdefault(service, []).append(record)
    wanted = gcp.options.services or walk.SERVICES
    for project in sorted(set(projects) | set(by_project)):
        if not gcp.claim(project):  # reached by another search already
            continue
        for service in wanted:
            items = by_project.get(project, {}).get(service, [])
            if not items:
                continue  # CAI lists none here: nothing to read
            if service == "compute-snapshot":
                # regionally scoped snapshots are not in snapshots.list: assessed from CAI's JSON of them
                # by name (…/regions/R/snapshots/S): a global snapshot's CAI location may be its storage location
                regional = [i for i in items if _segment(i.id, "regions")]
                if regional:
                    yield Task(
                        Provider.GCP,
                        walk.scope(project, service, "regional"),
                        functools.partial(_regional_snapshots, gcp, project, regional),
                        walk.describe_error,
                    )
                    items = [i for i in items if i not in regional]
                    if not items:
                        continue
            if service not in FROM_JSON or any(not i.properties.get("resource") for i in items):
                # the other stores (snapshots, secrets, topics, ...) list the project's resources themselves: CAI
                # says where to look, their own APIs say where the copies are (replicas, keys, configurations)
                yield from _walk_service(gcp, project, service, items)
                continue
            yield Task(
                Provider.GCP,
                walk.scope(project, service),
                functools.partial(_assess, gcp, project, service, [dict(i.properties["resource"]) for i in items]),
                walk.describe_error,
            )


def _regional_snapshots(gcp: Any, project: str, records: list[Listed]) -> Iterator[Resource | Skip]:
    from ..stores.gcp import compute

    for record in records:
        body = record.properties.get("resource")
        if isinstance(body, dict) and body:
            yield compute.regional_snapshot(gcp, project, _segment(record.id, "regions"), dict(body))
        else:
            yield Skip(
                Provider.GCP,
                walk.scope(project, "compute-snapshot", "snapshot", record.name),
                f"regional snapshot in {_segment(record.id, 'regions')} found without its configuration:"
                " location and keys unknown",
            )


def _segment(name: str, collection: str) -> str:
    """The id after `collection` in a full resource name (…/regions/europe-west3/…), else ""."""
    parts = name.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == collection and i >= 4 and parts[i - 2] == "projects":
            return parts[i + 1]
    return ""


def _sink_parent(record: Listed) -> str:
    """organizations/N or folders/N of a sink's full name (//logging.googleapis.com/folders/N/sinks/S), else ""."""
    parts = record.id.removeprefix("//logging.googleapis.com/").split("/")
    return "/".join(parts[:2]) if len(parts) == 4 and parts[0] in ("organizations", "folders") else ""


def _walk(gcp: Any, scope: str) -> Iterator[Task | Found]:
    if scope.startswith("projects/"):
        project = scope.split("/", 1)[1]
        if gcp.claim(project):
            yield from walk._project_tasks(gcp, project)
        return
    yield Task(Provider.GCP, scope, functools.partial(walk._container, gcp, scope), walk.describe_error)


def _walk_service(gcp: Any, project: str, service: str, items: list[Listed]) -> Iterator[Task]:
    lister = functools.partial(walk.walker(service), gcp, project)
    if service == "secret-manager":
        # regional secrets are listed location by location: CAI says which locations have any (by name,
        # //secretmanager.googleapis.com/projects/P/locations/L/secrets/S: a global secret's has no location)
        regional = {loc for i in items if (loc := _segment(i.id, "locations"))}
        lister = functools.partial(lister, locations=sorted(regional))
    elif service == "compute-snapshot":
        # CAI's regional snapshots were assessed from its JSON (_regional_snapshots): no region is listed
        lister = functools.partial(lister, regions=())
    yield Task(Provider.GCP, walk.scope(project, service), lister, walk.describe_error)


def _assess(gcp: Any, project: str, service: str, items: list[dict[str, Any]]) -> Iterator[Resource | Skip]:
    if service == "gcs":
        for item in items:
            yield from _gcs_bucket(gcp, project, bucket(item))
    elif service == "bigquery-dataset":
        for item in items:
            found = dataset(gcp, project, item)
            # CAI's dataset JSON has no replicas: the metadata query (one per project and location) adds them
            replicas, skip = replica_copies(gcp, found.account, found.footprint[0].code, found.name)
            if skip is not None:
                yield skip
            yield found.evolve(footprint=tuple(dedupe_places([*found.footprint, *replicas]))) if replicas else found
    else:
        by_name = {str(i.get("name", "")): i for i in items}
        for item in items:
            if item.get("instanceType") != "ON_PREMISES_INSTANCE":
                yield _sql_instance(gcp, str(item.get("project") or project), item, by_name)


def bucket(resource: dict[str, Any]) -> SimpleNamespace:
    """A Cloud Storage bucket resource (JSON API shape) with the attribute names the storage client's Bucket has."""
    places = _mapping(resource.get("customPlacementConfig")).get("dataLocations")
    key = _mapping(resource.get("encryption")).get("defaultKmsKeyName")
    return SimpleNamespace(
        name=str(resource.get("name") or ""),
        location=_text(resource.get("location")),
        location_type=_text(resource.get("locationType")),
        data_locations=[str(p) for p in places] if isinstance(places, list) else None,
        default_kms_key_name=_text(key),
        labels={str(k): str(v) for k, v in _mapping(resource.get("labels")).items()},
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def dataset(gcp: Any, project: str, resource: dict[str, Any]) -> Resource:
    """A BigQuery dataset from its Dataset resource (what datasets.get returns), without another request."""
    ref = _mapping(resource.get("datasetReference"))
    owner = _text(ref.get("projectId")) or project
    name = _text(ref.get("datasetId")) or str(resource.get("id", "")).split(":")[-1]
    cmek = _text(_mapping(resource.get("defaultEncryptionConfiguration")).get("kmsKeyName"))
    location = _text(resource.get("location")) or UNKNOWN_LOCATION
    return walk.resource(
        gcp,
        owner,
        "bigquery-dataset",
        "bigquery.googleapis.com/Dataset",
        f"//bigquery.googleapis.com/projects/{owner}/datasets/{name}",
        name,
        [Copy(location, CopyRole.PRIMARY)],
        {str(k): str(v) for k, v in _mapping(resource.get("labels")).items()},
        gcp.key_control(cmek, walk.GOOGLE_DEFAULT_KEY),
    )


def scopes(organization: str | None, folder: str | None, projects: Iterable[str]) -> list[str]:
    """The CAI scopes a scan's options name: the organization, the folder, and each project given."""
    out = [cloud_asset.scope_of(project=p) for p in projects]
    if organization:
        out.append(cloud_asset.scope_of(organization=organization))
    if folder:
        out.append(cloud_asset.scope_of(folder=folder))
    return out
