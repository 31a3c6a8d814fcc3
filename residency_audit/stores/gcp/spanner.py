"""Cloud Spanner instances: every replica of the instance configuration, and the databases' keys; live and planned.

Cloud Spanner API v1 (discovery document `spanner:v1`): `projects.instances.list` (paged: `pageSize`,
`pageToken`/`nextPageToken`; instances in an unavailable location are named in `unreachable`, each a skip), then
per instance `projects.instanceConfigs.get` (once per distinct configuration: its `replicas[]`, each a `location`
and a `type` READ_WRITE, READ_ONLY or WITNESS) and `projects.instances.databases.list` (each database's
`encryptionConfig.kmsKeyName`; the instance's key control is its weakest database's).

The configuration's replicas are the footprint: `nam-eur-asia1` keeps read-write replicas in the US and read-only
ones in Europe and Asia; a custom configuration adds read-only replicas to a base one. A witness replica votes on
writes and keeps the log, not a full copy: it is counted (a copy of data in flight is still data), said in the note.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, Memo
from .common import labels, listed, mapping, text
from .secrets import weakest

ASSET = "spanner.googleapis.com/Instance"
_ROLE_NOTE = {
    "READ_WRITE": "read-write replica",
    "READ_ONLY": "read-only replica",
    "WITNESS": "witness replica (votes on writes and keeps the log, not a full copy)",
}


def spanner_list(gcp: Gcp, project: str) -> Iterator[Task | Skip]:
    """The project's instances: one task each (its configuration and its databases are one read each)."""
    configs = gcp.memo("spanner-configs", lambda name: gcp.get("spanner", f"/v1/{name}", "spanner instanceConfigs.get"))
    query: dict[str, str] = {}
    while True:
        page = gcp.get("spanner", f"/v1/projects/{project}/instances", "spanner instances.list", query)
        for item in map(mapping, listed(page.get("instances"))):
            name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
            yield Task(
                Provider.GCP,
                scope(project, "spanner-instance", "instance", name),
                functools.partial(_instance, gcp, configs, project, item),
                describe_error,
            )
        for location in listed(page.get("unreachable")):
            yield Skip(
                Provider.GCP,
                scope(project, "spanner-instance", "location", str(location)),
                "instances in this location could not be listed (location unavailable): their replicas are unknown",
            )
        if not page.get("nextPageToken"):
            return
        query["pageToken"] = str(page["nextPageToken"])


def _instance(gcp: Gcp, configs: Memo, project: str, item: dict[str, Any]) -> Iterator[Resource | Skip]:
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
    config_name = text(item.get("config")) or ""
    config = mapping(configs.get(config_name)) if config_name else {}
    copies = footprint(config, config_name.rsplit("/", 1)[-1] or "?")
    keys: list[tuple[KeyControl, str]] = []
    path = f"/v1/projects/{project}/instances/{name}/databases"
    for db in gcp.pages("spanner", path, "spanner databases.list", "databases"):
        db = mapping(db)
        cmek = text(mapping(db.get("encryptionConfig")).get("kmsKeyName"))
        control, note = gcp.key_control(str(cmek), GOOGLE_DEFAULT_KEY) if cmek else GOOGLE_DEFAULT_KEY
        keys.append((control, f"database {str(db.get('name', '?')).rsplit('/', 1)[-1]}: {note}"))
    yield resource(
        gcp,
        project,
        "spanner-instance",
        ASSET,
        f"//spanner.googleapis.com/projects/{project}/instances/{name}",
        name,
        copies,
        labels(item.get("labels")),
        weakest(keys) if keys else (KeyControl.PROVIDER_MANAGED, "no databases: nothing stored under a key"),
    )


def footprint(config: dict[str, Any], label: str) -> list[Copy]:
    """One copy per replica location of an instance configuration (InstanceConfig.replicas)."""
    copies: list[Copy] = []
    for replica in listed(config.get("replicas")):
        if not isinstance(replica, dict):
            continue
        role = text(replica.get("type")) or "?"
        note = f"{_ROLE_NOTE.get(role, role + ' replica')} of configuration {label}"
        if replica.get("defaultLeaderLocation"):
            note += " (default leader)"
        primary = role == "READ_WRITE" and not copies
        copies.append(
            Copy(
                text(replica.get("location")) or UNKNOWN_LOCATION,
                CopyRole.PRIMARY if primary else CopyRole.REPLICA,
                note=note,
            )
        )
    if not copies:
        copies.append(Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note=f"configuration {label}: no replicas reported"))
    return copies


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_instance(ctx: Context, item: Item) -> Resource:
    config = item.text("config")
    if config is None:
        copy = unknown_copy(CopyRole.PRIMARY, f"config {AFTER_APPLY}" if item.is_unknown("config") else "no config")
    else:
        short = config.rsplit("/", 1)[-1]
        if short.startswith("regional-"):
            copy = Copy(short.removeprefix("regional-"), CopyRole.PRIMARY, note=f"configuration {short}")
        else:
            # a dual- or multi-region configuration (or a custom one): its replicas are Google's to list; the
            # plan has only the name, which the knowledge base resolves or reports as unknown
            copy = Copy(short, CopyRole.PRIMARY, note=f"instance configuration {short}")
    return ctx.resource(
        item,
        Provider.GCP,
        ("spanner-instance", ASSET, "name"),
        [copy],
        (KeyControl.UNKNOWN, "Spanner keys are set per database (google_spanner_database.encryption_config)"),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates (google provider: config)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_spanner_instance": _plan_instance}
