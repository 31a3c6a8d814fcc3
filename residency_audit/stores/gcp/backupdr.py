"""Backup and DR backup vaults: each vault's location; live and planned.

Backup and DR Service API v1 (discovery document `backupdr:v1`): `projects.locations.backupVaults.list` over location
`-` (every location in one list), paged (`pageSize`, `pageToken`/`nextPageToken`); locations that could not be
reached are named in `unreachable`, each a skip. The vault's location is the `{location}` segment of its `name`; a
multi-region vault (e.g. `us`) resolves to the knowledge base's multi-region. Backups in a vault are encrypted with
Google-managed keys unless `encryptionConfig.kmsKeyName` names a Cloud KMS key.

Backup plans (their rules name a vault) are not read: the vault is where the backup data lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource, scope
from ...model import Copy, CopyRole, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, mapping, text

ASSET = "backupdr.googleapis.com/BackupVault"


def vault_list(gcp: Gcp, project: str) -> Iterator[Resource | Skip]:
    """The project's backup vaults in every location."""
    path = f"/v1/projects/{project}/locations/-/backupVaults"
    query: dict[str, str] = {"pageSize": "1000"}
    while True:
        page = gcp.get("backupdr", path, "backupdr backupVaults.list", query)
        for item in listed(page.get("backupVaults")):
            yield from_body(gcp, project, mapping(item))
        for location in listed(page.get("unreachable")):
            yield Skip(
                Provider.GCP,
                scope(project, "backupdr-vault", "location", str(location).rsplit("/", 1)[-1]),
                "backup vaults in this location could not be listed (location unreachable)",
            )
        token = text(page.get("nextPageToken"))
        if not token:
            return
        query["pageToken"] = token


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


# Terraform resource types this module's plan reader evaluates (google provider: location)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_backup_dr_backup_vault": _plan_vault}
