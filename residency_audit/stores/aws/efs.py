"""EFS file systems: the file system's region (or its One Zone zone) and every region replication copies it to.

Field names are those of botocore's `efs` model (2015-02-01): DescribeFileSystems `FileSystems[]` (`FileSystemId`,
`FileSystemArn`, `Name`, `Encrypted`, `KmsKeyId`, `Tags`, `AvailabilityZoneName`,
`FileSystemProtection.ReplicationOverwriteProtection`), DescribeReplicationConfigurations `Replications[]`
(`SourceFileSystemId`, `SourceFileSystemRegion`, `Destinations[].Region`, `Destinations[].FileSystemId`). The region's
replication configurations are read once, and only where the region has a file system; a replica (protection
`REPLICATING`) that no configuration of its region names is asked about by its id, to find its source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import dedupe_places

DEFAULT_KEY = "encrypted with the AWS managed key aws/elasticfilesystem"

# --- live -----------------------------------------------------------------------------------------------------


def efs_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's file systems, each with the regions its replication copies it to (or copies it from)."""
    efs = account.client("efs", region)
    systems: list[dict[str, Any]] = []
    for page in efs.get_paginator("describe_file_systems").paginate():
        systems.extend(page.get("FileSystems", []))
    if not systems:
        return  # replication copies file systems: with none here, there is nothing to read
    scope = ("region", region, "service", "efs")
    try:
        configs = _configs(efs, None)
    except Exception as exc:
        reason = f"replication configurations unreadable, so replicas are unknown: {describe_error(exc)}"
        yield Skip(Provider.AWS, account.scope(*scope, "replication"), reason)
        configs = []
    for fs in systems:
        fid = fs["FileSystemId"]
        mine = [c for c in configs if _involves(c, fid)]
        protection = (fs.get("FileSystemProtection") or {}).get("ReplicationOverwriteProtection")
        if not mine and protection == "REPLICATING":  # a replica whose configuration its region did not list
            try:
                mine = _configs(efs, fid)
            except Exception as exc:
                reason = f"source of this replica unknown: {describe_error(exc)}"
                yield Skip(Provider.AWS, account.scope(*scope, "file-system", fid), reason)
        where, note, skip = account.place(region, fs.get("AvailabilityZoneName"))
        if skip is not None:
            yield skip
        footprint = [Copy(where, CopyRole.PRIMARY, note=note), *_copies(fid, region, mine)]
        if fs.get("Encrypted"):
            key = account.key_control(region, fs.get("KmsKeyId"), DEFAULT_KEY)
            yield from account.key_skips(region, fs.get("KmsKeyId"))
        else:
            key = (KeyControl.PROVIDER_MANAGED, "file system not encrypted at rest")
        default_arn = f"arn:{account.partition}:elasticfilesystem:{region}:{account.id}:file-system/{fid}"
        arn = fs.get("FileSystemArn") or default_arn
        tags = tag_list(fs.get("Tags", []))
        name = fs.get("Name") or fid
        yield resource(account, "efs", "AWS::EFS::FileSystem", arn, name, dedupe_places(footprint), tags, key)


def _configs(efs: Any, fid: str | None) -> list[dict[str, Any]]:
    kwargs = {"FileSystemId": fid} if fid else {}
    out: list[dict[str, Any]] = []
    for page in efs.get_paginator("describe_replication_configurations").paginate(**kwargs):
        out.extend(page.get("Replications", []))
    return out


def _involves(config: dict[str, Any], fid: str) -> bool:
    dests = {d.get("FileSystemId") for d in config.get("Destinations", [])}
    return bool(config.get("SourceFileSystemId") == fid or fid in dests)


def _copies(fid: str, region: str, configs: list[dict[str, Any]]) -> list[Copy]:
    copies = []
    for config in configs:
        source, source_region = config.get("SourceFileSystemId"), config.get("SourceFileSystemRegion") or region
        if source != fid:
            copies.append(Copy(source_region, CopyRole.REPLICA, note=f"source of this replica: {source}"))
        for dest in config.get("Destinations", []):
            if dest.get("FileSystemId") == fid or not dest.get("Region"):
                continue
            note = f"replicated to {dest.get('FileSystemId', '?')} ({dest.get('Status', '?')})"
            copies.append(Copy(dest["Region"], CopyRole.REPLICA, note=note))
    return copies


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_file_system(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    for config in ctx.by_type.get("aws_efs_replication_configuration", []):
        targets = ctx.target(config, ("source_file_system_id",), "aws_efs_file_system", ("id",))
        if item.address not in {t.address for t in targets}:
            continue
        if config.is_unknown("destination"):
            footprint.append(unknown_copy(CopyRole.REPLICA, f"{config.address}: destination {AFTER_APPLY}"))
        for dest in config.blocks("destination"):
            where = dest.get("region")
            if isinstance(where, str) and where:
                footprint.append(Copy(where, CopyRole.REPLICA, note=f"replicated by {config.address}"))
            else:
                # a destination given by availability zone only, or not known yet
                footprint.append(unknown_copy(CopyRole.REPLICA, f"{config.address}: destination region unknown"))
    if item.get("encrypted") is True:
        key = ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY)
    else:
        key = (KeyControl.PROVIDER_MANAGED, "file system not encrypted at rest")
    return ctx.resource(
        item,
        Provider.AWS,
        ("efs", "AWS::EFS::FileSystem", "creation_token"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_efs_file_system": _plan_file_system}
