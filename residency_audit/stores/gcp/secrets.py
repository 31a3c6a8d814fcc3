"""Secret Manager secrets: automatic (global) or user-managed replication, and each replica's key; live and planned.

Secret Manager API v1 (discovery document `secretmanager:v1`): `projects.secrets.list`, paged (`pageSize` ≤ 25,000,
`pageToken`/`nextPageToken`); each Secret carries its `replication`, so a project costs one request per page plus
one Cloud KMS read per distinct key.

* `replication.automatic`: Google chooses the regions ("replicated without restriction", billed as one location,
  allowed by the resource-locations policy only where `global` is): the copy is the knowledge base's `global`
  location, every country where Google Cloud has a region. Never the project's region.
* `replication.userManaged.replicas[].location`: one copy per replica, each with its own
  `customerManagedEncryption.kmsKeyName` (or Google's default key). The resource's key control is the weakest
  replica's (the worst copy decides), and the note names each replica's key.

Regional secrets (`projects/{project}/locations/{location}/secrets`) live in one location only and are served only
by that location's endpoint, `secretmanager.{location}.rep.googleapis.com` (RESIDENCY_AUDIT_GCP_SECRETMANAGER_REP_
ENDPOINT, `{location}` filled in). Which locations to list: Cloud Asset Inventory names them (the engine passes the
locations of the project's secrets it found); without CAI, `projects.locations.list` on the global endpoint gives
Secret Manager's locations and each is listed (one request per location, the walk's price). Their one copy is
the location; `customerManagedEncryption.kmsKeyName` (on the secret itself) is the key. A location that cannot
be listed is a skip naming it; the others are still read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, mapping, text

GLOBAL = "global"  # the knowledge base's entry for "anywhere Google Cloud has a region"
AUTOMATIC_NOTE = "automatic replication: Google chooses the regions (any country where Google Cloud has a region)"
ASSET = "secretmanager.googleapis.com/Secret"
_ORDER = list(KeyControl)  # weakest first


def secret_list(gcp: Gcp, project: str, locations: Iterable[str] | None = None) -> Iterator[Resource | Skip]:
    """The project's secrets, each with its replicas and their keys, then its regional secrets in `locations`.

    `locations` None: every location Secret Manager lists for the project (the walk, without CAI).
    """
    path = f"/v1/projects/{project}/secrets"
    for item in gcp.pages("secretmanager", path, "secretmanager secrets.list", "secrets", {"pageSize": "25000"}):
        yield from_body(gcp, project, item)
    if locations is None:
        listed_locations = gcp.pages(
            "secretmanager", f"/v1/projects/{project}/locations", "secretmanager locations.list", "locations"
        )
        locations = [str(loc.get("locationId")) for loc in listed_locations if text(loc.get("locationId"))]
    for location in sorted(set(locations)):
        try:
            # a generator drained here: one unreachable location is its own skip, not the project's
            yield from list(_regional(gcp, project, location))
        except Exception as exc:
            yield Skip(
                Provider.GCP,
                scope(project, "secret-manager", "location", location),
                f"regional secrets in {location} could not be listed: {describe_error(exc)}",
            )


def _regional(gcp: Gcp, project: str, location: str) -> Iterator[Resource]:
    path = f"/v1/projects/{project}/locations/{location}/secrets"
    operation = "secretmanager secrets.list (regional endpoint)"
    for item in gcp.pages("secretmanager-rep", path, operation, "secrets", {"pageSize": "25000"}, location):
        yield regional_from_body(gcp, project, item, location)


def regional_from_body(gcp: Gcp, project: str, item: dict[str, Any], location: str) -> Resource:
    """A regional secret from its v1 JSON: one copy, in its location (its name's, else the endpoint's)."""
    parts = (text(item.get("name")) or "").split("/")
    if len(parts) == 6 and parts[2] == "locations" and parts[3]:
        location = parts[3]
    name = parts[-1] or "?"
    key = _cmek(gcp, item, "regional secret")
    return resource(
        gcp,
        project,
        "secret-manager",
        ASSET,
        f"//secretmanager.googleapis.com/projects/{project}/locations/{location}/secrets/{name}",
        name,
        [Copy(location or UNKNOWN_LOCATION, CopyRole.PRIMARY, note="regional secret")],
        labels(item.get("labels")),
        key,
    )


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A secret from its v1 JSON (what `secrets.list` returns and CAI's versioned resource holds)."""
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
    replication = mapping(item.get("replication"))
    copies: list[Copy] = []
    keys: list[tuple[KeyControl, str]] = []
    if "automatic" in replication:
        copies.append(Copy(GLOBAL, CopyRole.PRIMARY, note=AUTOMATIC_NOTE))
        keys.append(_cmek(gcp, replication.get("automatic"), "all replicas"))
    else:
        replicas = listed(mapping(replication.get("userManaged")).get("replicas"))
        for i, replica in enumerate(r for r in replicas if isinstance(r, dict)):
            location = text(replica.get("location")) or UNKNOWN_LOCATION
            key = _cmek(gcp, replica, f"replica {location}")
            role = CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA
            # each replica has its own key: the copy carries it, so the worst copy decides
            copies.append(Copy(location, role, note=f"user-managed replica; {key[1]}", key_control=key[0]))
            keys.append(key)
    if not copies:
        copies.append(Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note="no replication policy reported"))
        keys.append((KeyControl.UNKNOWN, "no replication policy reported, so its keys are unknown"))
    return resource(
        gcp,
        project,
        "secret-manager",
        ASSET,
        f"//secretmanager.googleapis.com/projects/{project}/secrets/{name}",
        name,
        copies,
        labels(item.get("labels")),
        weakest(keys),
    )


