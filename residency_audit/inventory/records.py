"""What an inventory engine yields: a resource it found, or a scope it could not see.

Engines only find: a `Listed` names a resource (its native type, id, name, location and the properties the
catalogue and the stores need); the stores assess it. A `Blind` is a scope the engine cannot answer for (no index
in an account-region, a region its aggregator does not cover, the API disabled or denied, more results than it
can count): the scan walks that scope instead, or reports it as a skip. An engine never goes silent on a scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import Provider


@dataclass(frozen=True)
class Listed:
    """One resource an inventory engine reported."""

    provider: Provider
    engine: str  # "cloud-asset-inventory", "resource-explorer", "config:NAME"
    account: str  # AWS account id, Google Cloud project id
    native_type: str  # CAI asset type, CloudFormation type (AWS::S3::Bucket)
    id: str  # ARN, full resource name
    name: str
    location: str  # region or location as the engine reports it ("" when it reports none)
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    properties: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Blind:
    """A scope an engine cannot answer for; `native_type` empty: every type in that scope."""

    provider: Provider
    engine: str
    scope: str  # "account/ID/region/R", "project/ID", "organizations/N" …
    reason: str
    account: str = ""
    region: str = ""
    native_type: str = ""


@dataclass(frozen=True)
class Counted:
    """How many resources of a type an engine counted in one account-region, without listing them."""

    provider: Provider
    engine: str
    account: str
    region: str
    native_type: str
    count: int


def readers(provider: Provider) -> dict[str, str]:
    """Every name (native, Resource Explorer, AWS Config) of a catalogue type a store reads → its --service name."""
    from ..catalogue import load

    out: dict[str, str] = {}
    for entry in load().types:
        if entry.provider == provider and entry.service:
            for name in (entry.native, entry.resource_explorer, *entry.config_types):
                if name:
                    out[name] = entry.service
    return out


def explorer_types(provider: Provider) -> list[tuple[str, tuple[str, ...]]]:
    """Each type a store reads that has a Resource Explorer name: its --service and its names (RE, native).

    A type without one is found through another type of its service (a KMS replica key is a `kms:key`, a subscription
    filter belongs to its log group, DocumentDB and Neptune clusters are `rds:cluster`).
    """
    from ..catalogue import load

    return [
        (entry.service, tuple(n for n in (entry.resource_explorer, entry.native) if n))
        for entry in load().types
        if entry.provider == provider and entry.service and entry.resource_explorer
    ]


def config_types(provider: Provider) -> dict[str, str]:
    """The names AWS Config records each type a store reads under (catalogue `aws_config`, else `aws_type`)."""
    from ..catalogue import load

    return {
        name: entry.service
        for entry in load().types
        if entry.provider == provider and entry.service
        for name in entry.recorded_as
    }
