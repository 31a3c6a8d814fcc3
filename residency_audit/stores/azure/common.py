"""What every Azure store shares: ARM records to Resources, paired-region copies, and the plan reader's helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...clouds.azure_arm import Arm
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import AFTER_APPLY, Item, unknown_copy
from ..common import CLIENT_SIDE_TAG, UNKNOWN_LOCATION, declared_key_control, dedupe_places

# --- shared helpers ----------------------------------------------------------------------------------------------


def subscription_of(rid: str) -> str:
    """The subscription id in an ARM resource id."""
    parts = rid.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def parent_id(rid: str) -> str:
    """The id of a child resource's parent (a SQL database's server)."""
    return rid.rsplit("/", 2)[0]


def name_of(rid: str | None) -> str:
    """The last segment of an ARM resource id."""
    return (rid or "").rstrip("/").rsplit("/", 1)[-1]


def properties_of(item: dict[str, Any]) -> dict[str, Any]:
    """An ARM record's `properties`, or {} when absent or not an object."""
    props = item.get("properties")
    return props if isinstance(props, dict) else {}


def kb_pair(location: str) -> tuple[str | None, str]:
    """The knowledge base's paired region of `location` and the location's canonical code."""
    from ...knowledge import load

    loc = load().resolve(Provider.AZURE, location)
    if loc is None:
        return None, location
    return loc.paired_region, loc.code


def azure_place(code: str) -> str:
    """What place an Azure location names: codes and display names ("West Europe") of one region are one place."""
    from ...knowledge import load

    loc = load().resolve(Provider.AZURE, code)
    return loc.code if loc is not None else "".join(code.split()).lower()


def paired_copy(location: str, what: str) -> Copy:
    """A copy kept in `location`'s paired region, which the API does not name: the knowledge base's pair."""
    pair, code = kb_pair(location)
    if pair:
        return Copy(pair, CopyRole.REPLICA, note=f"{what}: the paired region of {code}, from the knowledge base")
    return Copy(
        UNKNOWN_LOCATION,
        CopyRole.REPLICA,
        note=f"{what}: the API names no region and the knowledge base records no pair for {code}",
    )


def location_of(item: dict[str, Any]) -> str:
    """An ARM record's `location`, or unknown when absent or not a string."""
    value = item.get("location")
    return value if isinstance(value, str) and value.strip() else UNKNOWN_LOCATION


def list_of(value: Any) -> list[Any]:
    """A field that should be a JSON array: itself, or [] when absent or not an array."""
    return value if isinstance(value, list) else []


def dict_of(value: Any) -> dict[str, Any]:
    """A field that should be a JSON object: itself, or {} when absent or not an object."""
    return value if isinstance(value, dict) else {}


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    """An ARM record's tags as strings."""
    tags = item.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def resource(
    arm: Arm,
    service: str,
    rtype: str,
    sub: str,
    item: dict[str, Any],
    footprint: Iterable[Copy],
    key: tuple[KeyControl, str],
) -> Resource:
    """A Resource from what the API returned, with declared client-side encryption applied."""
    tags = tags_of(item)
    key_control, key_note = declared_key_control(tags, CLIENT_SIDE_TAG, key)
    return Resource(
        provider=Provider.AZURE,
        account=sub,
        service=service,
        type=rtype,  # the canonical ARM type (Resource Graph returns it lower-case)
        id=str(item["id"]),
        name=str(item.get("name") or name_of(item["id"])),
        footprint=tuple(dedupe_places(footprint, azure_place)),
        key_control=key_control,
        key_note=key_note,
        tags=tags,
        classification=tags.get(arm.options.classification_tag),
    )


# --- the plan reader's Azure helpers ----------------------------------------------------------------------

# --- Azure -----------------------------------------------------------------------------------------------------


def plan_location(item: Item) -> tuple[str, str | None]:
    """A planned Azure resource's location, or unknown (with why) when known only after apply."""
    location = item.text("location")
    if location is not None:
        return location, None
    return UNKNOWN_LOCATION, f"location {AFTER_APPLY}"


def plan_paired(location: str, what: str, reported: str) -> Copy:
    """A copy in the knowledge base's paired region of `location`; unknown when it records no pair."""
    from ...knowledge import load

    if location == UNKNOWN_LOCATION:
        return unknown_copy(CopyRole.REPLICA, f"{what}: the primary location is unknown, so the secondary is too")
    known = load().resolve(Provider.AZURE, location)
    if known is not None and known.paired_region:
        return Copy(
            known.paired_region,
            CopyRole.REPLICA,
            note=f"{what}: secondary = paired region per the knowledge base ({reported})",
        )
    return unknown_copy(
        CopyRole.REPLICA,
        f"{what}: the knowledge base records no paired region for {location}, so the secondary is unknown ({reported})",
    )
