"""Azure Compute Gallery image versions: every target region holds a replica, live and planned.

An image version is a copy of a disk (often with data on it) replicated to each of its target regions
(`properties.publishingProfile.targetRegions[].name`, display names such as "East US"). Field names: azure-mgmt-compute
`GalleryImageVersion`, api-version 2024-03-03. Resource Graph returns versions as rows of their own type; without
Graph, Resource Manager lists them per gallery and image (galleries, then images, then versions: one task per
subscription). A version is customer-key encrypted only when every target region names a disk encryption set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.azure import KINDS, describe_error
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places
from .common import azure_place, dict_of, list_of, location_of, plan_location, properties_of, resource

GALLERIES = "Microsoft.Compute/galleries"


def image_version(arm: Arm, sub: str, item: dict[str, Any]) -> Resource:
    """An image version: its home region and every target region's replica."""
    kind = KINDS["gallery-image-version"]
    profile = dict_of(properties_of(item).get("publishingProfile"))
    home = location_of(item)
    footprint = [Copy(home, CopyRole.PRIMARY)]
    regions = [dict_of(r) for r in list_of(profile.get("targetRegions"))]
    encrypted = 0
    for region in regions:
        name = region.get("name")
        count = region.get("regionalReplicaCount")
        # each target region names its own disk encryption set (or none): keys are per copy
        own = bool(dict_of(dict_of(region.get("encryption")).get("osDiskImage")).get("diskEncryptionSetId"))
        encrypted += own
        own_key = KeyControl.CUSTOMER_MANAGED if own else KeyControl.PROVIDER_MANAGED
        if isinstance(name, str) and _same_place(name, home):
            # the home region is listed among the targets (Azure requires it): that entry is the primary's own copy
            footprint[0] = Copy(home, CopyRole.PRIMARY, key_control=own_key)
            continue
        footprint.append(
            Copy(
                name if isinstance(name, str) and name else UNKNOWN_LOCATION,
                CopyRole.REPLICA,
                note=f"target region ({count if count is not None else 'default'} replicas)",
                key_control=own_key,
            )
        )
    if regions and encrypted == len(regions):
        key = (KeyControl.CUSTOMER_MANAGED, "a disk encryption set in every target region")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys in at least one target region")
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)


def _same_place(name: str, code: str) -> bool:
    """Whether a display name ("West Europe") and a location code ("westeurope") name one region."""
    return name.replace(" ", "").lower() == code.replace(" ", "").lower()


def arm_versions(arm: Arm, sub: str) -> Iterator[Resource | Skip]:
    """Every image version of a subscription through Resource Manager: galleries, their images, their versions."""
    api = KINDS["gallery-image-version"].api_version
    for gallery in arm.pages(f"/subscriptions/{sub}/providers/{GALLERIES}", api):
        gid = str(gallery["id"])
        try:
            images = list(arm.pages(f"{gid}/images", api))
        except Exception as exc:
            yield Skip(Provider.AZURE, f"{gid.lstrip('/')}/images", f"image versions unknown: {describe_error(exc)}")
            continue
        for image in images:
            iid = str(image["id"])
            try:
                versions = list(arm.pages(f"{iid}/versions", api))
            except Exception as exc:
                yield Skip(
                    Provider.AZURE, f"{iid.lstrip('/')}/versions", f"image versions unknown: {describe_error(exc)}"
                )
                continue
            for version in versions:
                yield image_version(arm, sub, version)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_image_version(ctx: Context, item: Item) -> Resource:
    location, note = plan_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    if item.is_unknown("target_region"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"target_region {AFTER_APPLY}"))
    blocks = item.blocks("target_region")
    for block in blocks:
        name = block.get("name")
        footprint.append(
            Copy(name, CopyRole.REPLICA, note="target_region block")
            if isinstance(name, str) and name
            else unknown_copy(CopyRole.REPLICA, f"target_region name {AFTER_APPLY}")
        )
    if blocks and all(b.get("disk_encryption_set_id") for b in blocks):
        key = (KeyControl.CUSTOMER_MANAGED, "a disk encryption set in every target region")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys in at least one target region")
    kind = KINDS["gallery-image-version"]
    return ctx.resource(
        item,
        Provider.AZURE,
        (kind.service, kind.type, "name"),
        dedupe_places(footprint, azure_place),
        key,
        plan_tags(item, "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"azurerm_shared_image_version": _plan_image_version}
