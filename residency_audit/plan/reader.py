"""Read a Terraform plan (`terraform show -json tfplan`) into resources, before anything is deployed.

Pure: no cloud call, no terraform binary. The plan's `planned_values` say what each resource will look like after
apply, `resource_changes[].change.after_unknown` says which of those values Terraform cannot know yet, and
`configuration` holds the provider blocks (where an AWS region usually lives) and each attribute's references (how a
replication rule names its destination bucket when that bucket's ARN is not known yet).

What is not known at plan time is reported as unknown, never guessed: a copy whose region is "known after apply"
is a copy in the location "unknown", with a note saying why.

Format: https://developer.hashicorp.com/terraform/internals/json-format. file.py reads the file (encodings, formats
0.x and 1.x, field types) and hands this reader one convention.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalogue import load as load_catalogue
from ..catalogue import terraform_provider
from ..coverage import UNKNOWN_TYPE
from ..inventory import TERRAFORM_PLAN, Found, merge
from ..model import Provider, Resource
from ..stores.common import UNKNOWN_LOCATION
from .context import (
    AFTER_APPLY,
    DEFAULT_CLASSIFICATION_TAG,
    FORGOTTEN,
    LINKS,
    NOT_A_DATA_STORE,
    NOT_YET_EVALUATED,
    PLANNED_FOR_DELETION,
    Context,
    Item,
)
from .declared import declared_type
from .file import HINT, PlanError, document
from .gaps import KEPT_REPLACED, deferred_reason
from .stores import PLAN_OR_REASON as _SOMETIMES
from .stores import PLAN_READERS as _STORES

__all__ = [
    "AFTER_APPLY",
    "FORGOTTEN",
    "NOT_ASSESSED_ANYWHERE",
    "NOT_A_DATA_STORE",
    "NOT_YET_EVALUATED",
    "PLANNED_FOR_DELETION",
    "UNKNOWN_LOCATION",
    "NotEvaluated",
    "PlanError",
    "read_plan",
]

NOT_ASSESSED_ANYWHERE = (
    "a data-bearing type residency-audit does not assess yet, in plans or live scans: its copies are not checked"
)
UNKNOWN_TYPE_REASON = (
    "a resource type residency-audit does not know: whether it holds data is unknown (counted as an unknown type)"
)


@dataclass(frozen=True)
class NotEvaluated:
    """A planned resource the reader leaves out, and why (listed in the report, never dropped silently)."""

    address: str
    type: str
    reason: str
    location: str | None = None  # where the plan says it will be, for a data-bearing type (None: not said)
    category: str | None = None  # the catalogue's category of the type; "unknown-type" when it does not know it


def read_plan(
    data: Any, path: str, *, classification_tag: str = DEFAULT_CLASSIFICATION_TAG
) -> tuple[list[Resource], list[NotEvaluated]]:
    """The data stores a parsed `terraform show -json` plan leaves once applied, and what is not evaluated.

    `data` is the parsed JSON, `path` the file it came from (for messages). Each resource's id is its Terraform
    address and its account is "" (not known before apply). Raises PlanError for anything that is not a plan in
    format 0.x or 1.x, naming the field at fault.
    """
    plan = _parse(document(data, path), path)
    ctx = Context(plan, classification_tag)
    resources: list[Resource] = []
    skipped: list[NotEvaluated] = []
    for item, why in plan.unplanned:  # deferred, or replaced and kept: where the plan puts them, never dropped
        skipped.append(dataclasses.replace(_not_evaluated(ctx, item), reason=why))
    for item in plan.items:
        store = _STORES.get(item.type)
        if store is not None:
            resources.append(store(ctx, item))
        elif item.type in _SOMETIMES:
            out = _SOMETIMES[item.type](ctx, item)
            if isinstance(out, Resource):
                resources.append(out)
            else:  # an instance that is no data store of its own (e.g. an Organizations policy of another type)
                skipped.append(NotEvaluated(item.address, item.type, out))
        elif item.type in LINKS:
            reason = ctx.unlinked_reason(item)
            if reason is not None:  # a companion of a store in this plan was evaluated with that store
                skipped.append(NotEvaluated(item.address, item.type, reason))
        else:
            skipped.append(_not_evaluated(ctx, item))
    return resources, skipped + plan.removed


def plan_found(path: str, resources: Iterable[Resource], not_evaluated: Iterable[NotEvaluated]) -> tuple[Found, ...]:
    """What the plan leaves in the estate, as inventory records for coverage: evaluated or not, counted.

    Resources planned for deletion leave and are not counted; types of providers other than the three clouds
    (random_, null_, tls_ …) hold no cloud data and are not counted either.
    """
    found = [Found(r.provider, TERRAFORM_PLAN, path, r.type, 1, ()) for r in resources]
    for n in not_evaluated:
        entry = load_catalogue().find(n.type)
        provider = entry.provider if entry is not None else terraform_provider(n.type)
        if provider is None and n.type.startswith("Microsoft."):  # an AzAPI resource of a type not catalogued
            provider = Provider.AZURE
        if n.type in _SOMETIMES and n.reason not in (PLANNED_FOR_DELETION, FORGOTTEN, KEPT_REPLACED):
            continue  # its type is data-bearing, this instance holds no data of its own: not a store left unassessed
        if provider is not None and n.reason != PLANNED_FOR_DELETION:
            places = (n.location,) if n.location else ()
            found.append(Found(provider, TERRAFORM_PLAN, path, n.type, 1, places, n.reason))
    return merge(found)


def _not_evaluated(ctx: Context, item: Item) -> NotEvaluated:
    """Why a planned item is not evaluated, from the catalogue; for a data-bearing type, where it will be."""
    rtype = declared_type(item)
    entry = load_catalogue().find(rtype)
    if entry is None:
        return NotEvaluated(item.address, rtype, UNKNOWN_TYPE_REASON, None, UNKNOWN_TYPE)
    if not entry.data_bearing:
        return NotEvaluated(item.address, rtype, NOT_A_DATA_STORE, None, entry.category.value)
    reason = NOT_YET_EVALUATED if entry.assessed else NOT_ASSESSED_ANYWHERE
    return NotEvaluated(item.address, rtype, reason, _where(ctx, item), entry.category.value)


def _where(ctx: Context, item: Item) -> str | None:
    """The location a plan gives a resource it does not evaluate: never dropped silently, never guessed."""
    for attribute in ("location", "region", "availability_zone"):
        value = item.text(attribute)
        if value:
            return value
    if item.type.startswith(("aws_", "awscc_")):
        region, _ = ctx.aws_region(item)
        return None if region == UNKNOWN_LOCATION else region
    return None


# --- the plan's shape ----------------------------------------------------------------------------------------


@dataclass
class Plan:
    path: str
    items: list[Item]
    removed: list[NotEvaluated]
    unplanned: list[tuple[Item, str]]  # not evaluated, with why: deferred changes, replaced objects kept
    variables: Mapping[str, Any]
    providers: Mapping[str, Any]


def _error(path: str, where: str, problem: str) -> PlanError:
    return PlanError(f"{path}: {where}: {problem}; {HINT}")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _expect(value: Any, kind: type, path: str, where: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise _error(path, where, f"expected {_json_kind(kind())}, got {_json_kind(value)}")
    return value


def _parse(data: Any, path: str) -> Plan:
    if not isinstance(data, dict):
        raise _error(path, "top level", f"expected a JSON object (a Terraform plan), got {_json_kind(data)}")
    current, removed, listed = _changes(data, path)
    index, providers = _configuration(data, path)
    variables = _expect(data.get("variables", {}), dict, path, "variables")
    items = list(_planned(data, path, current, index)) if "planned_values" in data else []
    # A change with no planned_values counterpart (Terraform 0.12.0 wrote such plans) is read from its `after`,
    # never dropped: the whole plan without planned_values is the same case.
    seen = {item.address for item in items}
    items += _from_changes([(e, w) for e, w in listed if e["address"] not in seen], path, index)
    # A resource of the prior state that no change mentions stays as it is (a -target or -refresh-only plan
    # leaves it out of planned_values): it is in the estate after apply, so it is assessed.
    state = data.get("prior_state", {}).get("values", {}).get("root_module")
    if state is not None:
        kept = _walk(state, "", "prior_state.values.root_module", path, {}, index)
        items += [i for i in kept if i.address not in current and i.address not in seen]
    unplanned = []
    for i, deferred in enumerate(data.get("deferred_changes", [])):  # Terraform 1.9+: in no resource_changes entry
        entry = deferred["resource_change"]
        after = entry["change"].get("after")
        item = _item(entry, entry["address"], entry["type"], _module(entry), after, {}, index, path, f"deferred[{i}]")
        unplanned.append((item, deferred_reason(deferred.get("reason"))))
    for entry, where in listed:  # ["create", "forget"]: the object replaced is forgotten, not destroyed
        if {"create", "forget"} <= set(_actions(entry["change"], path, f"{where}.change")):
            address, before = f"{entry['address']} (the object it replaces)", entry["change"].get("before")
            item = _item(entry, address, entry["type"], _module(entry), before, {}, index, path, where)
            unplanned.append((item, KEPT_REPLACED))
    return Plan(path, items, removed, unplanned, variables, providers)


def _module(entry: Mapping[str, Any]) -> str:
    module = entry.get("module_address", "")
    return module if isinstance(module, str) else ""


def _actions(change: Mapping[str, Any], path: str, where: str) -> list[str]:
    actions = _expect(change.get("actions", []), list, path, f"{where}.actions")
    return [str(a) for a in actions]


def _changes(
    data: Mapping[str, Any], path: str
) -> tuple[dict[str, Mapping[str, Any]], list[NotEvaluated], list[tuple[Mapping[str, Any], str]]]:
    """Each current object's change by address, what leaves the estate, and every managed change with its path."""
    entries = _expect(data.get("resource_changes", []), list, path, "resource_changes")
    current: dict[str, Mapping[str, Any]] = {}
    removed: list[NotEvaluated] = []
    listed: list[tuple[Mapping[str, Any], str]] = []
    for i, entry in enumerate(entries):
        where = f"resource_changes[{i}]"
        entry = _expect(entry, dict, path, where)
        address = _expect(entry.get("address"), str, path, f"{where}.address")
        change = _expect(entry.get("change"), dict, path, f"{where}.change")
        actions = _actions(change, path, f"{where}.change")
        if entry.get("mode", "managed") != "managed" or "deposed" in entry:
            continue  # data sources hold nothing; a deposed object is the old half of a replacement
        current[address] = change
        listed.append((entry, where))
        rtype = str(entry.get("type", ""))
        if actions == ["delete"]:
            removed.append(NotEvaluated(address, rtype, PLANNED_FOR_DELETION))
        elif actions == ["forget"]:
            removed.append(NotEvaluated(address, rtype, FORGOTTEN))
    return current, removed, listed


