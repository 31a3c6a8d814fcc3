"""The resource type a planned item declares, for the catalogue: AzAPI and AWS Cloud Control name theirs otherwise.

An `azapi_resource` names its ARM type in its `type` attribute ("Microsoft.Storage/storageAccounts@2023-01-01"), and
the AWS Cloud Control provider (awscc) is generated from the CloudFormation schemas: AWS::S3::Bucket is
awscc_s3_bucket. Read by their Terraform type alone, both were types the catalogue does not know, which do not
gate: a data store must never be an unknown type for its provider's sake.
"""

from __future__ import annotations

import functools
import re

from ..catalogue import load as load_catalogue
from .item import Item


def declared_type(item: Item) -> str:
    """The item's Terraform type; an AzAPI resource's ARM type; an awscc resource's CloudFormation type."""
    if item.type.startswith("azapi_"):
        arm = item.text("type")
        return arm.split("@", 1)[0] if arm else item.type
    if item.type.startswith("awscc_"):
        return _cloud_control().get(item.type, item.type)
    return item.type


@functools.cache
def _cloud_control() -> dict[str, str]:
    """awscc_ type → CloudFormation type, for the catalogue's AWS types.

    AWS::<Service>::<Resource> is awscc_<service>_<resource in snake case>: AWS::RDS::DBInstance is
    awscc_rds_db_instance, AWS::Cloud9::EnvironmentEC2 awscc_cloud9_environment_ec2.
    """
    out = {}
    for entry in load_catalogue().types:
        parts = (entry.native or "").split("::")
        if len(parts) == 3 and parts[0] == "AWS":
            snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", parts[2]).lower()
            out[f"awscc_{parts[1].lower()}_{snake}"] = entry.native or ""
    return out
