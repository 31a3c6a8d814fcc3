"""Coverage: what was found, what was assessed, and why the rest was not. Pure.

A pass means every data-bearing resource found was assessed. Coverage sets the inventory's `Found` records and
the assessed resources against the catalogue, per provider and type:

* found = what the inventory saw (at least what the stores assessed: a walk that lists only what it reads
  reports no separate inventory);
* a data-bearing type with fewer assessed than found is *unassessed*, which makes the result incomplete (exit 3)
  unless the profile accepts the type (`accept_unassessed`), which the report records like a waiver;
* a type the catalogue does not know is an *unknown type*, listed with its count; it does not gate (the catalogue
  will always trail the clouds), but every report shows it;
* part-of-store and not-data types are counted, and out of the way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue, ResourceType
from .inventory import Found
from .model import Provider, Resource

UNKNOWN_TYPE = "unknown-type"
NO_READER = "no reader for this type yet"
NOT_READ = "found by the inventory but not read by its store (see the skips)"
NOT_CATALOGUED = "a type the catalogue does not know: whether it holds data is unknown"
ACCEPTED = "accepted by the profile (accept_unassessed)"


@dataclass(frozen=True)
class TypeCoverage:
    """One resource type of one provider: how many found, how many assessed, and why the others were not."""

    provider: Provider
    type: str  # the catalogue's key for the type (native name, else Terraform), or the name as found if unknown
    name: str | None  # the catalogue's name for people; None for an unknown type
    category: str  # a catalogue Category value, or "unknown-type"
    found: int
    assessed: int
    accepted: bool = False
    reason: str | None = None  # why found - assessed were not assessed
    locations: tuple[str, ...] = ()  # where the unassessed ones are, where the inventory said

    @property
    def data_bearing(self) -> bool:
        """Whether the category holds data (unknown types are not counted as such, but are listed)."""
        return self.category not in ("part-of-store", "not-data", UNKNOWN_TYPE)

    @property
    def missing(self) -> int:
        """Data-bearing resources found and not assessed (0 for other categories)."""
        return max(0, self.found - self.assessed) if self.data_bearing else 0


@dataclass(frozen=True)
class Coverage:
    """Per type coverage, and which engine answered for which scopes."""

    types: tuple[TypeCoverage, ...]
    engines: tuple[tuple[Provider, str, tuple[str, ...]], ...] = ()

    @property
    def unassessed(self) -> tuple[TypeCoverage, ...]:
        """Data-bearing types with resources not assessed and not accepted: each makes the result incomplete."""
        return tuple(t for t in self.types if t.missing and not t.accepted)

    @property
    def accepted(self) -> tuple[TypeCoverage, ...]:
        """Data-bearing types not assessed that the profile accepts."""
        return tuple(t for t in self.types if t.missing and t.accepted)

    @property
    def unknown(self) -> tuple[TypeCoverage, ...]:
        """Types the catalogue does not know."""
        return tuple(t for t in self.types if t.category == UNKNOWN_TYPE)

    @property
    def incomplete(self) -> bool:
        """Whether a data-bearing resource was found and neither assessed nor accepted."""
        return bool(self.unassessed)

    def line(self) -> str:
        """The one line every format shows."""
        found = sum(t.found for t in self.types)
        assessed = sum(t.assessed for t in self.types)
        text = f"{found} resources of {len(self.types)} types found; {assessed} data stores assessed"
        if self.unassessed:
            names = ", ".join(f"{t.type} ({t.missing})" for t in self.unassessed)
            text += f"; {len(self.unassessed)} data-bearing types not assessed: {names}"
        else:
            text += "; every data-bearing resource found was assessed"
        if self.accepted:
            text += f"; {len(self.accepted)} accepted unassessed by the profile"
        if self.unknown:
            text += f"; {len(self.unknown)} unknown types ({sum(t.found for t in self.unknown)} resources)"
        return text


def accepted_types(catalogue: Catalogue, names: Iterable[str]) -> set[str]:
    """The catalogue keys of the types a profile accepts unassessed; ValueError naming a type it does not know."""
    keys: set[str] = set()
    for name in names:
        entry = catalogue.find(name)
        if entry is None:
            raise ValueError(f"accept_unassessed: {name!r} is not a resource type the catalogue knows")
        keys.add(entry.key)
    return keys


def compute(
    catalogue: Catalogue,
    resources: Iterable[Resource] | Mapping[tuple[Provider, str], int],
    found: Iterable[Found],
    accept: Iterable[str] = (),
) -> Coverage:
    """Coverage of a result: `accept` holds the types the profile accepts unassessed (any spelling).

    `resources` are the assessed resources, or their counts per (provider, type) (a streamed check counts them).
    """
    accepted = accepted_types(catalogue, accept)
    assessed: Counter[tuple[Provider, str]] = Counter()
    seen: Counter[tuple[Provider, str]] = Counter()
    places: dict[tuple[Provider, str], dict[str, None]] = {}
    reasons: dict[tuple[Provider, str], str] = {}
    entries: dict[tuple[Provider, str], ResourceType | None] = {}

    def key_of(provider: Provider, rtype: str) -> tuple[Provider, str]:
        entry = catalogue.find(rtype)
        key = (provider, entry.key if entry is not None else rtype)
        entries.setdefault(key, entry)
        return key

    if isinstance(resources, Mapping):
        for (provider, rtype), n in resources.items():
            assessed[key_of(provider, rtype)] += n
    else:
        for r in resources:
            assessed[key_of(r.provider, r.type)] += 1
    engines: dict[tuple[Provider, str], dict[str, None]] = {}
    for f in found:
        engines.setdefault((f.provider, f.engine), {})[f.scope] = None
        if not f.type or not f.count:
            continue
        key = key_of(f.provider, f.type)
        seen[key] += f.count
        places.setdefault(key, {}).update(dict.fromkeys(f.locations))
        if f.reason:
            reasons.setdefault(key, f.reason)
    types = []
    for key in sorted(set(assessed) | set(seen)):
        entry = entries[key]
        n_found, n_assessed = max(seen[key], assessed[key]), assessed[key]
        reason = None
        if n_found > n_assessed:
            if entry is None:
                reason = NOT_CATALOGUED
            else:
                reason = reasons.get(key) or (NOT_READ if entry.assessed else NO_READER)
        is_accepted = key[1] in accepted and n_found > n_assessed
        types.append(
            TypeCoverage(
                provider=key[0],
                type=key[1],
                name=entry.name if entry else None,
                category=entry.category.value if entry else UNKNOWN_TYPE,
                found=n_found,
                assessed=n_assessed,
                accepted=is_accepted,
                reason=ACCEPTED if is_accepted else reason,
                locations=tuple(sorted(places.get(key, {}))) if n_found > n_assessed else (),
            )
        )
    return Coverage(
        tuple(types), tuple((p, engine, tuple(sorted(scopes))) for (p, engine), scopes in sorted(engines.items()))
    )


def to_json(coverage: Coverage) -> dict[str, Any]:
    """The report's `coverage` section (docs/report-format.md)."""
    return {
        "summary": {
            "resources_found": sum(t.found for t in coverage.types),
            "types_found": len(coverage.types),
            "assessed": sum(t.assessed for t in coverage.types),
            "unassessed_data_bearing": sum(t.missing for t in coverage.unassessed),
            "accepted_unassessed": sum(t.missing for t in coverage.accepted),
            "unknown_types": len(coverage.unknown),
            "line": coverage.line(),
        },
        "types": [
            {
                "provider": str(t.provider),
                "type": t.type,
                "name": t.name,
                "category": t.category,
                "found": t.found,
                "assessed": t.assessed,
                "not_assessed": t.found - t.assessed,
                "accepted": t.accepted,
                "reason": t.reason,
                "locations": list(t.locations),
            }
            for t in coverage.types
        ],
        "engines": [
            {"provider": str(p), "engine": engine, "scopes": list(scopes)} for p, engine, scopes in coverage.engines
        ],
    }


