"""Cloud Logging sinks: each sink copies a project's (or folder's, organization's) logs to its destination.

Cloud Logging API v2 (discovery document `logging:v2`): `projects.sinks.list` (and `folders.sinks.list`,
`organizations.sinks.list` for the --folder / --organization a scan names), paged (`pageSize`,
`pageToken`/`nextPageToken`). A LogSink's `destination` is one of

    logging.googleapis.com/projects/{p}/locations/{location}/buckets/{bucket}   a log bucket: location in the name
    storage.googleapis.com/{bucket}                                            a Cloud Storage bucket
    bigquery.googleapis.com/projects/{p}/datasets/{dataset}                    a BigQuery dataset
    pubsub.googleapis.com/projects/{p}/topics/{topic}                          a Pub/Sub topic
    logging.googleapis.com/projects/{p}                                        another project's Log Router

Each sink is a resource whose one copy is the destination: where the copies of the logs it routes are. Its
location is read from the destination itself, once per destination for the whole scan (`buckets.get`,
`datasets.get`, `topics.get`, log `buckets.get`), so a bucket in Frankfurt, a dataset in `US` or a topic without a
storage policy are what those stores would say, keys included. A destination that cannot be read (another
organization's, or denied) is an unknown location with the reason, never guessed; a log bucket's location is
still its name's. A disabled sink routes nothing now; its destination keeps what it routed before, so it counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, unknown_copy
from ..common import UNKNOWN_LOCATION
from . import pubsub
from .common import mapping, text

ASSET = "logging.googleapis.com/LogSink"
Where = tuple[list[Copy], tuple[KeyControl, str]]


def sink_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's sinks, each with its destination's location and key."""
    yield from parent_sinks(gcp, f"projects/{project}", project)


def parent_sinks(gcp: Gcp, parent: str, account: str) -> Iterator[Resource]:
    """The sinks of a project, folder or organization (`parent` as the API names it)."""
    path = f"/v2/{parent}/sinks"
    for item in gcp.pages("logging", path, "logging sinks.list", "sinks", {"pageSize": "1000"}):
        yield from_body(gcp, account, item, parent)


def from_body(gcp: Gcp, account: str, item: dict[str, Any], parent: str = "") -> Resource:
    """A sink from its v2 JSON (LogSink), its copy where the destination is."""
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1] or "?"
    destination = text(item.get("destination")) or ""
    copies, key = destination_of(gcp, destination)
    notes = [f"logs routed by sink {name} to {destination or 'no destination'}"]
    if item.get("disabled") is True:
        notes.append("disabled now: the destination keeps what it routed before")
    if item.get("includeChildren") is True:
        notes.append("includes the logs of every project below it")
    note = "; ".join(notes)
    footprint = [Copy(c.code, CopyRole.REPLICA, note=f"{note}; {c.note}" if c.note else note) for c in copies]
    parent = parent or f"projects/{account}"
    return resource(
        gcp,
        account,
        "logging-sink",
        ASSET,
        f"//logging.googleapis.com/{parent}/sinks/{name}",
        name,
        footprint,
        {},  # sinks have no labels
        key,
    )


def destination_of(gcp: Gcp, destination: str) -> Where:
    """Where a destination's data is, and under which key: read once per destination for the whole scan."""
    try:
        found: Where = gcp.memo("sink-destination", lambda d: _read(gcp, d)).get(destination)
        return found
    except Exception as exc:
        bucket_location = _log_bucket(destination)
        reason = f"destination {destination} could not be read ({describe_error(exc)})"
        where = bucket_location[1] if bucket_location else UNKNOWN_LOCATION
        return [Copy(where, CopyRole.REPLICA, note=reason)], (KeyControl.UNKNOWN, f"{reason}: its key is unknown")


def _log_bucket(destination: str) -> tuple[str, str] | None:
    """(bucket name, location) of a log bucket destination, else None."""
    parts = destination.split("/")
    if len(parts) == 7 and parts[0] == "logging.googleapis.com" and parts[3] == "locations" and parts[5] == "buckets":
        return "/".join(parts[1:]), parts[4]
    return None


