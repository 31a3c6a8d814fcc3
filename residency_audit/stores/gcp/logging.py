"""Cloud Logging buckets: each bucket's location (often `global`) and its CMEK; live and planned.

Cloud Logging API v2 (discovery document `logging:v2`): `projects.locations.buckets.list` with location `-` (every
location in one list), paged (`pageSize`, `pageToken`/`nextPageToken`). The location is the `{location}` segment of
the bucket's `name` (`projects/{project}/locations/{location}/buckets/{bucket}`). The `_Default` and `_Required`
buckets every project has are created in `global` unless the organization's default storage location was set
before the project was created: read, not assumed. `global` resolves to the knowledge base's entry for "any
country where Google Cloud has a region". `cmekSettings.kmsKeyName` is the bucket's Cloud KMS key.

Sinks (`projects.sinks.list`) route copies of a project's logs to buckets, datasets, Cloud Storage buckets or topics
elsewhere; those destinations are stores of their own and are not yet linked to the buckets here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource
from ...model import Copy, CopyRole, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import mapping, text

ASSET = "logging.googleapis.com/LogBucket"
_DEFAULT_BUCKETS = ("_Default", "_Required")


def log_bucket_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's log buckets in every location."""
    path = f"/v2/projects/{project}/locations/-/buckets"
    for item in gcp.pages("logging", path, "logging buckets.list", "buckets", {"pageSize": "1000"}):
        yield from_body(gcp, project, item)


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A log bucket from its v2 JSON (LogBucket)."""
    full = text(item.get("name")) or ""
    parts = full.split("/")
    # projects/{project}/locations/{location}/buckets/{bucket}
    location = parts[3] if len(parts) == 6 and parts[2] == "locations" and parts[3] else UNKNOWN_LOCATION
    name = parts[-1] if parts[-1] else "?"
    notes = []
    if name in _DEFAULT_BUCKETS:
        notes.append(f"{name}: created by Cloud Logging in every project (location from the organization's settings)")
    if location.lower() in ("eu", "us"):
        notes.append(f"Cloud Logging's {location} multi-region, assessed as Cloud Storage's (no member list published)")
    note = "; ".join(notes) or None
    cmek = text(mapping(item.get("cmekSettings")).get("kmsKeyName"))
    return resource(
        gcp,
        project,
        "logging-bucket",
        ASSET,
        f"//logging.googleapis.com/projects/{project}/locations/{location}/buckets/{name}",
        name,
        [Copy(location, CopyRole.PRIMARY, note=note)],
        {},  # log buckets have no labels
        gcp.key_control(str(cmek), GOOGLE_DEFAULT_KEY) if cmek else GOOGLE_DEFAULT_KEY,
    )


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_bucket(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    if location:
        copy = Copy(location, CopyRole.PRIMARY)
    elif item.is_unknown("location"):
        copy = unknown_copy(CopyRole.PRIMARY, f"location {AFTER_APPLY}")
    else:  # the provider requires it: a plan without it says nothing about where the bucket is
        copy = unknown_copy(CopyRole.PRIMARY, "location not in the plan")
    return ctx.resource(
        item,
        Provider.GCP,
        ("logging-bucket", ASSET, "bucket_id"),
        [copy],
        ctx.gcp_key(item, ("cmek_settings", 0, "kms_key_name")),
        {},
    )


# Terraform resource types this module's plan reader evaluates (google provider: location, cmek_settings)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_logging_project_bucket_config": _plan_bucket}
