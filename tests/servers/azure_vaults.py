"""Seeding helpers for the Resource Manager stand-in: Recovery Services vaults, backup vaults, Key Vaults, Managed HSMs.

Bodies are built with the SDKs' own models (azure-mgmt-recoveryservices, -dataprotection, -keyvault) and serialised
with their wire names, so the field names and nesting are the real API's. Kept apart from servers/azure.py so that
module stays about the wire protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .azure import AzureEndpoint, wire

TENANT = "72f988bf-0000-4000-8000-000000000001"


def add_recovery_vault(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    redundancy: str | None = "GeoRedundant",
    cross_region_restore: bool = False,
    key_uri: str | None = None,
    rg: str = "backup",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A Recovery Services vault; ``redundancy`` None leaves redundancySettings out (as older API versions do)."""
    from azure.mgmt.recoveryservices import models as m

    props = m.VaultProperties(
        provisioning_state="Succeeded",
        redundancy_settings=m.VaultPropertiesRedundancySettings(
            standard_tier_storage_redundancy=redundancy,
            cross_region_restore="Enabled" if cross_region_restore else "Disabled",
        )
        if redundancy is not None
        else None,
        encryption=m.VaultPropertiesEncryption(key_vault_properties=m.CmkKeyVaultProperties(key_uri=key_uri))
        if key_uri
        else None,
    )
    vault = m.Vault(location=location, tags=dict(tags or {}), sku=m.Sku(name="Standard"), properties=props)
    return ep._put(sub, rg, "Microsoft.RecoveryServices/vaults", name, wire(vault))


def add_backup_vault(
    ep: AzureEndpoint,
    sub: str,
    name: str,
    location: str,
    *,
    storage: Sequence[str] = ("GeoRedundant",),
    replicated_regions: Sequence[str] = (),
    key_uri: str | None = None,
    rg: str = "backup",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A Data Protection backup vault with one VaultStore storage setting per ``storage`` type."""
    from azure.mgmt.dataprotection import models as m

    security = (
        m.SecuritySettings(
            encryption_settings=m.EncryptionSettings(
                state="Enabled", key_vault_properties=m.CmkKeyVaultProperties(key_uri=key_uri)
            )
        )
        if key_uri
        else None
    )
    props = m.BackupVault(
        storage_settings=[m.StorageSetting(datastore_type="VaultStore", type=t) for t in storage],
        replicated_regions=list(replicated_regions) or None,
        security_settings=security,
    )
    vault = m.BackupVaultResource(location=location, tags=dict(tags or {}), properties=props)
    return ep._put(sub, rg, "Microsoft.DataProtection/backupVaults", name, wire(vault))


def add_key_vault(
    ep: AzureEndpoint, sub: str, name: str, location: str, *, rg: str = "keys", tags: Mapping[str, str] | None = None
) -> str:
    """A Key Vault (standard SKU)."""
    from azure.mgmt.keyvault import models as m

    props = m.VaultProperties(
        tenant_id=TENANT, sku=m.Sku(family="A", name="standard"), vault_uri=f"https://{name}.vault.azure.net/"
    )
    return ep._put(
        sub,
        rg,
        "Microsoft.KeyVault/vaults",
        name,
        wire(m.Vault(location=location, tags=dict(tags or {}), properties=props)),
    )


def add_managed_hsm(
    ep: AzureEndpoint, sub: str, name: str, location: str, *, extended: Sequence[str] = (), rg: str = "keys"
) -> str:
    """A Managed HSM pool; ``extended``: the regions multi-region replication extended it to."""
    from azure.mgmt.keyvault import models as m

    regions = [m.MHSMGeoReplicatedRegion(name=location, is_primary=True)] + [
        m.MHSMGeoReplicatedRegion(name=r, is_primary=False) for r in extended
    ]
    props = m.ManagedHsmProperties(tenant_id=TENANT, hsm_uri=f"https://{name}.managedhsm.azure.net/", regions=regions)
    hsm = m.ManagedHsm(location=location, sku=m.ManagedHsmSku(family="B", name="Standard_B1"), properties=props)
    return ep._put(sub, rg, "Microsoft.KeyVault/managedHSMs", name, wire(hsm))
