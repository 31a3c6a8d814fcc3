"""Inventory: where resources are found, before any store reads them.

An inventory engine (Azure Resource Graph, Google Cloud Asset Inventory, AWS Resource Explorer or Config, the
per-scope walk, a Terraform plan) reports what it saw as `Found` records, yielded by its tasks like resources and
skips. The pipeline sums them into `ScanResult.found`; `coverage.compute` sets them against the catalogue and the
resources the stores assessed. So an engine never has to know which types are assessed: it says "I saw N resources
of type T in scope S", and coverage says which of them were assessed, accepted, or missing.

The contract for an engine:

* one `Found` per (scope, type) it listed, with `count` the number of resources (or one per resource; they are
  summed), `type` in the engine's own spelling (ARM type, CAI asset type, CloudFormation/Config type, Resource
  Explorer type, Terraform type: the catalogue knows them all), and `engine` its name;
* the types it can see but does not hand to a store still count: that is the point;
* where it knows the resources' locations, `locations` (deduplicated codes as the API spells them), so a report can
  say where the unassessed data sits;
* where it knows why it does not hand a type to a store, `reason` (the coverage section shows it);
* a scope it could not read is a `Skip`, as today, never an empty `Found`;
* a scope it answered for, even with nothing in it, may be a `Found` with `type=""` and `count=0`, so the coverage
  section can say which engine answered for which scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Provider

# Engine names reports use.
RESOURCE_GRAPH = "resource-graph"
RESOURCE_MANAGER = "resource-manager"
WALK = "walk"
TERRAFORM_PLAN = "terraform-plan"


@dataclass(frozen=True)
class Found:
    """An inventory engine saw `count` resources of `type` in `scope`."""

    provider: Provider
    engine: str
    scope: str
    type: str
    count: int = 1
    locations: tuple[str, ...] = ()
    reason: str | None = None  # why these are not handed to a store, where the engine knows (a plan reader does)


def merge(found: Iterable[Found]) -> tuple[Found, ...]:
    """One record per (provider, engine, scope, type): counts summed, locations united; sorted."""
    totals: dict[tuple[str, str, str, str], tuple[int, dict[str, None], str | None]] = {}
    for f in found:
        key = (f.provider.value, f.engine, f.scope, f.type)
        count, places, reason = totals.get(key, (0, {}, None))
        places.update(dict.fromkeys(f.locations))
        totals[key] = (count + f.count, places, reason or f.reason)
    return tuple(
        Found(Provider(p), engine, scope, rtype, count, tuple(sorted(places)), reason)
        for (p, engine, scope, rtype), (count, places, reason) in sorted(totals.items())
    )