def _read(gcp: Gcp, destination: str) -> Where:
    service, _, rest = destination.partition("/")
    parts = rest.split("/")
    bucket = _log_bucket(destination)
    if bucket is not None:
        body = gcp.get("logging", f"/v2/{bucket[0]}", "logging buckets.get")
        cmek = text(mapping(body.get("cmekSettings")).get("kmsKeyName"))
        key = gcp.key_control(cmek, GOOGLE_DEFAULT_KEY) if cmek else GOOGLE_DEFAULT_KEY
        return [Copy(bucket[1], CopyRole.REPLICA, note="log bucket")], key
    if service == "storage.googleapis.com" and len(parts) == 1 and parts[0]:
        from .gcs import bucket_footprint

        found = gcp.storage().get_bucket(parts[0], timeout=gcp.options.timeout, retry=gcp.storage_retry())
        copies = bucket_footprint(found.location, found.location_type, found.data_locations)
        return copies, gcp.key_control(found.default_kms_key_name, GOOGLE_DEFAULT_KEY)
    if service == "bigquery.googleapis.com" and len(parts) == 4 and parts[0] == "projects" and parts[2] == "datasets":
        body = gcp.get("bigquery", f"/bigquery/v2/{rest}", "bigquery datasets.get")
        location = text(body.get("location")) or UNKNOWN_LOCATION
        cmek = text(mapping(body.get("defaultEncryptionConfiguration")).get("kmsKeyName"))
        return [Copy(location, CopyRole.REPLICA, note="BigQuery dataset")], gcp.key_control(cmek, GOOGLE_DEFAULT_KEY)
    if service == "pubsub.googleapis.com" and len(parts) == 4 and parts[0] == "projects" and parts[2] == "topics":
        body = gcp.get("pubsub", f"/v1/{rest}", "pubsub topics.get")
        cmek = text(body.get("kmsKeyName"))
        copies = pubsub.footprint(mapping(body.get("messageStoragePolicy")).get("allowedPersistenceRegions"))
        return copies, gcp.key_control(cmek, GOOGLE_DEFAULT_KEY)
    if service == "logging.googleapis.com" and len(parts) == 2 and parts[0] == "projects":
        note = f"routed to project {parts[1]}'s Log Router: where it keeps them depends on that project's sinks"
        return [Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=note)], (KeyControl.UNKNOWN, note)
    note = "a destination this tool does not know: its location is unknown"
    return [Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note=note)], (KeyControl.UNKNOWN, note)


# --- the Terraform plan reader --------------------------------------------------------------------------------


# destination service → the Terraform type of its resource, and the attribute the destination's last part names
_DESTINATIONS = {
    "storage.googleapis.com": ("google_storage_bucket", "name"),
    "bigquery.googleapis.com": ("google_bigquery_dataset", "dataset_id"),
    "pubsub.googleapis.com": ("google_pubsub_topic", "name"),
    "logging.googleapis.com": ("google_logging_project_bucket_config", "bucket_id"),
}


def _plan_sink(ctx: Context, item: Item) -> Resource:
    destination = item.text("destination")
    bucket = _log_bucket(destination or "")
    planned = None if bucket is not None else _planned_destination(ctx, item, destination)
    key: tuple[KeyControl, str] = (KeyControl.UNKNOWN, "the destination's key is not in the sink: see the destination")
    if bucket is not None:  # a log bucket's location is in its name
        copies = [Copy(bucket[1], CopyRole.REPLICA, note=f"logs routed to {destination}")]
    elif planned is not None:  # a bucket, dataset or topic of the same plan: where its own reader says
        note = f"logs routed to {planned.type.split('/')[-1]} {planned.name} of this plan"
        copies = [
            replace(c, role=CopyRole.REPLICA, note=f"{note}; {c.note}" if c.note else note) for c in planned.footprint
        ]
        key = (planned.key_control, planned.key_note or "")
    elif destination:
        # a resource outside this plan: its location is its own, never guessed from the sink
        copies = [unknown_copy(CopyRole.REPLICA, f"logs routed to {destination}: that resource's location")]
    elif item.is_unknown("destination"):
        copies = [unknown_copy(CopyRole.REPLICA, f"destination {AFTER_APPLY}")]
    else:
        copies = [unknown_copy(CopyRole.REPLICA, "no destination in the plan")]
    return ctx.resource(item, Provider.GCP, ("logging-sink", ASSET, "name"), copies, key, {})


def _planned_destination(ctx: Context, item: Item, destination: str | None) -> Resource | None:
    """The destination as its own plan reader assesses it, when it is a resource of this plan (by name or reference)."""
    from ...plan.stores import PLAN_READERS  # the readers of every store; imported here, as it imports this module

    service = (destination or "").split("/", 1)[0]
    if destination and service == "logging.googleapis.com":
        return None  # known and not a log bucket: another project's Log Router
    kinds = [_DESTINATIONS[service]] if destination and service in _DESTINATIONS else list(_DESTINATIONS.values())
    for rtype, attribute in kinds:
        found = ctx.target(item, ("destination",), rtype, (attribute,), lambda v: v.rstrip("/").rsplit("/", 1)[-1])
        if len(found) == 1:
            return PLAN_READERS[rtype](ctx, found[0])
    return None


# Terraform resource types this module's plan reader evaluates (google provider: destination)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "google_logging_project_sink": _plan_sink,
    "google_logging_folder_sink": _plan_sink,
    "google_logging_organization_sink": _plan_sink,
}
