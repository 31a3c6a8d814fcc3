"""Policy profiles: a jurisdiction policy written once for all three clouds, in TOML.

`load_profile` refuses a profile with a syntax error, an unknown key, a wrong type, a bad date, an unknown country,
bloc, level, key control or rule, naming the file, the field and the fix. profiles/example.toml documents every field.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .knowledge import KnowledgeBase
from .model import KeyControl, Level, ReachBasis, Reading, Waiver
from .profile_fields import ProfileError, _show, _Table
from .profile_reading import KEY_READINGS, _grid, _reasons, _scoped, _tolerated
from .rules import RULES, Severity

__all__ = ["ClassificationRule", "Override", "Profile", "ProfileError", "bundled", "find", "load_profile", "parse"]

UNKNOWN_POLICIES = ("violation", "warning", "ignore")
OVERRIDE_FIELDS = {
    "location": ("countries", "city", "paired_region", "operator"),
    "operator": ("controlled_from", "parent_controlled_from", "offers_services_in", "presence_in"),
}


@dataclass(frozen=True)
class ClassificationRule:
    """Stricter rules for resources whose data-classification tag has one of `values`."""

    values: tuple[str, ...]
    allowed: frozenset[str] | None
    replicas_allowed: frozenset[str] | None
    max_level: Level | None
    key_control: tuple[KeyControl, ...] | None


@dataclass(frozen=True)
class Override:
    """A knowledge-base fact replaced by the profile (counsel may read an operator differently)."""

    target: str  # "provider:code" for a location, or an operator id
    kind: str  # "location" | "operator"
    field: str
    value: Any
    reason: str


@dataclass(frozen=True)
class Profile:
    """A parsed, validated policy profile."""

    name: str
    description: str
    source: str  # "bundled:NAME" or the file path
    home: tuple[str, ...]
    trusted: tuple[str, ...]
    allowed: frozenset[str] | None  # None: primary copies anywhere
    replicas_allowed: frozenset[str] | None
    copies_severity: Severity
    reach_bases: tuple[ReachBasis, ...]
    reach_tolerated: frozenset[str]
    reach_key_control: tuple[KeyControl, ...]  # key controls that make foreign reach tolerable
    reach_severity: Severity
    max_level: Level | None
    exposure_severity: Severity
    unknown: str  # violation | warning | ignore
    classifications: tuple[ClassificationRule, ...] = ()
    overrides: tuple[Override, ...] = ()
    waivers: tuple[Waiver, ...] = field(default=())
    # every state whose reach is tolerated, with the reason the profile gives (trusted and [reach] tolerated)
    reasons: tuple[tuple[str, str, str], ...] = ()  # (state, reason, "trusted" | "tolerated")
    partners: tuple[str, ...] | None = None  # the partner tier, when the profile sets it
    reading: Reading = field(default_factory=Reading)
    keys_reason: str | None = None
    # countries allowed only through a partial-scope adequacy decision: country -> the decision's scope
    scoped: tuple[tuple[str, str], ...] = ()
    # data-bearing types the user accepts unassessed (any catalogue spelling): recorded in every report
    accept_unassessed: tuple[str, ...] = ()


def bundled_dir() -> Path:
    """Where the bundled profiles live (profiles/ at the top of the repository, shipped in the package)."""
    return Path(str(resources.files("residency_audit").joinpath("profiles")))


def bundled() -> dict[str, Path]:
    """Bundled profile names and their files (example.toml is documentation, not a policy)."""
    return {p.stem: p for p in sorted(bundled_dir().glob("*.toml"))}


def find(name_or_path: str) -> tuple[Path, str]:
    """A profile file by bundled name or by path, with its source label.

    A bare name (no path separator, no .toml suffix) means a bundled profile, never a file that happens to sit in
    the working directory: a file there named like a bundled profile could otherwise turn a strict gate into a
    pass. A path (with a separator, or ending in .toml) means a file. Where both could be meant, it is an error.
    """
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    if not name_or_path.strip():
        raise ProfileError("--profile is empty: give a bundled name or a path to a .toml file")
    if any(sep in name_or_path for sep in seps) or name_or_path.endswith(".toml") or name_or_path.startswith("~"):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ProfileError(f"{name_or_path}: no such profile file")
        return path, str(path)
    files = bundled()
    local = [p for p in (Path(name_or_path), Path(name_or_path + ".toml")) if p.exists()]
    if name_or_path in files and local:
        raise ProfileError(
            f"{name_or_path!r} is ambiguous: it names the bundled profile, and {local[0]} exists in the working "
            f"directory. Write ./{local[0]} for the file, or move it away to use the bundled profile"
        )
    if name_or_path not in files:
        hint = f"; to use the file here, write ./{local[0]}" if local else " (or give a path to a .toml file)"
        raise ProfileError(f"no bundled profile named {name_or_path!r}; bundled: {', '.join(files)}{hint}")
    return files[name_or_path], f"bundled:{name_or_path}"


def load_profile(name_or_path: str, kb: KnowledgeBase, at: date | None = None) -> Profile:
    """Find, parse and validate a profile against the knowledge base (blocs read at `at`, default today)."""
    path, source = find(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc} (check quotes, brackets and commas there)") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: not UTF-8 text: {exc}") from exc
    except RecursionError:
        raise ProfileError(f"{path}: nested too deeply to be a profile (arrays or tables inside each other)") from None
    try:
        return parse(data, kb, source=source, where=str(path), at=at)
    except RecursionError:
        raise ProfileError(f"{path}: nested too deeply to be a profile (arrays or tables inside each other)") from None


# --- parsing -------------------------------------------------------------------------------------------------


def parse(
    data: Mapping[str, Any], kb: KnowledgeBase, source: str, where: str | None = None, at: date | None = None
) -> Profile:
    """Validate a parsed profile document (pure; `where` names the file in errors; blocs read at `at`)."""
    where = where or source
    day = at or date.today()
    top = _Table(where, "", dict(data), kb, day)
    name = top.get("name", str)
    if not name:
        raise top.fail("name", "a profile needs a name")
    description = top.get("description", str, "")

    view = _Table(where, "viewpoint", top.get("viewpoint", dict, {}), kb, day)
    home = view.states("home", ("EU",))
    if not home:
        raise view.fail("home", "is empty: name at least one bloc or country (e.g. ['EEA'] or ['DE']); omit it for EU")
    trusted_pairs = _tolerated(view, "trusted")
    partners = view.states("partners")
    view.done()

    copies = _Table(where, "copies", top.get("copies", dict, {}), kb, day)
    allowed = copies.expand("allowed")
    replicas_allowed = copies.expand("replicas_allowed")
    copies_severity = copies.choice("severity", Severity, Severity.ERROR)
    scoped = _scoped(kb, day, copies, ("allowed", "replicas_allowed"))
    copies.done()

    reach = _Table(where, "reach", top.get("reach", dict, {}), kb, day)
    bases = tuple(_enum_list(reach, "count", ReachBasis, tuple(ReachBasis)))
    tolerated_pairs = _tolerated(reach, "tolerated")
    key_control = tuple(_enum_list(reach, "key_control", KeyControl, (KeyControl.EXTERNAL, KeyControl.CLIENT_SIDE)))
    reach_severity = reach.choice("severity", Severity, Severity.ERROR)
    reach.done()

    exposure = _Table(where, "exposure", top.get("exposure", dict, {}), kb, day)
    max_level = exposure.choice("max_level", Level, None)
    exposure_severity = exposure.choice("severity", Severity, Severity.ERROR)
    exposure.done()

    unknown_t = _Table(where, "unknown", top.get("unknown", dict, {}), kb, day)
    unknown = unknown_t.get("treat_as", str, "violation")
    if unknown not in UNKNOWN_POLICIES:
        raise unknown_t.fail("treat_as", f"must be one of {', '.join(UNKNOWN_POLICIES)}, got {_show(unknown)}")
    unknown_t.done()

    keys = _Table(where, "keys", top.get("keys", dict, {}), kb, day)
    key_reading = keys.get("reading", str, "edpb")
    if key_reading not in KEY_READINGS:
        raise keys.fail("reading", f"must be one of {', '.join(KEY_READINGS)}, got {_show(key_reading)}")
    custody = keys.expand("custody") or frozenset()
    keys_reason = keys.get("reason", str)
    if key_reading != "edpb" and not keys_reason:
        raise keys.fail("reason", "a lenient key reading needs a reason: it is recorded in every report")
    keys.done()
    grid = _grid(_Table(where, "grade", top.get("grade", dict, {}), kb, day))

    classifications = tuple(
        _classification(_Table(where, f"classification[{i}]", c, kb, day))
        for i, c in enumerate(top.get("classification", list, []))
    )
    overrides = tuple(
        _override(_Table(where, f"override[{i}]", o, kb, day)) for i, o in enumerate(top.get("override", list, []))
    )
    seen: dict[tuple[str, str], int] = {}
    for i, o in enumerate(overrides):
        if (o.target, o.field) in seen:
            raise ProfileError(
                f"{where}: field 'override[{i}]': overrides {o.target} {o.field} again (first in "
                f"override[{seen[(o.target, o.field)]}]): keep one"
            )
        seen[(o.target, o.field)] = i
    waivers = tuple(
        _waiver(_Table(where, f"waiver[{i}]", w, kb, day)) for i, w in enumerate(top.get("waiver", list, []))
    )
    accept = _accept_unassessed(top)
    top.done()
    reading = Reading(grid=grid, keys=key_reading, key_custody=custody, label=f"profile {name}")
    return Profile(
        name=name, description=description, source=source, home=home, trusted=tuple(s for s, _ in trusted_pairs),
        allowed=allowed, replicas_allowed=replicas_allowed if replicas_allowed is not None else allowed,
        copies_severity=copies_severity, reach_bases=bases,
        reach_tolerated=frozenset(s for s, _ in tolerated_pairs), reach_key_control=key_control,
        reach_severity=reach_severity, max_level=max_level, exposure_severity=exposure_severity, unknown=unknown,
        classifications=classifications, overrides=overrides, waivers=waivers,
        reasons=_reasons(trusted_pairs, tolerated_pairs),
        partners=partners, reading=reading,
        keys_reason=keys_reason, scoped=scoped, accept_unassessed=accept,
    )  # fmt: skip


def _accept_unassessed(top: _Table) -> tuple[str, ...]:
    from .catalogue import load as load_catalogue

    names = top.strs("accept_unassessed", ()) or ()
    catalogue = load_catalogue()
    for name in names:
        if catalogue.find(name) is None:
            raise top.fail(
                "accept_unassessed",
                f"{name!r} is not a resource type residency-audit knows (write a Terraform, ARM, Cloud Asset "
                "Inventory or CloudFormation type, as the coverage section lists them)",
            )
    return tuple(dict.fromkeys(names))


def _enum_list(t: _Table, key: str, enum: Any, default: tuple[Any, ...]) -> list[Any]:
    values = t.strs(key)
    if values is None:
        return list(default)
    out = []
    for v in values:
        try:
            out.append(enum(v))
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise t.fail(key, f"{v!r} is not one of {allowed}") from None
    return out


def _classification(t: _Table) -> ClassificationRule:
    values = t.strs("values")
    if not values:
        raise t.fail("values", "list the data-classification tag values this rule applies to, e.g. ['secret']")
    key_control = t.strs("key_control")
    rule = ClassificationRule(
        values=tuple(v.lower() for v in values),
        allowed=t.expand("allowed"),
        replicas_allowed=t.expand("replicas_allowed"),
        max_level=t.choice("max_level", Level, None),
        key_control=tuple(_enum_list(t, "key_control", KeyControl, ())) if key_control is not None else None,
    )
    t.done()
    return rule


def _override(t: _Table) -> Override:
    location, operator = t.get("location", str), t.get("operator", str)
    if bool(location) == bool(operator):
        raise t.fail("location", "give exactly one of location = 'provider:code' or operator = 'operator-id'")
    kind = "location" if location else "operator"
    target: str = location or operator
    if kind == "location":
        provider, _, code = target.partition(":")
        loc = t.kb.resolve(provider, code) if provider in ("aws", "azure", "gcp") else None
        if loc is None:
            close = t.kb.suggest(None, code or target)
            hint = f"; closest known: {', '.join(close)}" if close else ""
            raise t.fail("location", f"{target!r} is not a known location (write provider:code){hint}")
        target = loc.key
    elif target not in t.kb.operators:
        raise t.fail("operator", f"{target!r} is not a known operator; known: {', '.join(sorted(t.kb.operators))}")
    fld = t.get("field", str)
    if fld not in OVERRIDE_FIELDS[kind]:
        raise t.fail("field", f"a {kind} override can set {', '.join(OVERRIDE_FIELDS[kind])}; got {fld!r}")
    t.used.add("value")
    if "value" not in t.data:
        raise t.fail("value", "missing: the new value of the field")
    value: Any = t.data["value"]
    if fld in ("countries", "controlled_from", "parent_controlled_from", "presence_in"):
        value = tuple(sorted(t.expand("value") or ()))
    elif fld == "offers_services_in":
        value = t.states("value")
    elif not isinstance(value, str):
        raise t.fail("value", f"a {fld} override takes a string, got {_show(value)}")
    elif fld == "operator" and value not in t.kb.operators:
        raise t.fail("value", f"{value!r} is not a known operator; known: {', '.join(sorted(t.kb.operators))}")
    elif fld == "paired_region" and value:
        pair = t.kb.resolve(target.split(":")[0], value)
        if pair is None:
            raise t.fail("value", f"{value!r} is not a known location")
        if pair.key == target:
            raise t.fail("value", f"{value!r} is {target} itself: a region cannot be its own pair")
        value = pair.code
    elif fld == "paired_region":
        value = None  # "" removes the pair
    reason = t.get("reason", str)
    if not reason:
        raise t.fail("reason", "every override needs a reason: it is recorded in every report")
    t.done()
    return Override(target=target, kind=kind, field=fld, value=value, reason=reason)


def _waiver(t: _Table) -> Waiver:
    resource = t.get("resource", str)
    if not resource:
        raise t.fail("resource", "a glob over resource ids or names, e.g. 'arn:aws:s3:::legacy-*'")
    rule_id = t.get("rule", str, "*")
    if rule_id != "*" and rule_id not in RULES:
        raise t.fail("rule", f"{rule_id!r} is not a rule id; rules: {', '.join(RULES)} or '*'")
    reason = t.get("reason", str)
    if not reason:
        raise t.fail("reason", "every waiver needs a reason")
    expires = t.get("expires", date)
    if expires is None:
        raise t.fail("expires", "every waiver needs an expiry date (TOML date, e.g. 2027-01-31)")
    t.done()
    return Waiver(resource=resource, rule=rule_id, reason=reason, expires=expires)
