"""Load the knowledge base (TOML data files in `residency_audit/kb/`) into the model, and look locations up.

The loader is strict: an entry with a missing or unknown field, a wrong type or a dangling reference is refused
with the file and the entry named, so a bad edit to the data never turns into a wrong assessment.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from importlib import resources
from typing import Any

# the facts and the indexed knowledge base live in kbmodel; importers keep using this module's names
from .kbmodel import WEIGHTS, Adequacy, Agreement, Alias, Bloc, Instrument, KnowledgeBase, _norm
from .model import Location, LocationKind, LocationStatus, Operator, Provider, Source

__all__ = [
    "WEIGHTS",
    "Adequacy",
    "Agreement",
    "Alias",
    "Bloc",
    "Instrument",
    "KnowledgeBase",
    "KnowledgeError",
    "_norm",
    "load",
    "load_from",
]

KB_FILES = ("countries.toml", "law.toml", "aws.toml", "azure.toml", "gcp.toml")
PROVIDER_FILES = {Provider.AWS: "aws.toml", Provider.AZURE: "azure.toml", Provider.GCP: "gcp.toml"}
INSTRUMENT_APPLIES = ("operator", "services", "agreement", "territorial", "presence")
INSTRUMENT_STATUS = ("in-force", "watched")  # watched: tracked (a bill, a pending case), gives no reach


class KnowledgeError(ValueError):
    """The knowledge base (or an override of it) is malformed: names the file and the entry."""


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
        if isinstance(value, datetime):
            raise self._fail(f"field '{key}' must be a date (YYYY-MM-DD), not a date-time: {value!r}")
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
                presence_in=e.texts("presence_in", required=False),
                review_by=e.day("review_by", required=False),
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
                    note=e.text("note", required=False),
                    review_by=e.day("review_by", required=False),
                )
            )
            e.done()
        for i, data in enumerate(_table(file, doc, "cloud_act_agreements", list)):
            e = _Entry(file, f"cloud_act_agreements[{i}]", data, citations)
            agreements.append(
                Agreement(
                    e.text("partner"),
                    e.day("in_force"),
                    e.sources(),
                    e.day("as_of"),
                    review_by=e.day("review_by", required=False),
                )
            )
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
                weight=_choice(e, "weight", WEIGHTS, "standard"),
                expires=e.day("expires", required=False),
                review_by=e.day("review_by", required=False),
                status=_choice(e, "status", INSTRUMENT_STATUS, "in-force"),
                services_in=e.text("services_in", required=False),
            )
            e.done()

    if adequacy:
        # a bloc derived from the sourced decisions, so profiles can say "EU-ADEQUACY" and never drift from them
        blocs["EU-ADEQUACY"] = Bloc(
            "EU-ADEQUACY",
            "Countries with an EU adequacy decision in force (some partial: see each decision's scope)",
            frozenset(a.country for a in adequacy),
            tuple(dict.fromkeys(s for a in adequacy for s in a.sources)),
            max(a.as_of for a in adequacy),
        )
    # an operator offers services wherever it runs a location: complete each list from the sourced locations
    where_run: dict[str, set[str]] = {}
    for _, e in raw_locations:
        op_id, where = e.data.get("operator"), e.data.get("countries")
        if isinstance(op_id, str) and isinstance(where, list):
            where_run.setdefault(op_id, set()).update(c for c in where if isinstance(c, str))
    for oid, op in list(operators.items()):
        missing = sorted(where_run.get(oid, set()) - set(op.offers_services_in))
        if missing:
            operators[oid] = dataclasses.replace(op, offers_services_in=op.offers_services_in + tuple(missing))
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
    )


def _provider_of(file: str, e: _Entry) -> Provider:
    for provider, name in PROVIDER_FILES.items():
        if name == file:
            return provider
    raise e._fail("locations and aliases belong in aws.toml, azure.toml or gcp.toml")


def _choice(e: _Entry, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = e.text(key, required=default is None)
    if value is None:
        return default or ""
    if value not in allowed:
        raise e._fail(f"field '{key}' must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


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
