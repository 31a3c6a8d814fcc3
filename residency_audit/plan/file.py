"""The plan-file front end: a `terraform show -json` file → the document the plan reader walks.

text.py turns the bytes into a JSON value; here that value becomes a plan: the kind of file and its format_version
checked, the type of every field the reader consumes checked, and module provider keys in one convention.

Formats (https://developer.hashicorp.com/terraform/internals/json-format): `0.1` (Terraform 0.12.0–1.0.0), `0.2`
(1.0.1–1.0.x: adds `sensitive_values`), `1.0` (1.1) and `1.x` (1.2 on: `relevant_attributes`, `checks`, …; fields the
reader does not need may be absent). A newer *major* version is not backward-compatible and is refused.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .text import HINT, MAX_DEPTH, PlanError, parse, where

__all__ = ["HINT", "MAX_DEPTH", "UNRESOLVED_PROVIDER", "PlanError", "document", "load", "parse", "where"]

READ_MAJORS = (0, 1)
# Set on a configuration resource block whose provider configuration the plan cannot say (see _normalise):
# why its AWS region is unknown.
UNRESOLVED_PROVIDER = "residency_audit_unresolved_provider"


def load(path: Path) -> dict[str, Any]:
    """The plan in the file at `path` (`-`: standard input), checked and in one convention; else PlanError."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return document(parse(raw, str(path)), str(path))


