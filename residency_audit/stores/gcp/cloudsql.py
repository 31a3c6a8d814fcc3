"""Cloud SQL instances: replicas, failover replica, and the primary of a replica."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource
from ...model import Copy, CopyRole, Resource
from ..common import UNKNOWN_LOCATION

DEFAULT_BACKUP_NOTE = (
    "automated backups in Cloud SQL's default location, the multi-region closest to the instance (Google publishes"
    " no mapping, so unknown here): set backupConfiguration.location to know it"
)

# --- Cloud SQL -----------------------------------------------------------------------------------------------


def sql_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's Cloud SQL instances with their replicas (one paged list)."""
    instances = list(gcp.pages("sqladmin", f"/v1/projects/{project}/instances", "sqladmin instances.list", "items"))
    # replicas are instances of the same list: their regions come from it, no extra call
    by_name = {i.get("name", ""): i for i in instances}
    for inst in instances:
        if inst.get("instanceType") == "ON_PREMISES_INSTANCE":
            continue  # a stand-in for an external primary server: its data is not in Google Cloud
        yield _sql_instance(gcp, project, inst, by_name)


def _sql_peer(project: str, ref: str, by_name: dict[str, dict[str, Any]], what: str) -> Copy:
    """A replica's or master's copy, located through the instance list; unknown (never guessed) if not in it."""
    owner, _, name = ref.rpartition(":")
    peer = by_name.get(name) if owner in ("", project) else None
    if peer is not None and peer.get("region"):
        return Copy(str(peer["region"]), CopyRole.REPLICA, note=f"{what} {name}")
    return Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{what} {ref}: not in this project's instance list")


def _sql_instance(gcp: Gcp, project: str, inst: dict[str, Any], by_name: dict[str, dict[str, Any]]) -> Resource:
    name = str(inst.get("name", "?"))
    settings = inst.get("settings") or {}
    backups = settings.get("backupConfiguration") or {}
    footprint = [Copy(str(inst.get("region") or UNKNOWN_LOCATION), CopyRole.PRIMARY)]
    for replica in inst.get("replicaNames", []) or []:
        footprint.append(_sql_peer(project, replica, by_name, "read replica"))
    if inst.get("masterInstanceName"):
        footprint.append(_sql_peer(project, inst["masterInstanceName"], by_name, "primary of this read replica:"))
    failover = (inst.get("failoverReplica") or {}).get("name")
    if failover:
        footprint.append(_sql_peer(project, failover, by_name, "failover replica"))
    dr = (inst.get("replicationCluster") or {}).get("failoverDrReplicaName")
    if dr:
        footprint.append(_sql_peer(project, dr, by_name, "disaster-recovery replica"))
    if backups.get("location"):
        state = "enabled" if backups.get("enabled") else "disabled (earlier backups may remain)"
        footprint.append(Copy(str(backups["location"]), CopyRole.REPLICA, note=f"backups (custom location, {state})"))
    elif backups.get("enabled"):
        # Google documents the default only as "the multi-region closest to the instance", with no published
        # mapping: a copy in an unknown place, never the instance's own region
        footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=DEFAULT_BACKUP_NOTE))
    cmek = (inst.get("diskEncryptionConfiguration") or {}).get("kmsKeyName")
    return resource(
        gcp,
        project,
        "cloudsql-instance",
        "sqladmin.googleapis.com/Instance",
        f"//sqladmin.googleapis.com/projects/{project}/instances/{name}",
        name,
        footprint,
        dict(settings.get("userLabels") or {}),
        gcp.key_control(cmek, GOOGLE_DEFAULT_KEY),
    )
