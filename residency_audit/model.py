"""The data model that flows through the pipeline: connectors → locations → assessment → policy → reporters.

Everything here is a frozen dataclass or a string enum, so a value can be shared between threads, cached,
compared in tests and serialised without surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Provider(StrEnum):
    """A cloud provider the tool understands."""

    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"


class LocationKind(StrEnum):
    """How many places a location code stands for."""

    REGION = "region"
    DUAL_REGION = "dual-region"
    MULTI_REGION = "multi-region"
    ZONE = "zone"  # a Local Zone or Wavelength Zone group: belongs to a parent region, sits elsewhere


class LocationStatus(StrEnum):
    """Whether customers can use a location today."""

    AVAILABLE = "available"
    RESTRICTED = "restricted"  # exists, but only for approved customers (e.g. Azure's restricted regions)
    RETIRED = "retired"  # closed, but still seen in old estates and plans
    ISOLATED = "isolated"  # air-gapped government partitions
    ANNOUNCED = "announced"  # announced (e.g. listed by the SDK) but not available: no service endpoints yet


class KeyControl(StrEnum):
    """Who controls the keys that protect the data at rest, weakest first."""

    PROVIDER_MANAGED = "provider-managed"
    CUSTOMER_MANAGED = "customer-managed"  # in the provider's own KMS: the provider can still be compelled
    EXTERNAL = "external"  # held outside the provider (external key store, EKM, HYOK)
    CLIENT_SIDE = "client-side"  # encrypted before upload; cannot be seen, only declared
    UNKNOWN = "unknown"


class Level(StrEnum):
    """Exposure level. Ordered: none < low < medium < high < critical < unknown."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    UNKNOWN = "unknown"  # a copy's location is not known: ranks worst, never guessed

    @property
    def rank(self) -> int:
        """Position in the order, 0 for none."""
        return _LEVEL_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_LEVEL_RANK = {level: i for i, level in enumerate(Level)}


class ReachBasis(StrEnum):
    """Why a state can compel disclosure of a copy."""

    TERRITORIAL = "territorial"  # the copy sits in its territory
    OPERATOR = "operator"  # it controls the entity that operates the location
    PARENT = "parent"  # it controls the operator's parent company
    REGIME = "regime"  # another extraterritorial law or agreement


class CopyRole(StrEnum):
    """Whether a copy is the primary one or a replica."""

    PRIMARY = "primary"
    REPLICA = "replica"


@dataclass(frozen=True)
class Source:
    """A reference a knowledge-base fact rests on."""

    id: str
    title: str
    url: str
    as_of: date


@dataclass(frozen=True)
class Operator:
    """The legal entity that runs a location, and the states that control it."""

    id: str
    name: str
    controlled_from: tuple[str, ...]
    parent: str | None  # name of a parent company in another state, if any
    parent_controlled_from: tuple[str, ...]
    offers_services_in: tuple[str, ...]  # ISO codes or bloc ids: decides which extraterritorial regimes apply
    note: str | None
    sources: tuple[str, ...]
    as_of: date
    presence_in: tuple[str, ...] = ()  # states where the operator's group has a presence (e.g. a US subsidiary)
    review_by: date | None = None


@dataclass(frozen=True)
class Location:
    """A place a cloud can keep data: a region, or a dual-/multi-region made of several."""

    provider: Provider
    code: str  # as the cloud's API returns it
    name: str  # display name
    kind: LocationKind
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2; empty when not published
    city: str | None
    operator: Operator
    cloud: str  # partition / sovereign cloud id: "aws", "aws-cn", "azure-china", "gcp", ...
    paired_region: str | None
    status: LocationStatus
    members: tuple[str, ...]  # member region codes of a dual- or multi-region
    sources: tuple[str, ...]
    as_of: date
    note: str | None = None

    @property
    def key(self) -> str:
        """`provider:code`, the form `explain` takes."""
        return f"{self.provider}:{self.code}"

    @property
    def controlled_from(self) -> tuple[str, ...]:
        """The states that control this location's operator."""
        return self.operator.controlled_from


@dataclass(frozen=True)
class Copy:
    """One copy of a resource's data: where the cloud says it is, and what the knowledge base knows of it."""

    code: str  # the location as the API returned it
    role: CopyRole
    location: Location | None = None  # filled by the locations stage; None when unknown
    note: str | None = None  # how the connector learnt of this copy (e.g. "replication rule r1")
    key_control: KeyControl | None = None  # this copy's own keys (a replica re-encrypted); None: the resource's

    @staticmethod
    def make(
        code: str, role: CopyRole, location: Location | None, note: str | None, key_control: KeyControl | None = None
    ) -> Copy:
        """Construct without the frozen __init__'s per-field cost (hot when reading 100,000 resources)."""
        new = object.__new__(Copy)
        new.__dict__.update(code=code, role=role, location=location, note=note, key_control=key_control)
        return new


