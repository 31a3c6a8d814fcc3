"""Firestore databases (Native and Datastore mode): `locationId` (nam5, eur3, …) and CMEK; live and planned.

Cloud Firestore API v1 (discovery document `firestore:v1`): `projects.databases.list` returns every database of a
project in one answer (the method has no paging). A multi-region `locationId` resolves to the knowledge base's
entry with its member regions (read-write and witness); a code the knowledge base does not list is reported as
unknown, never guessed from its name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource
from ...model import Copy, CopyRole, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import listed, mapping, text

ASSET = "firestore.googleapis.com/Database"


def database_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's Firestore databases."""
    body = gcp.get("firestore", f"/v1/projects/{project}/databases", "firestore databases.list")
    for item in listed(body.get("databases")):
        yield from_body(gcp, project, mapping(item))


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A database from its v1 JSON (GoogleFirestoreAdminV1Database)."""
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
    location = text(item.get("locationId")) or UNKNOWN_LOCATION
    key = text(mapping(item.get("cmekConfig")).get("kmsKeyName"))
    return resource(
        gcp,
        project,
        "firestore-database",
        ASSET,
        f"//firestore.googleapis.com/projects/{project}/databases/{name}",
        name,
        [Copy(location, CopyRole.PRIMARY, note=f"{text(item.get('type')) or '?'} database")],
        {},  # databases carry no labels
        gcp.key_control(key, GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY,
    )


def _plan_database(ctx: Context, item: Item) -> Resource:
    location = item.text("location_id")
    if location:
        copy = Copy(location, CopyRole.PRIMARY)
    else:
        why = f"location_id {AFTER_APPLY}" if item.is_unknown("location_id") else "no location_id"
        copy = unknown_copy(CopyRole.PRIMARY, why)
    return ctx.resource(
        item,
        Provider.GCP,
        ("firestore-database", ASSET, "name"),
        [copy],
        ctx.gcp_key(item, ("cmek_config", 0, "kms_key_name")),
        {},
    )


# Terraform resource types this module's plan reader evaluates (google provider: location_id, cmek_config)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_firestore_database": _plan_database}
