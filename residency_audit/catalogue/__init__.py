"""The catalogue of resource types: what each is called everywhere, whether it holds data, how its copies are found.

Data, not code: one TOML file per cloud next to this module (aws.toml, azure.toml, gcp.toml), read strictly (an
unknown field, a misspelt category or a name in the wrong form is an error naming the file, entry and field).
Live scans, the Terraform plan reader and the coverage section all look types up here, so a type is described once.

A type with a `store` is read by the module `residency_audit.stores.<store>` (its live reader and, where it lists
Terraform types, its plan reader). A data-bearing type without one is known and counted, but not assessed: a scan
that finds one is incomplete unless the profile accepts the type (`accept_unassessed`).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from ..model import Provider


class CatalogueError(ValueError):
    """The catalogue's data is malformed: the message names the file, the entry and the field."""


class Category(StrEnum):
    """What a resource type holds."""

    DATA_STORE = "data-store"
    BACKUP = "backup"
    KEY_OR_SECRET = "key-or-secret"
    LOG = "log"
    MESSAGE_QUEUE = "message-queue"
    ARTIFACT = "artifact"  # container images and packages: built from, and often containing, data
    PART_OF_STORE = "part-of-store"  # lives in (or configures) a store counted on its own: shares its copies
    NOT_DATA = "not-data"  # networking, IAM, compute without disks

    @property
    def data_bearing(self) -> bool:
        """Whether a resource of this category holds data a residency policy is about."""
        return self not in (Category.PART_OF_STORE, Category.NOT_DATA)


class CopyRule(StrEnum):
    """How the copies of a type's data beyond its location are found."""

    NONE = "none"  # none beyond its location
    FIELD = "field"  # a field of the inventory record names them
    PAIRED_REGION = "paired-region"  # implicit: the location's paired region (knowledge base)
    MULTI_REGION = "multi-region"  # a dual- or multi-region code, expanded to its members (knowledge base)
    ENRICHER = "enricher"  # further API calls: the store module's job


