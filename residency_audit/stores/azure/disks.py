"""Managed disks and snapshots."""

from __future__ import annotations

from typing import Any

from ...clouds.azure import Kind
from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Resource
from ..common import UNKNOWN_LOCATION
from .common import (
    name_of,
    properties_of,
    resource,
)

# --- managed disks and snapshots ---------------------------------------------------------------------------------


def disk(arm: Arm, kind: Kind, sub: str, item: dict[str, Any]) -> Resource:
    """A managed disk or snapshot: its location (and its zone's region)."""
    props = properties_of(item)
    encryption = props.get("encryption") or {}
    etype = str(encryption.get("type") or "")
    des = encryption.get("diskEncryptionSetId")
    if des or etype in ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"):
        key = (
            KeyControl.CUSTOMER_MANAGED,
            f"{etype or 'customer-managed key'} via disk encryption set {name_of(des)}",
        )
    elif etype in ("EncryptionAtRestWithPlatformKey", ""):
        key = (KeyControl.PROVIDER_MANAGED, "platform-managed keys")
    else:
        key = (KeyControl.UNKNOWN, f"unrecognised encryption type {etype!r}")
    footprint = [Copy(str(item.get("location") or UNKNOWN_LOCATION), CopyRole.PRIMARY)]
    return resource(arm, kind.service, kind.type, sub, item, footprint, key)
