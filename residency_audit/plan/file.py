"""The plan-file front end: the bytes of a `terraform show -json` file → the document the plan reader walks.

Each step refuses bad input with one line naming the file and the field or position, and the fix:
bytes (a binary `tfplan`, an empty file) → text (UTF-8, UTF-8 with a BOM, UTF-16/32 with or without a BOM, as
Windows PowerShell's `>` writes) → JSON (nesting depth bounded, lone surrogates refused) → a plan (format_version,
the kind of file, the types of every field the reader consumes) → one convention (module provider keys).

Formats (https://developer.hashicorp.com/terraform/internals/json-format): `0.1` (Terraform 0.12.0–1.0.0), `0.2`
(1.0.1–1.0.x: adds `sensitive_values`), `1.0` (1.1) and `1.x` (1.2 on: `relevant_attributes`, `checks`, …; fields the
reader does not need may be absent). A newer *major* version is not backward-compatible and is refused.
"""

from __future__ import annotations

import codecs
import copy
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HINT = "run `terraform plan -out=tfplan && terraform show -json tfplan > plan.json` and pass that file"
MAX_DEPTH = 200  # a real plan nests ~40 deep; the reader and Python's repr recurse, so bound it well below 1000
READ_MAJORS = (0, 1)
# Set on a configuration resource block whose provider configuration the plan cannot say (see _normalise):
# why its AWS region is unknown.
UNRESOLVED_PROVIDER = "residency_audit_unresolved_provider"

