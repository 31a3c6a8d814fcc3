"""Load the knowledge base (TOML data files in `residency_audit/kb/`) into the model, and look locations up.

The loader is strict: an entry with a missing or unknown field, a wrong type or a dangling reference is refused
with the file and the entry named, so a bad edit to the data never turns into a wrong assessment.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from .model import Location, LocationKind, LocationStatus, Operator, Provider, Source

KB_FILES = ("countries.toml", "law.toml", "aws.toml", "azure.toml", "gcp.toml")
PROVIDER_FILES = {Provider.AWS: "aws.toml", Provider.AZURE: "azure.toml", Provider.GCP: "gcp.toml"}
INSTRUMENT_APPLIES = ("operator", "services", "agreement", "territorial")


class KnowledgeError(ValueError):
    """The knowledge base (or an override of it) is malformed: names the file and the entry."""


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


@dataclass(frozen=True)
class Agreement:
    """A CLOUD Act executive agreement (18 U.S.C. § 2523) in force."""

    partner: str
    in_force: date
    sources: tuple[str, ...]
    as_of: date


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


@dataclass(frozen=True)
class ServiceCopies:
    """A copy a service keeps by itself and shows in no field (Key Vault's paired-region replica), as documented."""

    id: str
    provider: Provider
    resource_type: str  # the ARM type the fact is about
    rule: str  # "paired-region": a copy in the location's paired region (the knowledge base's pair, per cloud)
    except_locations: tuple[str, ...]  # location codes the service documents as not replicated
    note: str
    sources: tuple[str, ...]
    as_of: date


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
    service_copies: Mapping[str, ServiceCopies] = dataclasses.field(default_factory=dict)

    def service_copy(self, provider: Provider, resource_type: str) -> ServiceCopies | None:
        """The documented implicit copy of a resource type (ARM type, any case), if the knowledge base has one."""
        return next(
            (
                s
                for s in self.service_copies.values()
                if s.provider == provider and s.resource_type.lower() == resource_type.lower()
            ),
            None,
        )

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

    def states_of(self, state_or_bloc: str) -> frozenset[str]:
        """ISO codes a state or bloc id stands for."""
        bloc = self.blocs.get(state_or_bloc)
        return bloc.members if bloc else frozenset({state_or_bloc})

    def adequacy_for(self, country: str) -> Adequacy | None:
        """The EU adequacy decision covering a country, if any."""
        return next((a for a in self.adequacy if a.country == country), None)


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


# --- parsing -------------------------------------------------------------------------------------------------


class _Entry:
    """One TOML table being read: typed field access that names the file and entry on any error."""

    def __init__(self, file: str, where: str, data: Any, citations: list[tuple[str, str, str]]) -> None:
        if not isinstance(data, dict):
            raise KnowledgeError(f"{file}: {where}: expected a table, got {type(data).__name__}")
        self.file, self.where, self.data, self._citations = file, where, data, citations
        self._used: set[str] = set()

    def _fail(self, message: str) -> KnowledgeError:
        return KnowledgeError(f"{self.file}: {self.where}: {message}")

    def _get(self, key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        self._used.add(key)
        if key not in self.data:
            if required:
                raise self._fail(f"missing field '{key}'")
            return None
        value = self.data[key]
        if not isinstance(value, kind) or (kind is str and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self._fail(f"field '{key}' must be {names}, got {value!r}")
        return value

    def text(self, key: str, required: bool = True) -> Any:
        return self._get(key, str, required)

    def day(self, key: str, required: bool = True) -> Any:
        value = self._get(key, date, required)
        if value is not None and not isinstance(value, date):
            raise self._fail(f"field '{key}' must be a date (YYYY-MM-DD), got {value!r}")
        return value

    def texts(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, list, required)
        if value is None:
            return ()
        if not all(isinstance(v, str) for v in value):
            raise self._fail(f"field '{key}' must be a list of strings, got {value!r}")
        return tuple(value)

    def sources(self) -> tuple[str, ...]:
        ids = self.texts("sources")
        if not ids:
            raise self._fail("field 'sources' must cite at least one source")
        self._citations.extend((self.file, self.where, s) for s in ids)
        return ids

    def done(self) -> None:
        extra = set(self.data) - self._used
        if extra:
            raise self._fail(f"unknown field(s) {', '.join(sorted(extra))}")


def _read(file: str) -> dict[str, Any]:
    text = resources.files("residency_audit").joinpath("kb", file).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{file}: not valid TOML: {exc}") from exc


def _table(file: str, doc: Mapping[str, Any], key: str, kind: type) -> Any:
    value = doc.get(key, kind())
    if not isinstance(value, kind):
        raise KnowledgeError(f"{file}: '{key}' must be a {'table' if kind is dict else 'array of tables'}")
    return value


def load_from(docs: Mapping[str, Mapping[str, Any]]) -> KnowledgeBase:
    """Build a knowledge base from parsed TOML documents keyed by file name (pure; used by tests too)."""
    citations: list[tuple[str, str, str]] = []
    sources: dict[str, Source] = {}
    operators: dict[str, Operator] = {}
    raw_locations: list[tuple[str, _Entry]] = []
    aliases: list[Alias] = []
    countries: dict[str, str] = {}
    blocs: dict[str, Bloc] = {}
    adequacy: list[Adequacy] = []
    agreements: list[Agreement] = []
    instruments: dict[str, Instrument] = {}
    service_copies: dict[str, ServiceCopies] = {}

    known_top = {
        "meta",
        "sources",
        "operators",
        "locations",
        "aliases",
        "countries",
        "blocs",
        "adequacy",
        "cloud_act_agreements",
        "instruments",
        "service_copies",
    }
    for file, doc in docs.items():
        extra = set(doc) - known_top
        if extra:
            raise KnowledgeError(f"{file}: unknown top-level key(s) {', '.join(sorted(extra))}")
        if "meta" in doc:
            e = _Entry(file, "meta", doc["meta"], citations)
            e.text("description", required=False)
            if "sources" in doc["meta"]:
                e.sources()
            e.day("as_of", required=False)
            e.done()
        for sid, data in _table(file, doc, "sources", dict).items():
            e = _Entry(file, f"sources.{sid}", data, citations)
            if sid in sources:
                raise e._fail("source id defined twice")
            sources[sid] = Source(sid, e.text("title"), e.text("url"), e.day("as_of"))
            e.done()
        for oid, data in _table(file, doc, "operators", dict).items():
            e = _Entry(file, f"operators.{oid}", data, citations)
            if oid in operators:
                raise e._fail("operator id defined twice")
            operators[oid] = Operator(
                id=oid,
                name=e.text("name"),
                controlled_from=e.texts("controlled_from"),
                parent=e.text("parent", required=False),
                parent_controlled_from=e.texts("parent_controlled_from", required=False),
                offers_services_in=e.texts("offers_services_in", required=False),
                note=e.text("note", required=False),
                sources=e.sources(),
                as_of=e.day("as_of"),
            )
            e.done()
        for i, data in enumerate(_table(file, doc, "locations", list)):
            code = data.get("code", f"#{i}") if isinstance(data, dict) else f"#{i}"
            raw_locations.append((file, _Entry(file, f"locations[{code}]", data, citations)))
        for i, data in enumerate(_table(file, doc, "aliases", list)):
            e = _Entry(file, f"aliases[{i}]", data, citations)
            provider = _provider_of(file, e)
            aliases.append(
                Alias(provider, e.text("alias"), e.text("target"), e.text("context"), e.sources(), e.day("as_of"))
            )
            e.done()
        for code, name in _table(file, doc, "countries", dict).items():
            if not isinstance(name, str):
                raise KnowledgeError(f"{file}: countries.{code}: name must be a string")
            countries[code] = name
        for bid, data in _table(file, doc, "blocs", dict).items():
            e = _Entry(file, f"blocs.{bid}", data, citations)
            blocs[bid] = Bloc(bid, e.text("name"), frozenset(e.texts("members")), e.sources(), e.day("as_of"))
            e.done()
        for i, data in enumerate(_table(file, doc, "adequacy", list)):
            e = _Entry(file, f"adequacy[{i}]", data, citations)
            adequacy.append(
                Adequacy(
                    e.text("country"),
                    e.text("decision"),
                    e.day("adopted"),
                    e.text("scope"),
                    e.day("expires", required=False),
                    e.sources(),
                    e.day("as_of"),
                )
            )
            e.done()
        for i, data in enumerate(_table(file, doc, "cloud_act_agreements", list)):
            e = _Entry(file, f"cloud_act_agreements[{i}]", data, citations)
            agreements.append(Agreement(e.text("partner"), e.day("in_force"), e.sources(), e.day("as_of")))
            e.done()
        for iid, data in _table(file, doc, "instruments", dict).items():
            e = _Entry(file, f"instruments.{iid}", data, citations)
            applies = e.text("applies")
            if applies not in INSTRUMENT_APPLIES:
                raise e._fail(f"field 'applies' must be one of {', '.join(INSTRUMENT_APPLIES)}, got {applies!r}")
            instruments[iid] = Instrument(
                id=iid,
                title=e.text("title"),
                citation=e.text("citation"),
                short=e.text("short", required=False) or e.text("title"),
                state=e.text("state"),
                applies=applies,
                through=e.text("through", required=False),
                in_force=e.day("in_force", required=False),
                summary=e.text("summary"),
                sources=e.sources(),
                as_of=e.day("as_of"),
            )
            e.done()
        for sid, data in _table(file, doc, "service_copies", dict).items():
            service_copies[sid] = _service_copies(file, sid, data, citations)

    if adequacy:
        # a bloc derived from the sourced decisions, so profiles can say "EU-ADEQUACY" and never drift from them
        blocs["EU-ADEQUACY"] = Bloc(
            "EU-ADEQUACY",
            "Countries with an EU adequacy decision in force (some partial: see each decision's scope)",
            frozenset(a.country for a in adequacy),
            tuple(dict.fromkeys(s for a in adequacy for s in a.sources)),
            max(a.as_of for a in adequacy),
        )
    locations = tuple(_location(file, e, operators) for file, e in raw_locations)
    return KnowledgeBase(
        sources=sources,
        operators=operators,
        locations=locations,
        aliases=tuple(aliases),
        countries=countries,
        blocs=blocs,
        adequacy=tuple(adequacy),
        agreements=tuple(agreements),
        instruments=instruments,
        citations=tuple(citations),
        service_copies=service_copies,
    )


_SERVICE_COPY_RULES = ("paired-region",)


def _service_copies(file: str, sid: str, data: Any, citations: list[tuple[str, str, str]]) -> ServiceCopies:
    e = _Entry(file, f"service_copies.{sid}", data, citations)
    rule = e.text("rule")
    if rule not in _SERVICE_COPY_RULES:
        raise e._fail(f"field 'rule' must be one of {', '.join(_SERVICE_COPY_RULES)}, got {rule!r}")
    fact = ServiceCopies(
        id=sid,
        provider=_provider_of(file, e),
        resource_type=e.text("resource_type"),
        rule=rule,
        except_locations=e.texts("except_locations", required=False),
        note=e.text("note"),
        sources=e.sources(),
        as_of=e.day("as_of"),
    )
    e.done()
    return fact


def _provider_of(file: str, e: _Entry) -> Provider:
    for provider, name in PROVIDER_FILES.items():
        if name == file:
            return provider
    raise e._fail("locations and aliases belong in aws.toml, azure.toml or gcp.toml")


def _enum(e: _Entry, key: str, enum: type[Any]) -> Any:
    value = e.text(key)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise e._fail(f"field '{key}' must be one of {allowed}, got {value!r}") from None


def _location(file: str, e: _Entry, operators: Mapping[str, Operator]) -> Location:
    provider = _provider_of(file, e)
    operator_id = e.text("operator")
    if operator_id not in operators:
        raise e._fail(f"operator '{operator_id}' is not defined in any [operators] table")
    loc = Location(
        provider=provider,
        code=e.text("code"),
        name=e.text("name"),
        kind=_enum(e, "kind", LocationKind),
        countries=e.texts("countries"),
        city=e.text("city", required=False),
        operator=operators[operator_id],
        cloud=e.text("cloud"),
        paired_region=e.text("paired_region", required=False),
        status=_enum(e, "status", LocationStatus),
        members=e.texts("members", required=False),
        sources=e.sources(),
        as_of=e.day("as_of"),
        note=e.text("note", required=False),
    )
    e.done()
    return loc


@functools.cache
def load() -> KnowledgeBase:
    """The bundled knowledge base, parsed once per process."""
    return load_from({file: _read(file) for file in KB_FILES})