@dataclass(frozen=True)
class Reach:
    """A state that can compel disclosure, and on what basis."""

    state: str  # ISO code or bloc id
    basis: ReachBasis
    via: str  # the location code, operator id or instrument id it comes through
    instruments: tuple[str, ...] = ()  # legal instrument ids


@dataclass(frozen=True)
class Reading:
    """How the law is read: the grading grid, the key-control reading, where client-side keys are held.

    The defaults are documented in docs/exposure-model.md; a profile may choose otherwise, and says why.
    """

    grid: tuple[tuple[str, str, str, str], ...] = ()  # (basis, tier, weight, level) cells replacing the default
    keys: str = "edpb"  # "edpb" (Recommendations 01/2020) or "lenient"
    key_custody: frozenset[str] = frozenset()  # states where client-side keys are held (declared)
    label: str = ""  # who chose a non-default reading, for the reasons (e.g. "profile acme")


@dataclass(frozen=True)
class Viewpoint:
    """The jurisdiction exposure is measured from, and the date the law is read at.

    Tiers of a state: home, trusted (reach by either is not foreign), partner (an adequacy decision of full scope
    or a CLOUD Act agreement with home), other.
    """

    label: str
    home: frozenset[str]
    trusted: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()
    at: date | None = None  # None: today
    reading: Reading = field(default_factory=Reading)

    def is_foreign(self, state: str) -> bool:
        """Whether a state (ISO code) is outside home and trusted."""
        return state not in self.home and state not in self.trusted

    def tier(self, state: str) -> str:
        """home, trusted, partner or other."""
        if state in self.home:
            return "home"
        if state in self.trusted:
            return "trusted"
        return "partner" if state in self.partners else "other"


@dataclass(frozen=True)
class Assessment:
    """The classifier's verdict on one footprint."""

    level: Level
    countries: tuple[str, ...]
    reach: tuple[Reach, ...]
    foreign_reach: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    """A data store found by a connector, with its footprint and (after assessment) its exposure."""

    provider: Provider
    account: str
    service: str
    type: str
    id: str
    name: str
    footprint: tuple[Copy, ...]
    key_control: KeyControl = KeyControl.UNKNOWN
    tags: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    classification: str | None = None
    key_note: str | None = None  # how key control was established (e.g. KMS key origin)
    assessment: Assessment | None = None

    @staticmethod
    def make(**fields: object) -> Resource:
        """Construct from every field by name, without the frozen __init__'s per-field cost (hot at 100,000)."""
        new = object.__new__(Resource)
        new.__dict__.update(_RESOURCE_DEFAULTS)
        new.__dict__.update(fields)
        return new

    def evolve(self, **changes: object) -> Resource:
        """A copy with some fields changed: dataclasses.replace without its per-call cost (hot at 100,000)."""
        new = object.__new__(Resource)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    @property
    def countries(self) -> tuple[str, ...]:
        """Sorted union of the countries of every known copy."""
        return tuple(sorted({c for copy in self.footprint if copy.location for c in copy.location.countries}))


@dataclass(frozen=True)
class Waiver:
    """A profile's permission to keep a finding: visible and counted, but not failing the gate until it expires."""

    resource: str  # glob over the resource id (ARN, ARM id, full resource name) or name
    rule: str  # a rule id, or "*"
    reason: str
    expires: date


@dataclass(frozen=True)
class Finding:
    """A policy violation (or warning) on one resource, with the reasons behind it."""

    rule: str  # id in residency_audit.rules.RULES
    severity: str  # residency_audit.rules.Severity value
    provider: Provider
    account: str
    service: str
    resource_id: str
    resource_name: str
    message: str
    reasons: tuple[str, ...]
    waiver: Waiver | None = None
    expired_waiver: bool = False

    def evolve(self, **changes: object) -> Finding:
        """A copy with some fields changed, without dataclasses.replace's per-call cost."""
        new = object.__new__(Finding)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    @property
    def waived(self) -> bool:
        """Whether an active waiver covers this finding."""
        return self.waiver is not None and not self.expired_waiver

    @property
    def fingerprint(self) -> str:
        """Stable across runs for the same rule on the same resource (SARIF partialFingerprints, diff)."""
        import hashlib

        text = "|".join((self.rule, str(self.provider), self.account, self.resource_id))
        return hashlib.sha256(text.encode()).hexdigest()[:24]


_RESOURCE_DEFAULTS = {"key_control": KeyControl.UNKNOWN, "classification": None, "key_note": None, "assessment": None}


@dataclass(frozen=True)
class Skip:
    """Something that could not be read: data, shown by every report, never dropped."""

    provider: Provider
    scope: str  # e.g. "account/123456789012/region/eu-west-1/service/s3"
    reason: str