_ZIP = b"PK\x03\x04"
_BOMS = (  # longest first: a UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: twice as fast as an alternation
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")  # one pass removes one level: the scan does not revisit what it joined


class PlanError(ValueError):
    """The input is not a Terraform JSON plan this version reads: names the file, the field and the fix."""


def load(path: Path) -> dict[str, Any]:
    """The plan in the file at `path` (`-`: standard input), checked and in one convention; else PlanError."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return document(parse(raw, str(path)), str(path))


def parse(raw: bytes, name: str) -> Any:
    """The JSON value in `raw` (any encoding `terraform show -json > file` leaves on any system)."""
    if raw.startswith(_ZIP):
        raise PlanError(
            f"{name}: this is a binary plan file (what `terraform plan -out` writes), not its JSON form; run "
            f"`terraform show -json {Path(name).name} > plan.json` and pass plan.json"
        )
    text = _decode(raw, name)
    if not text.strip():
        raise PlanError(f"{name}: the file is empty; {HINT}")
    value = _loads(text, name)
    _check_depth(text, value, name)
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value, name)
    return value


def _decode(raw: bytes, name: str) -> str:
    encoding, label, start = _encoding(raw)
    try:
        return raw[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        at = start + exc.start
        if exc.reason in ("truncated data", "unexpected end of data"):
            raise PlanError(
                f"{name}: {label} text that ends inside a character at byte {at} (truncated?); {HINT}"
            ) from exc
        line = raw[:at].count(b"\n") + 1 if label == "UTF-8" else None
        where = f"line {line}, byte {at}" if line else f"byte {at}"
        raise PlanError(
            f"{name}: not {label} text: invalid bytes at {where} ({raw[at : at + 4].hex(' ')}); save the plan as "
            f"UTF-8 or {HINT}"
        ) from exc


def _encoding(raw: bytes) -> tuple[str, str, int]:
    """The codec, its name for messages, and where the text starts: the BOM, else the NULs of RFC 4627 §3."""
    for bom, codec, label in _BOMS:
        if raw.startswith(bom):
            return codec, label, len(bom)
    head = raw[:4]
    if len(head) == 4:
        pattern = tuple(b == 0 for b in head)
        guesses = {
            (True, True, True, False): ("utf-32-be", "UTF-32 BE"),
            (False, True, True, True): ("utf-32-le", "UTF-32 LE"),
            (True, False, True, False): ("utf-16-be", "UTF-16 BE"),
            (False, True, False, True): ("utf-16-le", "UTF-16 LE"),
        }
        if pattern in guesses:
            codec, label = guesses[pattern]
            return codec, label, 0
    return "utf-8", "UTF-8", 0


def _loads(text: str, name: str) -> Any:
    def refuse_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name}: not valid JSON: {_explain(exc, text)}; {HINT}") from exc
    except RecursionError as exc:
        raise _too_deep(name, _deep_position(text)) from exc
    except ValueError as exc:  # NaN/Infinity, or an integer longer than Python converts
        problem = "a number with more digits than any plan holds" if "integer string" in str(exc) else str(exc)
        raise PlanError(f"{name}: not valid JSON: {problem}; {HINT}") from exc


_MESSAGES = {
    "Expecting value": "expected a value",
    "Expecting property name enclosed in double quotes": "expected a property name in double quotes",
    "Expecting ':' delimiter": "expected ':' after a property name",
    "Expecting ',' delimiter": "expected ',' or a closing bracket",
    "Invalid control character at": "a control character inside a string (it must be escaped)",
    "Invalid \\escape": "an invalid escape sequence",
    "Invalid \\uXXXX escape": "an invalid \\u escape",
    "Extra data": "more data after the end of the JSON document",
}


def _explain(exc: json.JSONDecodeError, text: str) -> str:
    what = _MESSAGES.get(exc.msg, exc.msg.removesuffix(" at"))
    if exc.msg.startswith("Unterminated string"):  # no closing quote up to the end of the file
        return f"it ends inside a string that starts at line {exc.lineno} column {exc.colno} (truncated?)"
    if exc.pos >= len(text.rstrip()) and exc.msg != "Extra data":
        return f"it ends at line {exc.lineno} column {exc.colno} before the document is complete (truncated?)"
    return f"{what} at line {exc.lineno} column {exc.colno}"


# --- nesting depth and lone surrogates -------------------------------------------------------------------------


def _check_depth(text: str, value: Any, name: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, naming where; fast for the shallow plans Terraform writes."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        if not brackets:
            return
        shorter = _PAIR.sub("", brackets)
        if shorter == brackets:
            return  # unbalanced cannot happen after a successful parse; never loop on it
        brackets = shorter
    if brackets:
        raise _too_deep(name, _deep_path(value))


def _too_deep(name: str, where: str) -> PlanError:
    return PlanError(f"{name}: {where}: nested more than {MAX_DEPTH} levels deep, which no Terraform plan is; {HINT}")


def _walk(value: Any) -> Iterator[tuple[Any, tuple[str | int, ...]]]:
    """Every value with its path, depth first, without recursion."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, at = stack.pop()
        yield node, at
        if isinstance(node, dict):
            stack.extend((v, (*at, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*at, i)) for i, v in reversed(list(enumerate(node))))


def _deep_path(value: Any) -> str:
    for node, at in _walk(value):
        if len(at) >= MAX_DEPTH and isinstance(node, dict | list):  # a container at level MAX_DEPTH + 1
            return where(at[:8]) + ".…"
    return "top level"


def _deep_position(text: str) -> str:
    depth = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text, re.DOTALL):
        token = match.group()
        depth += 1 if token in "[{" else -1 if token in "]}" else 0
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            return f"line {line} column {match.start() - text.rfind(chr(10), 0, match.start())}"
    return "top level"


def _check_surrogates(value: Any, name: str) -> None:
    for node, at in _walk(value):
        texts = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise PlanError(
                    f"{name}: {where(at)}: a lone UTF-16 surrogate ({text[exc.start]!r}), which is not text; {HINT}"
                ) from exc


def where(at: tuple[str | int, ...]) -> str:
    """A JSON path as the messages write it: planned_values.root_module.resources[0].address."""
    out = ""
    for step in at:
        out += f"[{step}]" if isinstance(step, int) else f".{step}" if out else str(step)
    return out or "top level"


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
_PLAN = _Obj(
    {
        "format_version": _STR,
        "variables": _Obj(each=_Obj()),
        "planned_values": _Obj({"root_module": "planned module"}),
        "resource_changes": _Arr(
            _Obj(
                {
                    "address": _STR,
                    "type": _STR,
                    "name": _STR,
                    "mode": _STR,
                    "module_address": _STR,
                    "change": _Obj({"actions": _Arr(_STR), "after": _Null(_Obj())}, frozenset({"actions"})),
                },
                frozenset({"address", "type", "change"}),
            )
        ),
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