# The native name field of each cloud, and the pattern each kind of name must match.
_NATIVE = {Provider.AWS: "aws_type", Provider.AZURE: "arm", Provider.GCP: "asset"}
_PATTERNS = {
    "aws_type": re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$"),
    "resource_explorer": re.compile(r"^[a-z0-9-]+:[a-z0-9-]+$"),
    "arm": re.compile(r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+$"),
    "asset": re.compile(r"^[a-z0-9]+\.googleapis\.com/[A-Za-z]+$"),
}
_TERRAFORM = {Provider.AWS: ("aws_",), Provider.AZURE: ("azurerm_", "azapi_"), Provider.GCP: ("google_",)}
_FIELDS = {"name", "category", "terraform", "copies", "copies_from", "store", "service", "note"}
_EXTRA = {Provider.AWS: {"aws_type", "resource_explorer"}, Provider.AZURE: {"arm"}, Provider.GCP: {"asset"}}
# AWS only: the resourceType values AWS Config records the type under, where they differ from aws_type
_CONFIG = "aws_config"


@dataclass(frozen=True)
class ResourceType:
    """One resource type the tool knows."""

    provider: Provider
    name: str  # for people: "Key Vault"
    category: Category
    copies: CopyRule
    native: str | None  # ARM type, CAI asset type, or CloudFormation/Config type
    resource_explorer: str | None
    terraform: tuple[str, ...]
    copies_from: str | None = None
    store: str | None = None  # module under residency_audit.stores that reads it, e.g. "aws.s3"
    service: str | None = None  # the --service name of that reader
    note: str | None = None
    config_types: tuple[str, ...] = ()  # AWS Config's names for it, where they differ from `native`

    @property
    def recorded_as(self) -> tuple[str, ...]:
        """The names an inventory of AWS Config records the type under: its own, or those Config uses instead."""
        return self.config_types or tuple(n for n in (self.native,) if n)

    @property
    def key(self) -> str:
        """The name reports show: the native type, else the first Terraform type."""
        return self.native or self.terraform[0]

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling of this type."""
        return tuple(n for n in (self.native, self.resource_explorer, *self.terraform) if n)

    @property
    def data_bearing(self) -> bool:
        """Whether it holds data (a store, backup, key or secret, log, queue or artifact)."""
        return self.category.data_bearing

    @property
    def assessed(self) -> bool:
        """Whether a store module reads it."""
        return self.store is not None


@dataclass(frozen=True)
class Catalogue:
    """Every known resource type, looked up by any of its names (case-insensitive)."""

    types: tuple[ResourceType, ...]

    @functools.cached_property
    def _index(self) -> dict[str, ResourceType]:
        index = {n.lower(): t for t in self.types for n in t.names}
        for t in self.types:  # Config's spellings: never in place of a type's own name
            for n in t.config_types:
                index.setdefault(n.lower(), t)
        return index

    def find(self, name: str) -> ResourceType | None:
        """The type named `name` in any spelling (ARM, CAI, CloudFormation, Resource Explorer, Terraform)."""
        return self._index.get(name.lower())

    def stores(self) -> set[str]:
        """The store modules the catalogue names."""
        return {t.store for t in self.types if t.store}


def terraform_provider(rtype: str) -> Provider | None:
    """The cloud a Terraform resource type belongs to, from its provider prefix; None for other providers."""
    for provider, prefixes in _TERRAFORM.items():
        if rtype.startswith(prefixes):
            return provider
    return None


def _fail(file: str, i: int, problem: str) -> CatalogueError:
    return CatalogueError(f"catalogue {file}: types[{i}]: {problem}")


def _text(entry: Mapping[str, Any], key: str, file: str, i: int, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, i, f"field '{key}' must be a non-empty string")
    return value


def _entry(provider: Provider, file: str, i: int, entry: Any) -> ResourceType:
    if not isinstance(entry, dict):
        raise _fail(file, i, "must be a table")
    unknown = set(entry) - _FIELDS - _EXTRA[provider] - ({_CONFIG} if provider is Provider.AWS else set())
    if unknown:
        raise _fail(file, i, f"unknown field(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_FIELDS))})")
    name = _text(entry, "name", file, i, required=True) or ""
    try:
        category = Category(str(entry.get("category", "")))
    except ValueError:
        raise _fail(file, i, f"{name}: category must be one of {', '.join(c.value for c in Category)}") from None
    try:
        copies = CopyRule(str(entry.get("copies", "")))
    except ValueError:
        raise _fail(file, i, f"{name}: copies must be one of {', '.join(c.value for c in CopyRule)}") from None
    names: dict[str, str | None] = {}
    for field in _EXTRA[provider]:
        value = _text(entry, field, file, i)
        if value is not None and not _PATTERNS[field].match(value):
            raise _fail(file, i, f"{name}: {field} {value!r} is not in the form {_PATTERNS[field].pattern}")
        names[field] = value
    config_types = entry.get(_CONFIG, [])
    if not isinstance(config_types, list) or not all(
        isinstance(c, str) and _PATTERNS["aws_type"].match(c) for c in config_types
    ):
        raise _fail(file, i, f"{name}: {_CONFIG} must be a list of names in the form {_PATTERNS['aws_type'].pattern}")
    terraform = entry.get("terraform", [])
    if not isinstance(terraform, list) or not all(isinstance(t, str) for t in terraform):
        raise _fail(file, i, f"{name}: terraform must be a list of strings")
    for t in terraform:
        if terraform_provider(t) is not provider or not re.match(r"^[a-z0-9_]+$", t):
            raise _fail(file, i, f"{name}: terraform type {t!r} is not a {provider} provider type")
    native = names.get(_NATIVE[provider])
    if native is None and not terraform:
        raise _fail(file, i, f"{name}: needs {_NATIVE[provider]} or terraform")
    copies_from = _text(entry, "copies_from", file, i)
    if copies in (CopyRule.FIELD, CopyRule.ENRICHER) and copies_from is None:
        raise _fail(file, i, f"{name}: copies = {copies.value!r} needs copies_from saying which field or calls")
    store = _text(entry, "store", file, i)
    service = _text(entry, "service", file, i)
    if store is not None:
        if not re.match(rf"^{provider.value}\.[a-z0-9_]+$", store):
            raise _fail(file, i, f"{name}: store {store!r} must be '{provider.value}.<module>'")
        if service is None:
            raise _fail(file, i, f"{name}: a type with a store needs the --service name that reads it")
        if not category.data_bearing:
            raise _fail(file, i, f"{name}: a store reads data, but the category is {category.value}")
    elif service is not None:
        raise _fail(file, i, f"{name}: service without a store")
    return ResourceType(
        provider=provider,
        name=name,
        category=category,
        copies=copies,
        native=native,
        resource_explorer=names.get("resource_explorer"),
        terraform=tuple(terraform),
        copies_from=copies_from,
        store=store,
        service=service,
        note=_text(entry, "note", file, i),
        config_types=tuple(config_types),
    )


def load_from(docs: Mapping[Provider, tuple[str, Mapping[str, Any]]]) -> Catalogue:
    """A catalogue from parsed TOML documents: provider → (file name, document). Pure; tests use it too."""
    types: list[ResourceType] = []
    seen: dict[str, str] = {}
    for provider, (file, doc) in docs.items():
        unknown = set(doc) - {"types"}
        if unknown:
            raise CatalogueError(f"catalogue {file}: unknown top-level key(s) {', '.join(sorted(unknown))}")
        entries = doc.get("types", [])
        if not isinstance(entries, list):
            raise CatalogueError(f"catalogue {file}: 'types' must be an array of tables ([[types]])")
        for i, raw in enumerate(entries):
            entry = _entry(provider, file, i, raw)
            for n in entry.names:
                if n.lower() in seen:
                    raise _fail(file, i, f"{entry.name}: name {n!r} is already used by {seen[n.lower()]}")
                seen[n.lower()] = entry.name
            types.append(entry)
    by_name = {n.lower(): t for t in types for n in t.names}
    for entry in types:
        for n in entry.config_types:
            other = by_name.get(n.lower())
            # Config records this type under another's name: one listing must read both, or one goes unread
            if other is not None and other is not entry and other.service != entry.service:
                file = f"{entry.provider.value}.toml"
                raise CatalogueError(f"catalogue {file}: {entry.name}: {_CONFIG} {n!r} is {other.name}'s type, "
                                     f"read by another service ({other.service}, not {entry.service})")  # fmt: skip
    return Catalogue(tuple(types))


def _documents() -> Iterable[tuple[Provider, str, str]]:
    for provider in Provider:
        file = f"{provider.value}.toml"
        yield provider, file, resources.files(__name__).joinpath(file).read_text(encoding="utf-8")


@functools.cache
def load() -> Catalogue:
    """The bundled catalogue (read once)."""
    docs: dict[Provider, tuple[str, Mapping[str, Any]]] = {}
    for provider, file, text in _documents():
        try:
            docs[provider] = (file, tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"catalogue {file}: not valid TOML: {exc}") from exc
    return load_from(docs)