_ConfigIndex = dict[tuple[str, str, str], Mapping[str, Any]]


def _configuration(data: Mapping[str, Any], path: str) -> tuple[_ConfigIndex | None, Mapping[str, Any]]:
    """Managed resource blocks by (module path, type, name), and the provider configurations by key."""
    if "configuration" not in data:
        return None, {}
    config = _expect(data["configuration"], dict, path, "configuration")
    providers = _expect(config.get("provider_config", {}), dict, path, "configuration.provider_config")
    index: _ConfigIndex = {}
    root = _expect(config.get("root_module", {}), dict, path, "configuration.root_module")
    _index_module(root, "", "configuration.root_module", path, index)
    return index, providers


def _index_module(module: Mapping[str, Any], prefix: str, where: str, path: str, index: _ConfigIndex) -> None:
    for i, block in enumerate(_expect(module.get("resources", []), list, path, f"{where}.resources")):
        block = _expect(block, dict, path, f"{where}.resources[{i}]")
        if block.get("mode", "managed") == "managed":
            index[(prefix, str(block.get("type")), str(block.get("name")))] = block
    calls = _expect(module.get("module_calls", {}), dict, path, f"{where}.module_calls")
    for name, call in calls.items():
        call = _expect(call, dict, path, f"{where}.module_calls.{name}")
        child = _expect(call.get("module", {}), dict, path, f"{where}.module_calls.{name}.module")
        child_prefix = f"{prefix}.module.{name}" if prefix else f"module.{name}"
        _index_module(child, child_prefix, f"{where}.module_calls.{name}.module", path, index)


