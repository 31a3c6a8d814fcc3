"""Backup vaults: Recovery Services vaults and Data Protection backup vaults, live and planned.

Both keep every backup they hold in the vault's storage; geo-redundant storage (a Recovery Services vault's default)
keeps a second copy in the location's paired region, which no field names: the knowledge base's pair gives it.
Field names: azure-mgmt-recoveryservices `Vault` (api-version 2026-11-01: `properties.redundancySettings.
standardTierStorageRedundancy`, `crossRegionRestore`, `properties.encryption.keyVaultProperties.keyUri`) and
azure-mgmt-dataprotection `BackupVaultResource` (api-version 2026-06-01: `properties.storageSettings[].type`,
`replicatedRegions`, `securitySettings.encryptionSettings`), as Resource Graph and Resource Manager both return them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import dict_of, list_of, location_of, paired_copy, plan_location, plan_paired, properties_of, resource

GEO = "georedundant"
IN_REGION = {"locallyredundant", "zoneredundant"}

# --- Recovery Services vaults ----------------------------------------------------------------------------------


def recovery_vault(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Recovery Services vault: its region and, for geo-redundant storage (the default), the paired region."""
    props = properties_of(item)
    location = location_of(item)
    settings = dict_of(props.get("redundancySettings"))
    storage = settings.get("standardTierStorageRedundancy")
    restore = str(settings.get("crossRegionRestore") or "").lower() == "enabled"
    footprint = [Copy(location, CopyRole.PRIMARY)]
    copy = _vault_secondary(location, storage, restore)
    if copy is not None:
        footprint.append(copy)
    uri = dict_of(dict_of(props.get("encryption")).get("keyVaultProperties")).get("keyUri")
    key = (
        (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {uri}")
        if uri
        else (KeyControl.PROVIDER_MANAGED, "platform-managed keys (the vault's default)")
    )
    kind = KINDS["recovery-services-vault"]
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)


def _vault_secondary(location: str, storage: Any, restore: bool) -> Copy | None:
    """The paired-region copy of geo-redundant vault storage; None where the storage stays in the region."""
    value = str(storage or "")
    extra = "; cross-region restore enabled (the copy is readable there)" if restore else ""
    if value.lower() == GEO:
        return paired_copy(location, f"backup storage redundancy {value}{extra}")
    if value.lower() in IN_REGION:
        return None
    if not value:
        # the field is absent (older API versions, a vault read before its settings): geo is the service's default
        return paired_copy(location, "backup storage redundancy not reported; GeoRedundant is the default")
    return Copy(
        UNKNOWN_LOCATION,
        CopyRole.REPLICA,
        note=f"unrecognised backup storage redundancy {value!r}: where its copies go is unknown",
    )


# --- Data Protection backup vaults -----------------------------------------------------------------------------


def backup_vault(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A backup vault: its region, the paired region of geo-redundant datastores, and its replicated regions."""
    props = properties_of(item)
    location = location_of(item)
    footprint = [Copy(location, CopyRole.PRIMARY)]
    settings = [s for s in list_of(props.get("storageSettings")) if isinstance(s, dict)]
    kinds = {str(s.get("type") or "") for s in settings}
    geo = sorted(
        f"{s.get('datastoreType') or '?'} {s.get('type')}" for s in settings if str(s.get("type")).lower() == GEO
    )
    if geo:
        footprint.append(paired_copy(location, f"storage setting {', '.join(geo)}"))
    for odd in sorted(k for k in kinds if k.lower() not in IN_REGION | {GEO}):
        footprint.append(
            Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"unrecognised storage setting type {odd!r}: copies unknown")
        )
    if not settings:
        footprint.append(
            Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="no storageSettings reported: its redundancy is unknown")
        )
    for region in list_of(props.get("replicatedRegions")):
        where = region if isinstance(region, str) and region else UNKNOWN_LOCATION
        footprint.append(Copy(where, CopyRole.REPLICA, note=f"replicated region of the backup vault ({region!r})"))
    enc = dict_of(dict_of(props.get("securitySettings")).get("encryptionSettings"))
    uri = dict_of(enc.get("keyVaultProperties")).get("keyUri")
    if str(enc.get("state") or "").lower() == "enabled" and uri:
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {uri}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys (the vault's default)")
    kind = KINDS["backup-vault"]
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_recovery_vault(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    mode = item.text("storage_mode_type")
    if mode is None and item.is_unknown("storage_mode_type"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"storage_mode_type {AFTER_APPLY} (GeoRedundant adds a copy)"))
    elif mode is None or mode.lower() == GEO:
        what = (
            f"storage_mode_type {mode}" if mode else "storage_mode_type not set (the provider's default GeoRedundant)"
        )
        footprint.append(plan_paired(location, what, "from the plan"))
    elif mode.lower() not in IN_REGION:
        footprint.append(unknown_copy(CopyRole.REPLICA, f"unrecognised storage_mode_type {mode!r}"))
    key_id = item.text("encryption", 0, "key_id")
    if key_id or (item.blocks("encryption") and item.is_unknown("encryption", 0, "key_id")):
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {ctx.describe(item, ('encryption', 0, 'key_id'))}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys (the vault's default)")
    kind = KINDS["recovery-services-vault"]
    return ctx.resource(
        item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, key, plan_tags(item, "tags")
    )


def _plan_backup_vault(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    redundancy = item.text("redundancy")
    if redundancy is None:
        footprint.append(unknown_copy(CopyRole.REPLICA, f"redundancy {AFTER_APPLY} (GeoRedundant adds a copy)"))
    elif redundancy.lower() == GEO:
        footprint.append(plan_paired(location, f"redundancy {redundancy}", "from the plan"))
    elif redundancy.lower() not in IN_REGION:
        footprint.append(unknown_copy(CopyRole.REPLICA, f"unrecognised redundancy {redundancy!r}"))
    key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys (the vault's default)")
    kind = KINDS["backup-vault"]
    return ctx.resource(
        item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, key, plan_tags(item, "tags")
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "azurerm_recovery_services_vault": _plan_recovery_vault,
    "azurerm_data_protection_backup_vault": _plan_backup_vault,
}
