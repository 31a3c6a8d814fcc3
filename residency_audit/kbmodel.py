"""The knowledge base as the classifier reads it: its facts, indexed, with the lookups that depend on a date.

Blocs, adequacy decisions, agreements, instruments and aliases, and the `KnowledgeBase` that holds them; the strict
loader of the TOML files is knowledge.py, which re-exports these names.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .model import Location, Operator, Provider, Source

WEIGHTS = ("light", "standard", "heavy")  # light: judicial, notified, criminal only; heavy: interception, secret


@dataclass(frozen=True)
class Bloc:
    """A group of states (EU, EEA, …) that a viewpoint or a legal regime can name as one."""

    id: str
    name: str
    members: frozenset[str]
    sources: tuple[str, ...]
    as_of: date


@dataclass(frozen=True)
class Adequacy:
    """An EU adequacy decision for a country."""

    country: str
    decision: str
    adopted: date
    scope: str
    expires: date | None
    sources: tuple[str, ...]
    as_of: date
    note: str | None = None
    review_by: date | None = None

    @property
    def full(self) -> bool:
        """Whether the decision covers every recipient in the country (its scope text begins with "full")."""
        return self.scope.startswith("full")

    def in_force(self, at: date) -> bool:
        """Adopted on or before `at` and not expired."""
        return self.adopted <= at and (self.expires is None or at < self.expires)


@dataclass(frozen=True)
class Agreement:
    """A CLOUD Act executive agreement (18 U.S.C. § 2523) in force."""

    partner: str
    in_force: date
    sources: tuple[str, ...]
    as_of: date
    review_by: date | None = None


@dataclass(frozen=True)
class Instrument:
    """A legal instrument that gives a state reach over data."""

    id: str
    title: str
    citation: str
    short: str  # a short name with its citation, as reasons quote it
    state: str
    applies: str
    through: str | None
    in_force: date | None
    summary: str
    sources: tuple[str, ...]
    as_of: date
    weight: str = "standard"
    expires: date | None = None
    review_by: date | None = None
    status: str = "in-force"
    services_in: str | None = None  # applies = "services": where offering services triggers it (default: state)

    def applies_at(self, at: date) -> bool:
        """Whether the instrument gives the reach it describes on `at` (in force, not expired, not only watched)."""
        return (
            self.status == "in-force"
            and (self.in_force is None or self.in_force <= at)
            and (self.expires is None or at < self.expires)
        )


@dataclass(frozen=True)
class Alias:
    """Another spelling an API returns for a location (S3's legacy "EU", for example)."""

    provider: Provider
    alias: str
    target: str
    context: str
    sources: tuple[str, ...]
    as_of: date


@dataclass(frozen=True)
class KnowledgeBase:
    """Every fact the tool knows, indexed for lookup."""

    sources: Mapping[str, Source]
    operators: Mapping[str, Operator]
    locations: tuple[Location, ...]
    aliases: tuple[Alias, ...]
    countries: Mapping[str, str]
    blocs: Mapping[str, Bloc]
    adequacy: tuple[Adequacy, ...]
    agreements: tuple[Agreement, ...]
    instruments: Mapping[str, Instrument]
    # citations found in the files: (file, entry, source id), kept for the integrity check
    citations: tuple[tuple[str, str, str], ...] = ()

    @functools.cached_property
    def _index(self) -> dict[tuple[Provider, str], Location]:
        index: dict[tuple[Provider, str], Location] = {}
        for loc in self.locations:
            index.setdefault((loc.provider, _norm(loc.name)), loc)
        for alias in self.aliases:
            target = next((x for x in self.locations if x.provider == alias.provider and x.code == alias.target), None)
            if target is not None:
                index[(alias.provider, _norm(alias.alias))] = target
        # codes last: a code always wins over a display name or alias that happens to spell the same
        for loc in self.locations:
            index[(loc.provider, _norm(loc.code))] = loc
        return index

    def resolve(self, provider: Provider | str, code: str | None) -> Location | None:
        """The location a cloud's API means by `code`: by code, alias or display name; None when unknown."""
        if code is None:
            code = ""
        return self._index.get((Provider(provider), _norm(code)))

    def suggest(self, provider: Provider | str | None, code: str, n: int = 5) -> list[str]:
        """The closest known `provider:code` keys, for an error message."""
        candidates = [loc for loc in self.locations if provider is None or loc.provider == provider]
        by_norm: dict[str, str] = {}
        for loc in candidates:
            by_norm.setdefault(_norm(loc.code), loc.key)
            by_norm.setdefault(_norm(loc.name), loc.key)
        close = difflib.get_close_matches(_norm(code), list(by_norm), n=n * 2, cutoff=0.6)
        return list(dict.fromkeys(by_norm[c] for c in close))[:n]

    def states_of(self, state_or_bloc: str, at: date | None = None) -> frozenset[str]:
        """ISO codes a state or bloc id stands for (EU-ADEQUACY: the decisions in force on `at`, default today)."""
        if state_or_bloc == "EU-ADEQUACY" and self.adequacy:
            return self.adequate_at(at or date.today())
        bloc = self.blocs.get(state_or_bloc)
        return bloc.members if bloc else frozenset({state_or_bloc})

    def adequacy_for(self, country: str, at: date | None = None) -> Adequacy | None:
        """The EU adequacy decision covering a country (in force on `at`, when given), if any."""
        return next((a for a in self.adequacy if a.country == country and (at is None or a.in_force(at))), None)

    def adequate_at(self, at: date, full_only: bool = False) -> frozenset[str]:
        """Countries with an EU adequacy decision in force on `at` (only full-scope ones, if asked)."""
        return frozenset(a.country for a in self.adequacy if a.in_force(at) and (a.full or not full_only))

    def partners_of(self, home: frozenset[str], at: date) -> frozenset[str]:
        """The partner tier for a home: full-scope EU adequacy (for an EEA home) and CLOUD Act agreement parties."""
        partners: set[str] = set()
        if home & self.states_of("EEA"):
            partners |= self.adequate_at(at, full_only=True)
        for g in self.agreements:
            if g.in_force <= at:
                if "US" in home:
                    partners.add(g.partner)
                if g.partner in home:
                    partners.add("US")
        return frozenset(partners - home)

    def due_for_review(self, at: date) -> list[str]:
        """Every fact whose `review_by` date has passed on `at`: each one a "re-verify" line for every report."""
        due: list[tuple[date, str]] = []
        for i in self.instruments.values():
            if i.review_by and i.review_by < at:
                due.append((i.review_by, f"instrument {i.id} ({i.short})"))
        for a in self.adequacy:
            if a.review_by and a.review_by < at:
                due.append((a.review_by, f"adequacy decision {a.decision} ({a.country})"))
        for g in self.agreements:
            if g.review_by and g.review_by < at:
                due.append((g.review_by, f"CLOUD Act agreement with {g.partner}"))
        for op in self.operators.values():
            if op.review_by and op.review_by < at:
                due.append((op.review_by, f"operator {op.id} ({op.name})"))
        return [f"re-verify {what}: its review date {when.isoformat()} has passed" for when, what in sorted(due)]


def _norm(text: str) -> str:
    return "".join(text.split()).lower()
