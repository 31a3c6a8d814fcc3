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
multi-region around it. Regionally scoped snapshots (`projects/{project}/regions/{region}/snapshots`,
`regionSnapshots.list`, in the alpha/beta discovery documents only) are not listed by `snapshots.list`: they are
assessed from Cloud Asset Inventory's JSON of them (regional_snapshot); the walk, without CAI, does not find them.

Keys: `snapshotEncryptionKey` / `imageEncryptionKey` / `machineImageEncryptionKey`: `kmsKeyName` is a Cloud KMS key
(its protection level read once per key); `rawKey`/`rsaEncryptedKey`/`sha256` alone is a customer-supplied key
(CSEK), which Google does not store but receives with every use: counted as customer-managed, said so in the note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, Gcp, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource
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


def snapshot_list(gcp: Gcp, project: str) -> Iterator[Resource]:
    """The project's (globally scoped) snapshots."""
    return _list(gcp, project, "compute-snapshot")


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
