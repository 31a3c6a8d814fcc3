"""Backup and DR backup vaults and backup plans: where the backups are; live and planned.

Backup and DR Service API v1 (discovery document `backupdr:v1`): `projects.locations.backupVaults.list` over location
`-` (every location in one list), paged (`pageSize`, `pageToken`/`nextPageToken`); locations that could not be
reached are named in `unreachable`, each a skip. The vault's location is the `{location}` segment of its `name`; a
multi-region vault (e.g. `us`) resolves to the knowledge base's multi-region. Backups in a vault are encrypted with
Google-managed keys unless `encryptionConfig.kmsKeyName` names a Cloud KMS key.

Backup plans: `projects.locations.backupPlans.list` over location `-`, paged the same way, `unreachable` as skips.
A BackupPlan's `backupVault` is "the resource name of the backup vault which will be used as storage location for
backups" (`projects/{p}/locations/{location}/backupVaults/{id}`): the `{location}` segment is where copies of every
resource the plan protects (`resourceType`, e.g. compute.googleapis.com/Instance) go, whatever the plan's own
location. The vault's key (its `encryptionConfig.kmsKeyName`) is read once per vault with `backupVaults.get`;
a vault that cannot be read leaves the copies' location (from the name) and makes their key unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, mapping, text

ASSET = "backupdr.googleapis.com/BackupVault"
PLAN_ASSET = "backupdr.googleapis.com/BackupPlan"


def vault_list(gcp: Gcp, project: str) -> Iterator[Resource | Skip]:
    """The project's backup vaults in every location."""
    for item in _every(gcp, project, "backupdr-vault", "backupVaults"):
        yield item if isinstance(item, Skip) else from_body(gcp, project, item)


def plan_list(gcp: Gcp, project: str) -> Iterator[Resource | Skip]:
    """The project's backup plans in every location, each where its backup vault is."""
    for item in _every(gcp, project, "backupdr-plan", "backupPlans"):
        yield item if isinstance(item, Skip) else plan_from_body(gcp, project, item)


def _every(gcp: Gcp, project: str, service: str, collection: str) -> Iterator[dict[str, Any] | Skip]:
    path = f"/v1/projects/{project}/locations/-/{collection}"
    query: dict[str, str] = {"pageSize": "1000"}
    while True:
        page = gcp.get("backupdr", path, f"backupdr {collection}.list", query)
        for item in listed(page.get(collection)):
            yield mapping(item)
        for location in listed(page.get("unreachable")):
            yield Skip(
                Provider.GCP,
                scope(project, service, "location", str(location).rsplit("/", 1)[-1]),
                f"{collection} in this location could not be listed (location unreachable)",
            )
        token = text(page.get("nextPageToken"))
        if not token:
            return
        query["pageToken"] = token


def vault_location(name: str | None) -> str | None:
    """The `{location}` of projects/{p}/locations/{location}/backupVaults/{id}, or None for any other shape."""
    parts = (name or "").split("/")
    if len(parts) == 6 and parts[0] == "projects" and parts[2] == "locations" and parts[4] == "backupVaults":
        return parts[3] or None
    return None


def plan_from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A backup plan from its v1 JSON (BackupPlan): its copies are in its vault's location, under the vault's key."""
    parts = (text(item.get("name")) or "").split("/")
    name = parts[-1] or "?"
    plan_location = parts[3] if len(parts) == 6 and parts[3] else UNKNOWN_LOCATION
    vault = text(item.get("backupVault"))
    where = vault_location(vault)
    protects = text(item.get("resourceType")) or "the protected"
    if where is None:
        copy = Copy(
            UNKNOWN_LOCATION, CopyRole.PRIMARY, note=f"backups of {protects} resources: vault {vault!r} unknown"
        )
        key: tuple[KeyControl, str] = (KeyControl.UNKNOWN, "the backup vault is unknown, so its key is too")
    else:
        copy = Copy(where, CopyRole.PRIMARY, note=f"backups of {protects} resources, kept in backup vault {vault}")
        key = _vault_key(gcp, str(vault))
    return resource(
        gcp,
        project,
        "backupdr-plan",
        PLAN_ASSET,
        f"//backupdr.googleapis.com/projects/{project}/locations/{plan_location}/backupPlans/{name}",
        name,
        [copy],
        labels(item.get("labels")),
        key,
    )


def _vault_key(gcp: Gcp, vault: str) -> tuple[KeyControl, str]:
    try:
        body = gcp.memo("backupdr-vault", lambda v: gcp.get("backupdr", "/v1/" + v, "backupdr backupVaults.get")).get(
            vault
        )
    except Exception as exc:
        return (
            KeyControl.UNKNOWN,
            f"the key of backup vault {vault} is unknown: it could not be read ({describe_error(exc)})",
        )
    key = text(mapping(mapping(body).get("encryptionConfig")).get("kmsKeyName"))
    control, note = gcp.key_control(key, GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY
    return control, f"backup vault {vault.rsplit('/', 1)[-1]}: {note}"


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A backup vault from its v1 JSON (name: projects/{p}/locations/{location}/backupVaults/{id})."""
    parts = (text(item.get("name")) or "").split("/")
    location = parts[3] if len(parts) == 6 and parts[3] else UNKNOWN_LOCATION
    name = parts[-1] or "?"
    key = text(mapping(item.get("encryptionConfig")).get("kmsKeyName"))
    return resource(
        gcp,
        project,
        "backupdr-vault",
        ASSET,
        f"//backupdr.googleapis.com/projects/{project}/locations/{location}/backupVaults/{name}",
        name,
        [Copy(location, CopyRole.PRIMARY, note="backup vault")],
        labels(item.get("labels")),
        gcp.key_control(key, GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY,
    )


def _plan_vault(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    if location:
        copy = Copy(location, CopyRole.PRIMARY, note="backup vault")
    else:
        copy = unknown_copy(
            CopyRole.PRIMARY, f"location {AFTER_APPLY}" if item.is_unknown("location") else "no location"
        )
    return ctx.resource(
        item,
        Provider.GCP,
        ("backupdr-vault", ASSET, "backup_vault_id"),
        [copy],
        GOOGLE_DEFAULT_KEY,
        plan_tags(item, "effective_labels", "labels"),
    )


def _plan_plan(ctx: Context, item: Item) -> Resource:
    vault = item.text("backup_vault")
    where = vault_location(vault)
    planned = ctx.referenced(item, ("backup_vault",), "google_backup_dr_backup_vault") if where is None else []
    if where is not None:
        copy = Copy(where, CopyRole.PRIMARY, note=f"backups kept in backup vault {vault}")
    elif len(planned) == 1 and planned[0].text("location"):
        # the vault of the same plan: its name is known only after apply, its location now
        copy = Copy(str(planned[0].text("location")), CopyRole.PRIMARY, note=f"backups kept in {planned[0].address}")
    elif item.is_unknown("backup_vault"):
        # typically a vault created by the same plan: its name (and so its location) is known only after apply
        copy = unknown_copy(CopyRole.PRIMARY, f"backup_vault {AFTER_APPLY}")
    else:
        copy = unknown_copy(CopyRole.PRIMARY, "no backup vault in the plan")
    return ctx.resource(
        item,
        Provider.GCP,
        ("backupdr-plan", PLAN_ASSET, "backup_plan_id"),
        [copy],
        (KeyControl.UNKNOWN, "the backup vault's key is not in the plan: see the vault"),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates (google provider: location; backup_vault)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "google_backup_dr_backup_vault": _plan_vault,
    "google_backup_dr_backup_plan": _plan_plan,
}
