"""Policy profiles: a jurisdiction policy written once for all three clouds, in TOML.

`load_profile` refuses a profile with a syntax error, an unknown key, a wrong type, a bad date, an unknown country,
bloc, level, key control or rule, naming the file, the field and the fix. profiles/example.toml documents every field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .knowledge import KnowledgeBase
from .model import KeyControl, Level, ReachBasis, Waiver
from .rules import RULES, Severity

UNKNOWN_POLICIES = ("violation", "warning", "ignore")
OVERRIDE_FIELDS = {
    "location": ("countries", "city", "paired_region", "operator"),
    "operator": ("controlled_from", "parent_controlled_from", "offers_services_in"),
}


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the field and the fix."""


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
    # data-bearing types the user accepts unassessed (any catalogue spelling): recorded in every report
    accept_unassessed: tuple[str, ...] = ()


def bundled_dir() -> Path:
    """Where the bundled profiles live (profiles/ at the top of the repository, shipped in the package)."""
    return Path(str(resources.files("residency_audit").joinpath("profiles")))


def bundled() -> dict[str, Path]:
    """Bundled profile names and their files (example.toml is documentation, not a policy)."""
    return {p.stem: p for p in sorted(bundled_dir().glob("*.toml"))}


def find(name_or_path: str) -> tuple[Path, str]:
    """A profile file by bundled name or by path, with its source label."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" or path.exists() or "/" in name_or_path:
        if not path.is_file():
            raise ProfileError(f"{name_or_path}: no such profile file")
        return path, str(path)
    files = bundled()
    if name_or_path not in files:
        raise ProfileError(
            f"no bundled profile named {name_or_path!r}; bundled: {', '.join(files)} (or give a path to a .toml file)"
        )
    return files[name_or_path], f"bundled:{name_or_path}"


def load_profile(name_or_path: str, kb: KnowledgeBase) -> Profile:
    """Find, parse and validate a profile against the knowledge base."""
    path, source = find(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc} (check quotes, brackets and commas there)") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse(data, kb, source=source, where=str(path))


# --- parsing -------------------------------------------------------------------------------------------------


class _Table:
    """Typed access to one TOML table that names the file and dotted field on any error."""

    def __init__(self, where: str, prefix: str, data: Any, kb: KnowledgeBase) -> None:
        if not isinstance(data, dict):
            raise ProfileError(f"{where}: [{prefix}] must be a table")
        self.where, self.prefix, self.data, self.kb = where, prefix, data, kb
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ProfileError:
        name = f"{self.prefix}.{key}" if self.prefix else key
        return ProfileError(f"{self.where}: field '{name}': {message}")

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind in (str, int) and isinstance(value, bool)):
            raise self.fail(key, f"must be {_kind(kind)}, got {value!r}")
        return value

    def strs(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.get(key, list)
        if value is None:
            return default
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def states(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        values = self.strs(key, default)
        if values is None:
            return None
        out = []
        for v in values:
            token = v.strip().upper()
            if token not in self.kb.blocs and token not in self.kb.countries:
                raise self.fail(
                    key,
                    f"{v!r} is neither a bloc ({', '.join(sorted(self.kb.blocs))}) nor an ISO 3166-1 alpha-2 "
                    "country code (e.g. DE, US)",
                )
            out.append(token)
        return tuple(out)

    def expand(self, key: str, default: tuple[str, ...] | None = None) -> frozenset[str] | None:
        tokens = self.states(key, default)
        if tokens is None:
            return None
        return frozenset(s for t in tokens for s in self.kb.states_of(t))

    def choice(self, key: str, enum: Any, default: Any) -> Any:
        value = self.get(key, str)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise self.fail(key, f"must be one of {allowed}, got {value!r}") from None

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            name = f"{self.prefix}.{extra[0]}" if self.prefix else extra[0]
            raise ProfileError(
                f"{self.where}: unknown field '{name}' (see profiles/example.toml for every field a profile can have)"
            )


def _kind(kind: type) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer", date: "a date (YYYY-MM-DD)"}.get(
        kind, kind.__name__
    )


def parse(data: Mapping[str, Any], kb: KnowledgeBase, source: str, where: str | None = None) -> Profile:
    """Validate a parsed profile document (pure; `where` names the file in errors)."""
    where = where or source
    top = _Table(where, "", dict(data), kb)
    name = top.get("name", str)
    if not name:
        raise top.fail("name", "a profile needs a name")
    description = top.get("description", str, "")

    view = _Table(where, "viewpoint", top.get("viewpoint", dict, {}), kb)
    home = view.states("home", ("EU",)) or ("EU",)
    trusted = view.states("trusted", ()) or ()
    view.done()

    copies = _Table(where, "copies", top.get("copies", dict, {}), kb)
    allowed = copies.expand("allowed")
    replicas_allowed = copies.expand("replicas_allowed")
    copies_severity = copies.choice("severity", Severity, Severity.ERROR)
    copies.done()

    reach = _Table(where, "reach", top.get("reach", dict, {}), kb)
    bases = tuple(_enum_list(reach, "count", ReachBasis, tuple(ReachBasis)))
    tolerated = reach.expand("tolerated", ()) or frozenset()
    key_control = tuple(_enum_list(reach, "key_control", KeyControl, (KeyControl.EXTERNAL, KeyControl.CLIENT_SIDE)))
    reach_severity = reach.choice("severity", Severity, Severity.ERROR)
    reach.done()

    exposure = _Table(where, "exposure", top.get("exposure", dict, {}), kb)
    max_level = exposure.choice("max_level", Level, None)
    exposure_severity = exposure.choice("severity", Severity, Severity.ERROR)
    exposure.done()

    unknown_t = _Table(where, "unknown", top.get("unknown", dict, {}), kb)
    unknown = unknown_t.get("treat_as", str, "violation")
    if unknown not in UNKNOWN_POLICIES:
        raise unknown_t.fail("treat_as", f"must be one of {', '.join(UNKNOWN_POLICIES)}, got {unknown!r}")
    unknown_t.done()

    classifications = tuple(
        _classification(_Table(where, f"classification[{i}]", c, kb))
        for i, c in enumerate(top.get("classification", list, []))
    )
    overrides = tuple(
        _override(_Table(where, f"override[{i}]", o, kb)) for i, o in enumerate(top.get("override", list, []))
    )
    waivers = tuple(_waiver(_Table(where, f"waiver[{i}]", w, kb)) for i, w in enumerate(top.get("waiver", list, [])))
    accept = _accept_unassessed(top)
    top.done()
    return Profile(
        name=name, description=description, source=source, home=home, trusted=trusted, allowed=allowed,
        replicas_allowed=replicas_allowed if replicas_allowed is not None else allowed,
        copies_severity=copies_severity, reach_bases=bases, reach_tolerated=tolerated,
        reach_key_control=key_control, reach_severity=reach_severity, max_level=max_level,
        exposure_severity=exposure_severity, unknown=unknown, classifications=classifications,
        overrides=overrides, waivers=waivers, accept_unassessed=accept,
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
    value = t.data["value"]
    if fld in ("countries", "controlled_from", "parent_controlled_from", "offers_services_in"):
        value = t.states("value")
    elif fld == "operator" and value not in t.kb.operators:
        raise t.fail("value", f"{value!r} is not a known operator")
    elif fld == "paired_region" and value and t.kb.resolve(target.split(":")[0], str(value)) is None:
        raise t.fail("value", f"{value!r} is not a known location")
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
