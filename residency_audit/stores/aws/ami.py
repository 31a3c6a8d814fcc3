"""AMIs owned by the account: the image's region, the region a copied image was copied from, snapshots on Outposts.

What is a copy of what:
* An image and the EBS snapshots behind it (its block device mappings) sit in the image's region: AMIs and their
  snapshots are regional, and CopyImage makes new snapshots in the destination region. A snapshot on an Outpost
  (`Ebs.OutpostArn`) sits wherever that Outpost is, which the API does not say: an unknown location.
* A copied image (CopyImage) names its source: `SourceImageId` and `SourceImageRegion`. The same data is in the
  source region as long as the source image exists there, so the source region is a copy of this image. The source
  image, if this account owns it, is reported in its own region as its own resource; the copy is its own resource
  too (it is deregistered independently), so a copy abroad is always reported, by itself, wherever it sits.
* Snapshots the account copied without an image (CopySnapshot) are EBS snapshots, read by stores/aws/ebs.py.

Key control comes from the snapshots: `BlockDeviceMappings[].Ebs.Encrypted` / `.KmsKeyId`; the worst snapshot's
keys decide (one unencrypted volume exposes the image). Field names are those of botocore's `ec2` model
(2016-11-15): DescribeImages `Images[]` (`ImageId`, `Name`, `BlockDeviceMappings`, `SourceImageId`,
`SourceImageRegion`, `Tags`), EbsBlockDevice (`SnapshotId`, `Encrypted`, `KmsKeyId`, `OutpostArn`). One paged
DescribeImages (`Owners=['self']`) per region answers everything: an empty region costs one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places

RTYPE = "AWS::EC2::Image"
DEFAULT_KEY = "encrypted with the default EBS key (aws/ebs, or the account's EBS default key)"

# --- live -----------------------------------------------------------------------------------------------------


def ami_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's images owned by the account, each with the region it was copied from and its snapshots' keys."""
    ec2 = account.client("ec2", region)
    for page in ec2.get_paginator("describe_images").paginate(Owners=["self"], PaginationConfig={"PageSize": 1000}):
        for image in page.get("Images", []):
            yield from _image(account, region, image)


def _image(account: Account, region: str, image: dict[str, Any]) -> Iterator[Resource | Skip]:
    image_id = image["ImageId"]
    footprint = [Copy(region, CopyRole.PRIMARY)]
    source_region, source_id = image.get("SourceImageRegion"), image.get("SourceImageId")
    if source_region or source_id:
        note = f"copied from image {source_id or '?'} in {source_region or '?'}: the same data is there while it exists"
        footprint.append(Copy(source_region or UNKNOWN_LOCATION, CopyRole.REPLICA, note=note))
    keys: list[tuple[KeyControl, str]] = []
    for mapping in image.get("BlockDeviceMappings", []):
        ebs = mapping.get("Ebs") or {}
        snapshot = ebs.get("SnapshotId")
        if not snapshot:
            continue  # an instance-store volume or an empty mapping: no data in the image
        if ebs.get("OutpostArn"):
            note = f"snapshot {snapshot} stored on Outpost {ebs['OutpostArn']}, whose location the API does not give"
            footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=note))
        if ebs.get("Encrypted"):
            control, how = account.key_control(region, ebs.get("KmsKeyId"), None)
            yield from account.key_skips(region, ebs.get("KmsKeyId"))
        else:
            control, how = KeyControl.PROVIDER_MANAGED, "not encrypted"
        keys.append((control, f"snapshot {snapshot}: {how}"))
    key = weakest(keys) if keys else (KeyControl.UNKNOWN, "no EBS snapshot in the image's block device mappings")
    arn = f"arn:{account.partition}:ec2:{region}::image/{image_id}"
    tags = tag_list(image.get("Tags", []))
    name = image.get("Name") or image_id
    yield resource(account, "ami", RTYPE, arn, name, dedupe_places(footprint), tags, key)


def weakest(keys: list[tuple[KeyControl, str]]) -> tuple[KeyControl, str]:
    """The weakest key control of several (unknown counts as weakest), with every note."""
    order = [KeyControl.UNKNOWN, KeyControl.PROVIDER_MANAGED, KeyControl.CUSTOMER_MANAGED, KeyControl.EXTERNAL]
    worst = min((k for k, _ in keys), key=lambda k: order.index(k) if k in order else len(order))
    return worst, "; ".join(dict.fromkeys(note for _, note in keys))


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_ami(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    keys: list[tuple[KeyControl, str]] = []
    if item.type == "aws_ami_copy":
        source = item.text("source_ami_region")
        what = f"copied from image {item.text('source_ami_id') or AFTER_APPLY}"
        footprint.append(
            Copy(source, CopyRole.REPLICA, note=f"{what} in {source}")
            if source
            else unknown_copy(CopyRole.REPLICA, f"{what}: source region {AFTER_APPLY}")
        )
        if item.get("encrypted") is True:
            keys.append(ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY))
        else:
            keys.append((KeyControl.UNKNOWN, "not re-encrypted: the copy keeps the source image's keys, unread"))
    elif item.type == "aws_ami_from_instance":
        keys.append((KeyControl.UNKNOWN, "the keys of the instance's volumes cannot be read from the plan"))
    else:
        if item.is_unknown("ebs_block_device"):
            keys.append((KeyControl.UNKNOWN, f"block devices {AFTER_APPLY}"))
        for i, device in enumerate(item.blocks("ebs_block_device")):
            if device.get("outpost_arn"):
                what = f"snapshot of {device.get('device_name') or i} on Outpost {device['outpost_arn']}"
                footprint.append(unknown_copy(CopyRole.REPLICA, f"{what}: its location is not given"))
            keys.append(_plan_snapshot_key(ctx, item, i))
    key = weakest(keys) if keys else (KeyControl.UNKNOWN, "no EBS snapshot in the image's block devices")
    return ctx.resource(
        item, Provider.AWS, ("ami", RTYPE, "name"), dedupe_places(footprint), key, plan_tags(item, "tags_all", "tags")
    )


def _plan_snapshot_key(ctx: Context, item: Item, i: int) -> tuple[KeyControl, str]:
    path = ("ebs_block_device", i, "snapshot_id")
    snaps = [*ctx.target(item, path, "aws_ebs_snapshot", ("id",))]
    snaps += ctx.target(item, path, "aws_ebs_snapshot_copy", ("id",))
    if len(snaps) != 1:
        return KeyControl.UNKNOWN, f"snapshot {item.text(*path) or AFTER_APPLY}: its encryption is not in the plan"
    snap = snaps[0]
    if snap.get("encrypted") is True or snap.text("kms_key_id"):
        control, how = ctx.aws_key(snap, ("kms_key_id",), DEFAULT_KEY)
        return control, f"snapshot {snap.address}: {how}"
    if snap.get("encrypted") is False and snap.type == "aws_ebs_snapshot_copy":
        return KeyControl.UNKNOWN, f"snapshot {snap.address} keeps its source's encryption, not in the plan"
    if snap.get("encrypted") is False:
        return KeyControl.PROVIDER_MANAGED, f"snapshot {snap.address}: not encrypted"
    return KeyControl.UNKNOWN, f"snapshot {snap.address}: encryption {AFTER_APPLY}"


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_ami": _plan_ami,
    "aws_ami_copy": _plan_ami,
    "aws_ami_from_instance": _plan_ami,
}
