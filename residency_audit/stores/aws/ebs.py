"""EBS snapshots (live only: the plan reader lists aws_ebs_snapshot as not evaluated)."""

from __future__ import annotations

from collections.abc import Iterator

from ...clouds.aws import Account, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Resource, Skip

# --- EBS snapshots -------------------------------------------------------------------------------------------


def ebs_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's EBS snapshots owned by the account."""
    ec2 = account.client("ec2", region)
    for page in ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"]):
        for snap in page.get("Snapshots", []):
            key = (
                account.key_control(region, snap.get("KmsKeyId"), None)
                if snap.get("Encrypted")
                else (KeyControl.PROVIDER_MANAGED, "snapshot not encrypted")
            )
            if snap.get("Encrypted"):
                yield from account.key_skips(region, snap.get("KmsKeyId"))
            sid = snap["SnapshotId"]
            arn = f"arn:{account.partition}:ec2:{region}::snapshot/{sid}"
            tags = tag_list(snap.get("Tags", []))
            yield resource(
                account,
                "ebs-snapshot",
                "AWS::EC2::Snapshot",
                arn,
                tags.get("Name", sid),
                [Copy(region, CopyRole.PRIMARY)],
                tags,
                key,
            )