def _cmek(gcp: Gcp, holder: Any, which: str) -> tuple[KeyControl, str]:
    key = text(mapping(mapping(holder).get("customerManagedEncryption")).get("kmsKeyName"))
    control, note = gcp.key_control(str(key), GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY
    return control, f"{which}: {note}"


def weakest(keys: list[tuple[KeyControl, str]]) -> tuple[KeyControl, str]:
    """The weakest key control among the replicas' (unknown counts as weakest), with every replica's note."""
    rank = {k: (-1 if k is KeyControl.UNKNOWN else _ORDER.index(k)) for k in KeyControl}
    worst = min(keys, key=lambda k: rank[k[0]])[0]
    return worst, "; ".join(note for _, note in keys)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_secret(ctx: Context, item: Item) -> Resource:
    copies: list[Copy] = []
    keys: list[tuple[KeyControl, str]] = []
    if item.is_unknown("replication"):
        copies.append(unknown_copy(CopyRole.PRIMARY, f"replication {AFTER_APPLY}"))
        keys.append((KeyControl.UNKNOWN, f"replication {AFTER_APPLY}"))
    elif item.blocks("replication", 0, "auto") or item.get("replication", 0, "automatic") is True:
        # `auto` since google provider 5; `automatic = true` before
        copies.append(Copy(GLOBAL, CopyRole.PRIMARY, note=AUTOMATIC_NOTE))
        control, note = ctx.gcp_key(
            item, ("replication", 0, "auto", 0, "customer_managed_encryption", 0, "kms_key_name")
        )
        keys.append((control, f"all replicas: {note}"))
    else:
        replicas = item.blocks("replication", 0, "user_managed", 0, "replicas")
        for i, replica in enumerate(replicas):
            location = replica.get("location")
            where = str(location) if isinstance(location, str) and location else UNKNOWN_LOCATION
            path = ("replication", 0, "user_managed", 0, "replicas", i, "customer_managed_encryption", 0)
            control, note = ctx.gcp_key(item, (*path, "kms_key_name"))
            role = CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA
            copies.append(Copy(where, role, note=f"user-managed replica; {note}", key_control=control))
            keys.append((control, f"replica {where}: {note}"))
    if not copies:
        copies.append(unknown_copy(CopyRole.PRIMARY, "no replication block in the plan"))
        keys.append((KeyControl.UNKNOWN, "no replication block in the plan"))
    return ctx.resource(
        item, Provider.GCP, ("secret-manager", ASSET, "secret_id"), copies, weakest(keys),
        plan_tags(item, "effective_labels", "labels"),
    )  # fmt: skip


def _plan_regional(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    if location:
        copy = Copy(location, CopyRole.PRIMARY, note="regional secret")
    else:
        copy = unknown_copy(
            CopyRole.PRIMARY, f"location {AFTER_APPLY}" if item.is_unknown("location") else "no location"
        )
    control, note = ctx.gcp_key(item, ("customer_managed_encryption", 0, "kms_key_name"))
    return ctx.resource(
        item, Provider.GCP, ("secret-manager", ASSET, "secret_id"), [copy], (control, f"regional secret: {note}"),
        plan_tags(item, "effective_labels", "labels"),
    )  # fmt: skip


# Terraform resource types this module's plan reader evaluates (google provider: replication.auto / user_managed;
# the regional secret's location and customer_managed_encryption)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "google_secret_manager_secret": _plan_secret,
    "google_secret_manager_regional_secret": _plan_regional,
}