def found_from_json(data: Mapping[str, Any]) -> list[Found]:
    """Inventory records back from a report's coverage section (so `check` gates on what the scan found)."""
    section = data.get("coverage")
    if not isinstance(section, dict):
        return []
    out: list[Found] = []
    for i, row in enumerate(section.get("types") or []):
        if not isinstance(row, dict):
            raise ValueError(f"coverage.types[{i}] is not an object")
        try:
            provider = Provider(row["provider"])
            count = row["found"]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError("found is not a count")
            places = row.get("locations") or []
            out.append(Found(provider, "report", "report", str(row["type"]), count, tuple(str(p) for p in places)))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"coverage.types[{i}]: {exc}") from None
    return out


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The coverage lines every non-JSON format shows: the summary line, then each type not assessed or unknown.

    Accepted types say so. Empty for a report without a coverage section (schema 1).
    """
    section = report.get("coverage")
    if not isinstance(section, dict):
        return []
    lines = [str(section.get("summary", {}).get("line", ""))]
    for row in section.get("types", []):
        if row.get("category") == UNKNOWN_TYPE:
            lines.append(f"unknown type: {row.get('provider')} {row.get('type')} ({row.get('found')} found)")
        elif row.get("not_assessed") and row.get("category") not in ("part-of-store", "not-data"):
            where = ", ".join(row.get("locations") or []) or "location not read"
            state = "accepted unassessed" if row.get("accepted") else "not assessed"
            lines.append(
                f"{state}: {row.get('provider')} {row.get('type')} ({row.get('name')}, {row.get('category')}): "
                f"{row.get('not_assessed')} of {row.get('found')} in {where}: {row.get('reason')}"
            )
    return lines


def report_incomplete(report: Mapping[str, Any]) -> bool:
    """Whether a report's coverage section lists a data-bearing type found, not assessed and not accepted."""
    section = report.get("coverage")
    if not isinstance(section, dict):
        return False
    return bool(section.get("summary", {}).get("unassessed_data_bearing"))
