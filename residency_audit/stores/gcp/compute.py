"""Compute Engine snapshots, images and machine images: their `storageLocations` and keys; live and planned.

Compute Engine API v1 (discovery document `compute:v1`): `snapshots.list`, `images.list` and `machineImages.list`
under `projects/{project}/global/…`, each paged (`maxResults` ≤ 500, `pageToken`/`nextPageToken`) and carrying
everything read here, so a project costs one request per 500 of each, plus one Cloud KMS read per distinct key.

Where the data is: `storageLocations`, a list of Cloud Storage locations, a region (`europe-west3`) or a
multi-region (`eu`, `us`, `asia`). By default (snapshot settings policy NEAREST_MULTI_REGION) Google picks the
multi-region nearest the source disk, so a disk in Frankfurt is typically snapshotted into `eu`: every country of
that multi-region is in the footprint (the knowledge base resolves the code, case-insensitively, to the Cloud
Storage multi-region). A resource that reports no `storageLocations` is a copy in an unknown location, never the
source disk's region. A region in `storageLocations` (`europe-west3`) is that region only, never widened to the
multi-region around it.

Regionally scoped snapshots (`projects/{project}/regions/{region}/snapshots`) are not in `snapshots.list`, and
Compute v1 has no aggregated list of them. `regionSnapshots.list` is in the v1 discovery document (revision
20261106, apiVersion 2026-11-01; it was alpha/beta only before), so the walk reads them region by region: one
`regions.list` per project (the regions it can use), then one `regionSnapshots.list` per region, each its own task
(the pool runs them side by side): 1 + R requests per project, R the regions it lists (the knowledge base
knows 44 Google Cloud regions today). With Cloud Asset Inventory
they are assessed from CAI's JSON instead (regional_snapshot) and no region is listed. A region that cannot be
listed is a skip naming it; a project whose regions cannot be listed is one skip saying its regional snapshots
were not listed. Either way the gate sees an incomplete scan, never a silent gap.

Keys: `snapshotEncryptionKey` / `imageEncryptionKey` / `machineImageEncryptionKey`: `kmsKeyName` is a Cloud KMS key
(its protection level read once per key); `rawKey`/`rsaEncryptedKey`/`sha256` alone is a customer-supplied key
(CSEK), which Google does not store but receives with every use: counted as customer-managed, said so in the note.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, describe_error, resource, scope
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION
from .common import labels, listed, text

_DEFAULT_NOTE = (
    "storageLocations not reported: by default Google stores it in the multi-region nearest its source"
    " (unknown here, never the source's region)"
)

# service → (collection, operation, CAI asset type, the encryption field)
KINDS = {
    "compute-snapshot": (
        "snapshots",
        "compute snapshots.list",
        "compute.googleapis.com/Snapshot",
        "snapshotEncryptionKey",
    ),
    "compute-image": ("images", "compute images.list", "compute.googleapis.com/Image", "imageEncryptionKey"),
    "compute-machine-image": (
        "machineImages",
        "compute machineImages.list",
        "compute.googleapis.com/MachineImage",
        "machineImageEncryptionKey",
    ),
}


def snapshot_list(gcp: Gcp, project: str, regions: Iterable[str] | None = None) -> Iterator[Resource | Skip | Task]:
    """The project's globally scoped snapshots, then a task per region listing its regionally scoped ones.

    `regions` None: every region `regions.list` gives the project (the walk); empty: none (CAI found them).
    """
    yield from _list(gcp, project, "compute-snapshot")
    if regions is None:
        gap = scope(project, "compute-snapshot", "regions")
        try:
            path = f"/compute/v1/projects/{project}/regions"
            # only the names: a Region carries its quotas too (about a hundred each), which nothing here reads
            params = {"maxResults": "500", "fields": "items(name),nextPageToken"}
            items = list(gcp.pages("compute", path, REGIONS_LIST, "items", params))
        except Exception as exc:  # the global snapshots above stand; the regional ones are a visible gap
            yield Skip(Provider.GCP, gap, f"{REGIONAL_NOT_LISTED}: {describe_error(exc)}")
            return
        regions = [r for item in items if (r := _name(item))]
        odd = [item for item in items if not _name(item)]
        if odd:  # not a region name this tool can put in a path: said, never dropped
            shown = ", ".join(repr(i.get("name") if isinstance(i, dict) else i)[:40] for i in odd[:3])
            reason = f"regionally scoped snapshots not listed in {len(odd)} regions with unexpected names ({shown})"
            yield Skip(Provider.GCP, gap, reason)
    for region in sorted(set(regions)):
        yield Task(
            Provider.GCP,
            scope(project, "compute-snapshot", "region", region),
            functools.partial(_regional_list, gcp, project, region),
            functools.partial(_regional_failed, region),
        )


REGIONS_LIST = "compute regions.list"
REGIONAL_LIST = "compute regionSnapshots.list"
_REGION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
REGIONAL_NOT_LISTED = "regionally scoped snapshots not listed: the project's regions could not be read"


def _name(item: Any) -> str:
    name = text(item.get("name")) if isinstance(item, dict) else None
    # a region name goes into a path: only what Compute's region names look like (never a slash, dot or query)
    return name if name and _REGION.match(name) else ""


def _regional_list(gcp: Gcp, project: str, region: str) -> Iterator[Resource | Skip]:
    path = f"/compute/v1/projects/{project}/regions/{region}/snapshots"
    for item in gcp.pages("compute", path, REGIONAL_LIST, "items", {"maxResults": "500"}):
        if isinstance(item, dict):
            yield regional_snapshot(gcp, project, region, item)
        else:  # an entry that is no snapshot: said, never dropped
            what = f"an entry of {type(item).__name__} in {REGIONAL_LIST} for {region}: not a snapshot, not assessed"
            yield Skip(Provider.GCP, scope(project, "compute-snapshot", "region", region), what)


def _regional_failed(region: str, exc: BaseException) -> str:
    return f"regionally scoped snapshots in {region} could not be listed: {describe_error(exc)}"


def image_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's custom images."""
    return _list(gcp, project, "compute-image")