def _config_module(instance: str) -> str:
    """A module instance address without its instance keys: 'module.a["x"].module.b[0]' → 'module.a.module.b'."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in instance:
        if depth:
            if quoted:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    quoted = False
            elif ch == '"':
                quoted = True
            elif ch == "]":
                depth = 0
            continue
        if ch == "[":
            depth = 1
            continue
        out.append(ch)
    return "".join(out)


def _planned(
    data: Mapping[str, Any], path: str, current: Mapping[str, Mapping[str, Any]], index: _ConfigIndex | None
) -> Iterable[Item]:
    values = _expect(data["planned_values"], dict, path, "planned_values")
    root = _expect(values.get("root_module", {}), dict, path, "planned_values.root_module")
    yield from _walk(root, "", "planned_values.root_module", path, current, index)


def _walk(
    module: Mapping[str, Any],
    address: str,
    where: str,
    path: str,
    current: Mapping[str, Mapping[str, Any]],
    index: _ConfigIndex | None,
) -> Iterable[Item]:
    for i, res in enumerate(_expect(module.get("resources", []), list, path, f"{where}.resources")):
        at = f"{where}.resources[{i}]"
        res = _expect(res, dict, path, at)
        if res.get("mode", "managed") != "managed" or "deposed_key" in res:
            continue  # data sources hold nothing; a deposed object (in a prior state) is being destroyed
        item_address = _expect(res.get("address"), str, path, f"{at}.address")
        rtype = _expect(res.get("type"), str, path, f"{at}.type")
        change = current.get(item_address, {})
        if change and _actions(change, path, item_address) in (["delete"], ["forget"]):
            continue  # leaves the estate: listed from resource_changes
        yield _item(res, item_address, rtype, address, res.get("values"), change, index, path, at)
    for j, child in enumerate(_expect(module.get("child_modules", []), list, path, f"{where}.child_modules")):
        at = f"{where}.child_modules[{j}]"
        child = _expect(child, dict, path, at)
        child_address = _expect(child.get("address"), str, path, f"{at}.address")
        yield from _walk(child, child_address, at, path, current, index)


def _from_changes(listed: list[tuple[Mapping[str, Any], str]], path: str, index: _ConfigIndex | None) -> Iterable[Item]:
    """Items from resource_changes alone (a plan without planned_values): each change's `after`."""
    for entry, where in listed:
        change = entry["change"]
        if _actions(change, path, f"{where}.change") in (["delete"], ["forget"], ["read"]):
            continue
        rtype = _expect(entry.get("type"), str, path, f"{where}.type")
        yield _item(entry, entry["address"], rtype, _module(entry), change.get("after"), change, index, path, where)


def _item(
    res: Mapping[str, Any],
    address: str,
    rtype: str,
    module: str,
    values: Any,
    change: Mapping[str, Any],
    index: _ConfigIndex | None,
    path: str,
    where: str,
) -> Item:
    values = _expect(values if values is not None else {}, dict, path, f"{where}.values")
    name = res.get("name")
    name = name if isinstance(name, str) else address.rsplit(".", 1)[-1]
    config = None if index is None else index.get((_config_module(module), rtype, name))
    return Item(address, rtype, name, module, values, change.get("after_unknown") or {}, config)
