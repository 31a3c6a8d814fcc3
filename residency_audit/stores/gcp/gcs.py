"""Cloud Storage buckets: regions, dual-regions (predefined and configurable) and multi-regions; live and planned."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.gcp import GOOGLE_DEFAULT_KEY, ZONE, Gcp, GcpApiError, describe_error, one_line, resource, scope
from ...model import Copy, CopyRole, Provider, Resource, Skip
from ...pipeline import Task
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy

# --- Cloud Storage -------------------------------------------------------------------------------------------


def gcs_list(gcp: Gcp, project: str) -> Iterator[Resource | Task | Skip]:
    """The project's buckets (one task per bucket whose default KMS key must be described)."""
    from google.api_core.exceptions import GoogleAPICallError, RetryError

    client = gcp.storage()
    try:
        buckets = client.list_buckets(
            project=project,
            timeout=gcp.options.timeout,
            retry=gcp.storage_retry(),
            page_size=1000,
            # a bucket whose location is down is named in `unreachable` instead of failing the whole listing
            return_partial_success=True,
        )
        for page in buckets.pages:
            for bucket in page:
                if bucket.default_kms_key_name:
                    # a per-key KMS read is needed: its own task, so it does not hold this listing up
                    yield Task(
                        Provider.GCP,
                        scope(project, "gcs", "bucket", bucket.name),
                        functools.partial(_gcs_bucket, gcp, project, bucket),
                        describe_error,
                    )
                else:
                    yield from _gcs_bucket(gcp, project, bucket)
            for name in getattr(page, "unreachable", None) or []:
                bucket_name = str(name).rsplit("/", 1)[-1]
                yield Skip(
                    Provider.GCP,
                    scope(project, "gcs", "bucket", bucket_name),
                    "bucket unreachable when listed (its location may be unavailable): location and keys unknown",
                )
    except GoogleAPICallError as exc:
        raise _storage_error(exc, "") from exc
    except RetryError as exc:
        if isinstance(exc.cause, GoogleAPICallError):
            raise _storage_error(exc.cause, " (still failing after retries)") from exc
        raise


def _storage_error(exc: Any, suffix: str) -> GcpApiError:
    """The storage client's error in the same shape as the REST calls' (without the URL it puts in messages)."""
    first = exc.errors[0] if exc.errors and isinstance(exc.errors[0], dict) else {}
    reason = exc.reason or first.get("reason") or type(exc).__name__
    message = re.sub(r"^[A-Z]+ \S+: ", "", str(exc.message or ""))
    return GcpApiError("storage buckets.list", exc.code or 0, reason, one_line(message + suffix, 300))


def _gcs_bucket(gcp: Gcp, project: str, bucket: Any) -> Iterator[Resource]:
    footprint = bucket_footprint(bucket.location, bucket.location_type, bucket.data_locations)
    key = gcp.key_control(bucket.default_kms_key_name, GOOGLE_DEFAULT_KEY)
    yield resource(
        gcp,
        project,
        "gcs",
        "storage.googleapis.com/Bucket",
        f"//storage.googleapis.com/projects/_/buckets/{bucket.name}",
        bucket.name,
        footprint,
        dict(bucket.labels or {}),
        key,
    )


def bucket_footprint(location: str | None, location_type: str | None, data_locations: list[str] | None) -> list[Copy]:
    """The copies of a bucket from `location`, `locationType` and `customPlacementConfig.dataLocations`.

    A configurable dual-region reports its multi-region as `location` ("EU") but keeps data in the two
    `dataLocations` only, so those two are the footprint, not the whole multi-region.
    """
    from ...knowledge import load

    kb = load()
    code = (location or "").strip()
    kind = (location_type or "?").lower()
    places = [d for d in data_locations or [] if d]
    if places:
        note = f"configurable dual-region: data location of {code or '?'} ({kind})"
        return [_place(kb, p, note) for p in places]
    if "+" in code:  # the older spelling of a configurable dual-region: "US-EAST1+US-WEST1"
        return [_place(kb, part, f"configurable dual-region {code}") for part in code.split("+") if part]
    known = kb.resolve(Provider.GCP, code)
    if known is not None and known.members:
        return [Copy(code, CopyRole.PRIMARY, note=f"predefined dual-region: {' + '.join(known.members)}")]
    if known is not None and kind == "dual-region" and str(known.kind) == "multi-region":
        # a dual-region without its data locations: the whole multi-region is the honest upper bound
        return [
            Copy(code, CopyRole.PRIMARY, note="dual-region whose data locations were not reported: whole multi-region")
        ]
    if known is not None:
        return [Copy(code, CopyRole.PRIMARY, note="multi-region" if str(known.kind) == "multi-region" else None)]
    return [_place(kb, code, None)]


def _place(kb: Any, code: str, note: str | None) -> Copy:
    """One region, or a zone mapped to its region (said in the note); unknown codes are kept as reported."""
    code = code.strip()
    if kb.resolve(Provider.GCP, code) is None:
        zone = ZONE.match(code)
        if zone and kb.resolve(Provider.GCP, zone.group(1)) is not None:
            region = zone.group(1).lower()
            prefix = f"{note}; " if note else ""
            return Copy(region, CopyRole.PRIMARY, note=f"{prefix}zonal location {code}, in region {region}")
    return Copy(code, CopyRole.PRIMARY, note=note)


# --- the Terraform plan reader --------------------------------------------------------------------------------

# --- Google Cloud ----------------------------------------------------------------------------------------------


def _plan_gcs_bucket(ctx: Context, item: Item) -> Resource:
    location = item.text("location")
    if location is None:
        footprint = [unknown_copy(CopyRole.PRIMARY, f"location {AFTER_APPLY}")]
    else:
        placement = item.blocks("custom_placement_config")
        places = placement[0].get("data_locations") if placement else None
        data_locations = [str(p).upper() for p in places] if isinstance(places, list) else None
        # GCS stores locations upper-case; the provider accepts any case
        # a bucket with data locations is what the GCS API calls locationType "dual-region"
        footprint = bucket_footprint(location.upper(), "dual-region" if data_locations else None, data_locations)
        if item.is_unknown("custom_placement_config"):
            footprint.append(unknown_copy(CopyRole.PRIMARY, f"configurable dual-region locations {AFTER_APPLY}"))
    return ctx.resource(
        item,
        Provider.GCP,
        ("gcs", "storage.googleapis.com/Bucket", "name"),
        footprint,
        ctx.gcp_key(item, ("encryption", 0, "default_kms_key_name")),
        plan_tags(item, "effective_labels", "labels"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"google_storage_bucket": _plan_gcs_bucket}
