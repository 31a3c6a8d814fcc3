"""Pub/Sub topics: where messages may be persisted (`messageStoragePolicy`), and the topic's key; live and planned.

Pub/Sub API v1 (discovery document `pubsub:v1`): `projects.topics.list`, paged (`pageSize` ≤ 1,000,
`pageToken`/`nextPageToken`); each Topic carries `messageStoragePolicy.allowedPersistenceRegions` and `kmsKeyName`,
so a project costs one request per page plus one Cloud KMS read per distinct key.

Without a message storage policy (and without an organization resource-locations constraint, which this reader
does not evaluate), Pub/Sub stores each message in the Google Cloud region nearest to its publisher: where that is
depends on who publishes, so the location is unknown, said in a note, and never guessed (not the project's
region, not `global`). With a policy, each allowed region is a place messages may be stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource
from ...model import Copy, CopyRole, Provider, Resource
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, mapping, text

ASSET = "pubsub.googleapis.com/Topic"
NO_POLICY_NOTE = (
    "no message storage policy: each message is stored in the region nearest its publisher (unknown here;"
    " set messageStoragePolicy.allowedPersistenceRegions to know it)"
)


def topic_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's topics."""
    path = f"/v1/projects/{project}/topics"
    for item in gcp.pages("pubsub", path, "pubsub topics.list", "topics", {"pageSize": "1000"}):
        yield from_body(gcp, project, item)


def footprint(regions: Any) -> list[Copy]:
    """One copy per allowed persistence region; an unknown one (with the reason) when there is no policy."""
    places = [r for r in listed(regions) if isinstance(r, str) and r]
    if not places:
        return [Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note=NO_POLICY_NOTE)]
    return [Copy(p, CopyRole.PRIMARY, note="allowed persistence region") for p in places]


def from_body(gcp: Gcp, project: str, item: dict[str, Any]) -> Resource:
    """A topic from its v1 JSON (Topic)."""
    name = (text(item.get("name")) or "?").rsplit("/", 1)[-1]
    policy = mapping(item.get("messageStoragePolicy"))
    key = text(item.get("kmsKeyName"))
    return resource(
        gcp,
        project,
        "pubsub-topic",
        ASSET,
        f"//pubsub.googleapis.com/projects/{project}/topics/{name}",
        name,
        footprint(policy.get("allowedPersistenceRegions")),
        labels(item.get("labels")),
        gcp.key_control(str(key), GOOGLE_DEFAULT_KEY) if key else GOOGLE_DEFAULT_KEY,
    )


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_topic(ctx: Context, item: Item) -> Resource:
    if item.is_unknown("message_storage_policy"):
        copies = [unknown_copy(CopyRole.PRIMARY, f"message storage policy {AFTER_APPLY}")]
    else:
        copies = footprint(item.get("message_storage_policy", 0, "allowed_persistence_regions"))
    return ctx.resource(
        item,
        Provider.GCP,
        ("pubsub-topic", ASSET, "name"),
        copies,
        ctx.gcp_key(item, ("kms_key_name",)),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates (google provider: message_storage_policy, kms_key_name)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_pubsub_topic": _plan_topic}
