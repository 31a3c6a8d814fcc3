"""Google Cloud: credentials, projects, REST through one AuthorizedSession; the stores under stores/gcp/ read.

Read-only: every call is a GET (plus the OAuth token exchange and BigQuery's metadata query). This module finds
the projects and hands each (project, service) to its store's lister; the session, the retried REST calls and the
endpoints are gcp_session.py's, the errors gcp_errors.py's.

Round trips. One `buckets.list` page per 1,000 buckets, and a Cloud KMS `cryptoKeys.get` once per distinct key (a
bucket without a default KMS key needs nothing more, so only buckets with one become their own task). BigQuery's
`datasets.list` gives each dataset's location and labels but not its `defaultEncryptionConfiguration`, so each
dataset costs one `datasets.get` (its own task, run on the shared pool). Cloud SQL's `instances.list` carries
everything, replicas included: one call per page of instances. Projects come from `--project`, or Resource
Manager's `projects:search` (every ACTIVE project the credential can see), or, with `--organization`, a walk of
the organization's folders (`folders.list`) with one `projects:search` per folder (a search by `parent` matches
direct children only). That walk also lists each folder's log sinks (one `sinks.list` per folder; with Cloud Asset
Inventory, CAI names the sinks instead); the organization's or folder's own are listed whichever way projects are
found.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..inventory import WALK, Found
from ..model import Copy, KeyControl, Provider, Resource, Skip
from ..pipeline import Task
from ..scan import SERVICES as ALL_SERVICES
from ..stores.common import CLIENT_SIDE_LABEL, declared_key_control, dedupe_places

# re-exported: the stores and the engines import these from here
from .gcp_errors import GcpApiError, GcpCallError, describe_error, one_line
from .gcp_session import ENDPOINT_VARS, SCOPES, Gcp, GcpOptions

__all__ = [
    "ENDPOINT_VARS",
    "GOOGLE_DEFAULT_KEY",
    "SCOPES",
    "SERVICES",
    "WALKERS",
    "ZONE",
    "Gcp",
    "GcpApiError",
    "GcpCallError",
    "GcpOptions",
    "describe_error",
    "one_line",
    "resource",
    "scope",
    "tasks",
    "walker",
]

SERVICES = ALL_SERVICES["gcp"]  # one list, in scan.py, so --help need not import this module
# service → (store module, its lister): each module under stores/gcp/ holds its live reader and its plan reader
WALKERS = {
    "gcs": ("gcs", "gcs_list"),
    "bigquery-dataset": ("bigquery", "bigquery_list"),
    "cloudsql-instance": ("cloudsql", "sql_list"),
    "compute-snapshot": ("compute", "snapshot_list"),
    "compute-image": ("compute", "image_list"),
    "compute-machine-image": ("compute", "machine_image_list"),
    "secret-manager": ("secrets", "secret_list"),
    "logging-bucket": ("logging", "log_bucket_list"),
    "pubsub-topic": ("pubsub", "topic_list"),
    "spanner-instance": ("spanner", "spanner_list"),
    "artifact-registry": ("artifacts", "repository_list"),
    "firestore-database": ("firestore", "database_list"),
    "bigtable-instance": ("bigtable", "instance_list"),
    "backupdr-vault": ("backupdr", "vault_list"),
    "backupdr-plan": ("backupdr", "plan_list"),
    "logging-sink": ("sinks", "sink_list"),
}

_FOLDER = re.compile(r"^folders/[0-9]{1,30}$")  # a folder name goes into paths: folders/NUMBER only
ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$", re.IGNORECASE)  # us-central1-a → us-central1


def tasks(options: GcpOptions) -> Iterator[Task]:
    """The root task of a Google Cloud scan: it finds the projects and yields the rest."""
    gcp = Gcp(options)
    yield Task(Provider.GCP, "gcp", lambda: _start(gcp), describe_error)


# --- projects ------------------------------------------------------------------------------------------------


def scope(project: str, service: str, *rest: str) -> str:
    """A skip scope under this account (or project): the parts joined by '/'."""
    return "/".join(("project", project, "service", service, *rest))


def _start(gcp: Gcp) -> Iterator[Task | Skip | Found]:
    options = gcp.options
    anonymous_only = (
        bool(os.environ.get("STORAGE_EMULATOR_HOST"))
        and tuple(options.services) == ("gcs",)
        and bool(options.projects)
        and not options.organization
    )
    if not anonymous_only:
        # credentials first: without them this root task is the one skip, not one per project and service
        gcp.session()
    yield from _container_sinks(gcp)
    if options.cloud_asset and not anonymous_only:
        from ..inventory import gcp_engines

        named = gcp_engines.scopes(options.organization, options.folder, options.projects)
        for cai_scope in named:
            yield gcp_engines.scope_task(gcp, cai_scope)
        if not named:
            yield from _search(gcp, "state:ACTIVE", cai=True)
        return
    for project in gcp.options.projects:
        if gcp.claim(project):
            yield from _project_tasks(gcp, project)
    for kind, value in (("organizations", gcp.options.organization), ("folders", gcp.options.folder)):
        if value:
            parent = value if value.startswith(kind + "/") else f"{kind}/{value}"
            if gcp.claim(f"walk:{parent}"):
                yield Task(Provider.GCP, _label(parent), functools.partial(_container, gcp, parent), describe_error)
    if not gcp.options.projects and not gcp.options.organization and not gcp.options.folder:
        yield from _search(gcp, "state:ACTIVE")


def _container_sinks(gcp: Gcp) -> Iterator[Task]:
    """The sinks of the --organization and --folder named (a project's own are its logging-sink service's)."""
    if "logging-sink" not in (gcp.options.services or SERVICES):
        return
    for kind, value in (("organizations", gcp.options.organization), ("folders", gcp.options.folder)):
        if value:
            yield from container_sinks_task(gcp, value if value.startswith(kind + "/") else f"{kind}/{value}")


def container_sinks_task(gcp: Gcp, parent: str) -> Iterator[Task]:
    """The task listing an organization's or folder's sinks (`parent`), the first time it is asked for."""
    if gcp.claim(f"sinks:{parent}"):  # named on the command line and found by CAI: listed once
        yield Task(
            Provider.GCP,
            _label(parent) + "/service/logging-sink",
            functools.partial(_sinks_of, gcp, parent),
            describe_error,
        )


def _label(parent: str) -> str:
    return parent.replace("organizations/", "organization/").replace("folders/", "folder/")


def _sinks_of(gcp: Gcp, parent: str) -> Iterator[Resource]:
    from ..stores.gcp import sinks

    yield from sinks.parent_sinks(gcp, parent, parent)


def _search(gcp: Gcp, query: str, *, cai: bool = False) -> Iterator[Task | Found]:
    for project in gcp.pages(
        "resourcemanager", "/v3/projects:search", "resourcemanager projects.search", "projects", {"query": query}
    ):
        pid = project.get("projectId")
        # a project pending deletion is not scanned (its services are shut down)
        if not pid or project.get("state", "ACTIVE") != "ACTIVE":
            continue
        if cai:  # each project through Cloud Asset Inventory (which claims it), walked where CAI cannot answer
            from ..inventory import gcp_engines

            yield gcp_engines.scope_task(gcp, f"projects/{pid}")
        elif gcp.claim(pid):
            yield from _project_tasks(gcp, pid)


def _container(gcp: Gcp, parent: str) -> Iterator[Task | Found | Skip]:
    """Projects directly under an organization or folder, and for each sub-folder its sinks and a task walking it.

    The walk lists every folder anyway (to find its projects: a search by parent matches direct children only),
    so a folder's sinks cost one `sinks.list` each and no extra listing of folders.
    """
    # one term only: projects:search ORs the terms of a query ("match any of the fields"); state is checked below
    yield from _search(gcp, f"parent:{parent}")
    sinks = "logging-sink" in (gcp.options.services or SERVICES)
    for folder in gcp.pages(
        "resourcemanager", "/v3/folders", "resourcemanager folders.list", "folders", {"parent": parent}
    ):
        entry = folder if isinstance(folder, dict) else {"name": folder}
        name = entry.get("name")
        if entry.get("state", "ACTIVE") != "ACTIVE":
            continue  # a folder pending deletion holds no active project
        if not isinstance(name, str) or not _FOLDER.match(name):
            reason = f"a folder under {parent} named {str(name)[:80]!r}, not folders/NUMBER: not walked"
            yield Skip(Provider.GCP, _label(parent), reason)
            continue
        if sinks:
            yield from container_sinks_task(gcp, name)
        if gcp.claim(f"walk:{name}"):  # a folder met twice (named and found under the organization): walked once
            yield Task(Provider.GCP, _label(name), functools.partial(_container, gcp, name), describe_error)


def walker(service: str) -> Any:
    """The lister of a --service (its store module imported on first use): (gcp, project) → resources, tasks, skips."""
    import importlib

    module, function = WALKERS[service]
    return getattr(importlib.import_module(f"residency_audit.stores.gcp.{module}"), function)


def _project_tasks(gcp: Gcp, project: str) -> Iterator[Task | Found]:
    # the per-service walk answers for this project (it counts what its stores read)
    yield Found(Provider.GCP, WALK, f"project/{project}", "", 0)
    for service in gcp.options.services or SERVICES:
        yield Task(
            Provider.GCP, scope(project, service), functools.partial(walker(service), gcp, project), describe_error
        )


def resource(
    gcp: Gcp,
    project: str,
    service: str,
    rtype: str,
    rid: str,
    name: str,
    footprint: list[Copy],
    labels: dict[str, str],
    key: tuple[KeyControl, str],
) -> Resource:
    """A Resource from what the API returned, with declared client-side encryption applied."""
    key_control, key_note = declared_key_control(labels, CLIENT_SIDE_LABEL, key, word="label")
    if key_control is KeyControl.CLIENT_SIDE and key_control is not key[0]:
        # encrypted before upload (declared): that covers every copy, whatever key each replica has
        footprint = [replace(c, key_control=None) for c in footprint]
    return Resource(
        provider=Provider.GCP,
        account=project,
        service=service,
        type=rtype,
        id=rid,
        name=name,
        footprint=tuple(dedupe_places(footprint)),
        key_control=key_control,
        key_note=key_note,
        tags=labels,
        classification=labels.get(gcp.options.classification_label),
    )


GOOGLE_DEFAULT_KEY = (KeyControl.PROVIDER_MANAGED, "Google default encryption (Google-owned keys)")