def machine_image_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's machine images."""
    return _list(gcp, project, "compute-machine-image")


def _list(gcp: Gcp, project: str, service: str) -> Iterator[Resource]:
    collection, operation, _, _ = KINDS[service]
    path = f"/compute/v1/projects/{project}/global/{collection}"
    for item in gcp.pages("compute", path, operation, "items", {"maxResults": "500"}):
        yield from_body(gcp, project, service, item)


def from_body(gcp: Gcp, project: str, service: str, item: dict[str, Any], scope: str = "global") -> Resource:
    """A snapshot, image or machine image from its v1 JSON (what `…list` returns and CAI's versioned resource holds).

    `scope` is `global`, or `regions/{region}` for a regionally scoped snapshot.
    """
    collection, _, asset, key_field = KINDS[service]
    name = text(item.get("name")) or "?"
    return resource(
        gcp,
        project,
        service,
        asset,
        f"//compute.googleapis.com/projects/{project}/{scope}/{collection}/{name}",
        name,
        footprint(item.get("storageLocations"), _source(item)),
        labels(item.get("labels")),
        _key(gcp, item.get(key_field)),
    )


def regional_snapshot(gcp: Gcp, project: str, region: str, body: dict[str, Any]) -> Resource:
    """A regionally scoped snapshot from its JSON; stored where `storageLocations` says, else in its region."""
    if not [p for p in listed(body.get("storageLocations")) if isinstance(p, str) and p]:
        # a regional snapshot is stored in its region: the scope is the location, not a default to guess
        body = {**body, "storageLocations": [region]}
    return from_body(gcp, project, "compute-snapshot", body, f"regions/{region}")


def _source(item: dict[str, Any]) -> str | None:
    for field in ("sourceDisk", "sourceImage", "sourceSnapshot", "sourceInstance"):
        if text(item.get(field)):
            return f"source {str(item[field]).split('/compute/v1/')[-1]}"
    return None


def footprint(locations: Any, source: str | None) -> list[Copy]:
    """One copy per storage location (a region or a multi-region, as reported); unknown if none is."""
    places = [p for p in listed(locations) if isinstance(p, str) and p]
    if not places:
        return [Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note=_DEFAULT_NOTE)]
    return [Copy(p, CopyRole.PRIMARY, note=f"storage location ({source})" if source else None) for p in places]


def _key(gcp: Gcp, key: Any) -> tuple[KeyControl, str]:
    if not isinstance(key, dict) or not key:
        return GOOGLE_DEFAULT_KEY
    if text(key.get("kmsKeyName")):
        return gcp.key_control(str(key["kmsKeyName"]), GOOGLE_DEFAULT_KEY)
    return _key_csek()


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan(service: str, key_block: str) -> Callable[[Context, Item], Resource]:
    asset = KINDS[service][2]

    def read(ctx: Context, item: Item) -> Resource:
        places = item.get("storage_locations")
        if item.is_unknown("storage_locations"):
            copies = [unknown_copy(CopyRole.PRIMARY, f"storage_locations {AFTER_APPLY}")]
        elif [p for p in listed(places) if isinstance(p, str) and p]:
            copies = [
                Copy(p, CopyRole.PRIMARY, note="storage_locations") for p in listed(places) if isinstance(p, str) and p
            ]
        else:
            copies = [Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note=_DEFAULT_NOTE)]
        return ctx.resource(
            item,
            Provider.GCP,
            (service, asset, "name"),
            copies,
            _plan_key(ctx, item, key_block),
            plan_tags(item, "effective_labels", "labels"),
        )

    return read


def _plan_key(ctx: Context, item: Item, block: str) -> tuple[KeyControl, str]:
    keys = item.blocks(block)
    if keys and not keys[0].get("kms_key_self_link") and (keys[0].get("raw_key") or keys[0].get("rsa_encrypted_key")):
        return _key_csek()
    return ctx.gcp_key(item, (block, 0, "kms_key_self_link"))


def _key_csek() -> tuple[KeyControl, str]:
    return (
        KeyControl.CUSTOMER_MANAGED,
        "customer-supplied encryption key (CSEK): Google does not store it, but receives it with every use",
    )


# Terraform resource types this module's plan reader evaluates (google provider: storage_locations; the key blocks
# snapshot_encryption_key / image_encryption_key with kms_key_self_link)
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "google_compute_snapshot": _plan("compute-snapshot", "snapshot_encryption_key"),
    "google_compute_image": _plan("compute-image", "image_encryption_key"),
}