# --- the plan's shape --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Obj:
    """An object: the fields the reader reads (others are ignored, as the format's minor versions ask)."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    each: Any = None  # the spec of every member (a map keyed by name)


@dataclass(frozen=True)
class _Arr:
    item: Any


@dataclass(frozen=True)
class _Null:
    """The spec, or null."""

    spec: Any


_STR = str
_REFERENCES = _Obj({"references": _Arr(_STR)})
_PLANNED = _Obj(
    {"address": _STR, "type": _STR, "name": _STR, "mode": _STR, "values": _Null(_Obj())}, frozenset({"address", "type"})
)
_CONFIG_RESOURCE = _Obj(
    {
        "address": _STR,
        "type": _STR,
        "name": _STR,
        "mode": _STR,
        "provider_config_key": _STR,
        "provider_config_keys": _Arr(_STR),
        "expressions": _Obj(),
    }
)
_SPECS: dict[str, Any] = {
    "planned module": _Obj({"address": _STR, "resources": _Arr(_PLANNED), "child_modules": _Arr("planned child")}),
    "planned child": _Obj(
        {"address": _STR, "resources": _Arr(_PLANNED), "child_modules": _Arr("planned child")}, frozenset({"address"})
    ),
    "config module": _Obj(
        {"resources": _Arr(_CONFIG_RESOURCE), "module_calls": _Obj(each=_Obj({"module": "config module"}))}
    ),
}
_CHANGE = _Obj(
    {
        "address": _STR,
        "type": _STR,
        "name": _STR,
        "mode": _STR,
        "module_address": _STR,
        "change": _Obj(
            {"actions": _Arr(_STR), "before": _Null(_Obj()), "after": _Null(_Obj())}, frozenset({"actions"})
        ),
    },
    frozenset({"address", "type", "change"}),
)
_PLAN = _Obj(
    {
        "format_version": _STR,
        "variables": _Obj(each=_Obj()),
        "planned_values": _Obj({"root_module": "planned module"}),
        "resource_changes": _Arr(_CHANGE),
        # Terraform 1.9+: changes deferred to a later plan-and-apply round (in no resource_changes entry)
        "deferred_changes": _Arr(_Obj({"reason": _STR, "resource_change": _CHANGE}, frozenset({"resource_change"}))),
        # what the estate holds before the plan: a resource in no change (a -target or -refresh-only plan) stays
        "prior_state": _Obj({"values": _Obj({"root_module": "planned module"})}),
        "configuration": _Obj(
            {
                "provider_config": _Obj(
                    each=_Obj(
                        {
                            "name": _STR,
                            "alias": _STR,
                            "module_address": _STR,
                            "expressions": _Obj({"region": _REFERENCES}),
                        }
                    )
                ),
                "root_module": "config module",
            }
        ),
    }
)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _spec_kind(spec: Any) -> str:
    if isinstance(spec, _Null):
        return f"{_spec_kind(spec.spec)} or null"
    return "an object" if isinstance(spec, _Obj | str) else "an array" if isinstance(spec, _Arr) else "a string"


def _validate(data: Any, name: str) -> None:
    """Check every field the reader consumes has the type Terraform writes; the first that does not is named."""
    stack: list[tuple[Any, Any, tuple[str | int, ...]]] = [(data, _PLAN, ())]
    while stack:
        value, spec, at = stack.pop()
        spec = _SPECS[spec] if isinstance(spec, str) else spec
        if isinstance(spec, _Null):
            if value is None:
                continue
            spec = spec.spec
        ok = (
            isinstance(value, dict)
            if isinstance(spec, _Obj)
            else isinstance(value, list)
            if isinstance(spec, _Arr)
            else isinstance(value, str)
        )
        if not ok:
            raise PlanError(f"{name}: {where(at)}: expected {_spec_kind(spec)}, got {_kind(value)}; {HINT}")
        if isinstance(spec, _Obj):
            missing = sorted(spec.required - value.keys())
            if missing:
                raise PlanError(f"{name}: {where((*at, missing[0]))}: missing; {HINT}")
            stack.extend((value[k], s, (*at, k)) for k, s in spec.fields.items() if k in value)
            if spec.each is not None:
                stack.extend((v, spec.each, (*at, k)) for k, v in value.items())
        elif isinstance(spec, _Arr):
            stack.extend((v, spec.item, (*at, i)) for i, v in enumerate(value))


# --- the kind of file and its format version ---------------------------------------------------------------------


def document(data: Any, name: str) -> dict[str, Any]:
    """A parsed plan checked for the reader (kind, format version, field types), in the 1.1+ provider-key convention.

    Raises PlanError naming the file and the field. `data` is not changed: a plan that needs normalising is copied.
    """
    if not isinstance(data, dict):
        raise PlanError(f"{name}: top level: expected a JSON object (a Terraform plan), got {_kind(data)}; {HINT}")
    plan: dict[str, Any] = data
    version = _format_version(plan, name)
    _validate(plan, name)
    _not_errored(plan, name)
    return _normalise(plan, plan["format_version"]) if version < (1, 1) else plan


def _format_version(data: Mapping[str, Any], name: str) -> tuple[int, int]:
    """Refuse, with the reason, a state file, a residency-audit report, a JSON state or a newer major format."""
    if "format_version" not in data:
        if "lineage" in data or "serial" in data:
            raise PlanError(f"{name}: top level: this is a Terraform state file (it has 'lineage'/'serial'), not a "
                            f"plan; {HINT}")  # fmt: skip
        if "schema_version" in data and "tool" in data:
            raise PlanError(f"{name}: top level: this is a residency-audit report, not a Terraform plan; {HINT}")
        raise PlanError(f"{name}: format_version: missing, so this is not the JSON form of a Terraform plan; {HINT}")
    version = data["format_version"]
    if not isinstance(version, str):
        raise PlanError(f'{name}: format_version: expected a string such as "1.2", got {_kind(version)}; {HINT}')
    match = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", version)
    if match is None:
        raise PlanError(f'{name}: format_version: {version!r} is not a version such as "1.2"; {HINT}')
    major, minor = int(match[1]), int(match[2])
    if major not in READ_MAJORS:
        raise PlanError(
            f"{name}: format_version: {version!r} is a newer major version of Terraform's JSON plan format than this "
            "residency-audit reads (0.x, written by Terraform 0.12 to 1.0, and 1.x, by Terraform 1.1 and later); a "
            "new major version is not backward-compatible, so the plan is refused rather than misread: use a "
            f"residency-audit release that reads format {major}.x"
        )
    if "planned_values" not in data and "resource_changes" not in data:
        if "values" in data:
            raise PlanError(f"{name}: top level: this is the JSON form of a state (it has 'values'), not of a plan; "
                            f"{HINT}")  # fmt: skip
        raise PlanError(f"{name}: top level: neither 'planned_values' nor 'resource_changes': not a Terraform plan; "
                        f"{HINT}")  # fmt: skip
    return major, minor


def _not_errored(data: Mapping[str, Any], name: str) -> None:
    """Refuse a plan Terraform stopped making at an error: it holds only what was planned before the error.

    `errored` (Terraform 1.5+) and `complete` (1.8+) are booleans Terraform always writes; `complete: false` (a
    -target plan, or deferred changes) is read, and the result made incomplete (gaps.py).
    """
    for key in ("errored", "complete"):
        if key in data and not isinstance(data[key], bool):
            raise PlanError(f"{name}: {key}: expected a boolean, got {_kind(data[key])}; {HINT}")
    if data.get("errored") is True:
        raise PlanError(
            f"{name}: errored: true: Terraform stopped planning at an error, so this plan holds only the changes "
            "planned before it and cannot be applied; fix the error, run `terraform plan` again and check that plan"
        )


# --- one convention for module provider keys ---------------------------------------------------------------------


def _normalise(data: dict[str, Any], version: str) -> dict[str, Any]:
    """Give module resources the provider key Terraform 1.2+ writes (format 1.1: the configuration actually used).

    Before, a resource in a module named its provider `<call name>:<provider>` ("storage:aws", even in
    module.a.module.storage), a key that is in no plan's `provider_config`, whose keys for a module's own provider
    blocks are "module.storage:aws" (Terraform 0.13–1.1) or "storage:aws" (0.12, module_address "storage"); and
    which configuration a caller passes a module (`providers = {...}`) is in no old plan at all. So a module resource
    gets its module's own configuration, else the only configuration of that provider its module could receive (one
    declared in an ancestor, counting the root's implicit default when it has no block), else none, with the reason:
    an unknown region, never a guessed one.
    """
    if not isinstance(data.get("configuration"), dict):
        return data
    data = {**data, "configuration": copy.deepcopy(data["configuration"])}
    config = data["configuration"]
    declared: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for key, entry in (config.get("provider_config") or {}).items():
        declared.setdefault(_module_path(entry.get("module_address") or ""), []).append((key, entry))
    modules: list[tuple[Mapping[str, Any], tuple[str, ...]]] = []
    stack: list[tuple[Mapping[str, Any], tuple[str, ...]]] = [(config.get("root_module") or {}, ())]
    while stack:
        module, names = stack.pop()
        modules.append((module, names))
        stack.extend(
            (spec.get("module") or {}, (*names, call)) for call, spec in (module.get("module_calls") or {}).items()
        )
    # A module address this reader cannot place (a spelling not known here) may hide a module's own provider block:
    # then nothing is inferred from ancestors.
    infer = set(declared) <= {".".join(f"module.{n}" for n in names) for _, names in modules}
    for module, names in modules:
        for block in module.get("resources") or [] if names else []:
            key = block.get("provider_config_key")
            if isinstance(key, str) and ":" in key:
                _resolve(block, key.split(":", 1)[1], names, declared, version, infer=infer)
    return data


def _module_path(address: str) -> str:
    """'module.a.module.b' whichever way the plan spells it (Terraform 0.12 wrote 'a.b')."""
    if not address or address.startswith("module."):
        return address
    return ".".join(f"module.{n}" for n in address.split("."))


def _resolve(
    block: dict[str, Any],
    local: str,
    names: tuple[str, ...],
    declared: Mapping[str, list[tuple[str, Mapping[str, Any]]]],
    version: str,
    *,
    infer: bool,
) -> None:
    provider, _, alias = local.partition(".")
    here = ".".join(f"module.{n}" for n in names)
    own = [k for k, e in declared.get(here, []) if e.get("name") == provider and (e.get("alias") or "") == alias]
    if len(own) == 1:
        block["provider_config_key"] = own[0]
        return
    ancestors = ["", *(".".join(f"module.{n}" for n in names[:i]) for i in range(1, len(names)))]
    received = [k for a in ancestors for k, e in declared.get(a, []) if e.get("name") == provider]
    # Without a `provider "aws"` block the root still has a default configuration (from the environment), unlisted.
    implicit = not any(e.get("name") == provider and not e.get("alias") for _, e in declared.get("", []))
    if infer and not own and len(received) == 1 and not implicit:
        block["provider_config_key"] = received[0]
        return
    block["provider_config_key"] = f"{here}:{local}"
    count = len(received) + implicit
    could = f"{count} could be it; " if count > 1 else ""
    block[UNRESOLVED_PROVIDER] = (
        f"{here} receives its {local} provider configuration from its caller, which plans in format_version "
        f"{version} (Terraform before 1.2) do not record ({could}a plan from Terraform 1.2 or later says which)"
    )
