"""Log Analytics workspaces: workspace replication's secondary region, live and planned.

Workspace replication (`properties.replication.enabled`, `properties.replication.location`) keeps a copy of the
ingested logs in a second region the customer chose. Field names: azure-mgmt-loganalytics `Workspace`
(api-version 2025-07-01). Logs of a workspace linked to a dedicated cluster (`properties.features.clusterResourceId`)
are encrypted with the cluster's key, which is not read: key control is then unknown, never assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clouds.azure import KINDS
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import Context, Item, plan_tags
from ..common import UNKNOWN_LOCATION
from .common import dict_of, location_of, plan_location, properties_of, resource

_KEY = (KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (a workspace without a dedicated cluster)")


def workspace(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """A Log Analytics workspace: its region and, with replication enabled, the replication region."""
    props = properties_of(item)
    footprint = [Copy(location_of(item), CopyRole.PRIMARY)]
    replication = dict_of(props.get("replication"))
    if replication.get("enabled") is True or str(replication.get("enabled")).lower() == "true":
        where = replication.get("location")
        footprint.append(
            Copy(
                where if isinstance(where, str) and where else UNKNOWN_LOCATION,
                CopyRole.REPLICA,
                note=f"workspace replication ({replication.get('provisioningState') or 'state ?'})",
            )
        )
    cluster = dict_of(props.get("features")).get("clusterResourceId")
    key = (KeyControl.UNKNOWN, f"linked to dedicated cluster {cluster}: its key is not read") if cluster else _KEY
    kind = KINDS["log-analytics-workspace"]
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)


def _plan_workspace(ctx: Context, item: Item) -> Resource:
    # azurerm has no workspace-replication argument: a workspace starts in one region (a scan shows replication)
    location, note = plan_location(item)
    kind = KINDS["log-analytics-workspace"]
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    tags = plan_tags(item, "tags")
    return ctx.resource(item, Provider.AZURE, (kind.service, kind.type, "name"), footprint, _KEY, tags)


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_log_analytics_workspace": _plan_workspace}
