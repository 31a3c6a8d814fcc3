"""What a plan leaves out, said: deferred changes, replaced objects kept, and plans Terraform marks incomplete.

A plan gate passes only on what the plan covers. Terraform says when that is not the whole configuration:
`complete: false` (1.8+: a -target plan, or changes deferred to a later round, listed in `deferred_changes`);
`errored: true` plans are refused outright (file.py). Shapes: hashicorp/terraform internal/command/jsonplan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..catalogue import terraform_provider
from ..model import Provider, Skip

KEPT_REPLACED = (
    "replaced, but the existing object is not destroyed (lifecycle destroy = false): it and its data remain, no "
    "longer managed here; scan the live account to assess it"
)
INCOMPLETE = (
    "Terraform marked this plan incomplete (complete: false): it was made with -target, or it defers changes to a "
    "later plan-and-apply round, so resources it does not plan are not checked here; gate a plan made without "
    "-target, and plan again once deferred changes are applied"
)


def deferred_reason(why: Any) -> str:
    """Why a deferred change is not evaluated, with Terraform's reason (`instance_count_unknown`, …)."""
    said = f" ({why})" if isinstance(why, str) and why else ""
    return (
        f"deferred by Terraform{said}: it is planned in a later plan-and-apply round, so its copies are not checked "
        "here; plan again after apply"
    )


def plan_skips(data: Mapping[str, Any], path: str) -> tuple[Skip, ...]:
    """One skip per cloud the configuration uses when Terraform marks the plan incomplete; none otherwise."""
    if data.get("complete") is not False:
        return ()
    return tuple(Skip(p, f"terraform plan {path}", INCOMPLETE) for p in sorted(_clouds(data), key=str))


def _clouds(data: Mapping[str, Any]) -> set[Provider]:
    """The clouds of every resource type the plan names: configuration (every block, planned or not) and changes."""
    types: list[Any] = [c.get("type") for c in data.get("resource_changes", [])]
    types += [d["resource_change"].get("type") for d in data.get("deferred_changes", [])]
    stack = [data.get("configuration", {}).get("root_module", {})]
    while stack:
        module = stack.pop()
        types += [r.get("type") for r in module.get("resources", [])]
        stack += [call.get("module", {}) for call in module.get("module_calls", {}).values()]
    return {p for p in _providers(types) if p is not None}


def _providers(types: Iterable[Any]) -> Iterable[Provider | None]:
    return (terraform_provider(t) for t in types if isinstance(t, str))
