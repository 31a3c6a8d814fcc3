"""Integrity checks of the knowledge base: pure functions that return the problems they find."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from .knowledge import KnowledgeBase, _norm
from .model import LocationKind, Provider


def check(kb: KnowledgeBase, botocore_regions: Iterable[tuple[str, str]] = (), today: date | None = None) -> list[str]:
    """Every integrity problem in `kb`; empty when it is sound.

    `botocore_regions` is (partition, region) pairs from the installed botocore: each must be in the knowledge
    base, so a new AWS region cannot slip through unclassified.
    """
    today = today or date.today()
    problems: list[str] = []
    iso = set(kb.countries)

    def bad_states(states: Iterable[str], allow_blocs: bool = False) -> list[str]:
        return [s for s in states if s not in iso and not (allow_blocs and s in kb.blocs)]

    for file, where, sid in kb.citations:
        if sid not in kb.sources:
            problems.append(f"{file}: {where}: cites undefined source '{sid}'")
    for source in kb.sources.values():
        if source.as_of > today:
            problems.append(f"source {source.id}: as_of {source.as_of} is in the future")
        if not source.url.startswith(("https://", "http://")):
            problems.append(f"source {source.id}: url {source.url!r} is not an http(s) URL")

    for code in iso:
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            problems.append(f"countries: {code!r} is not an ISO 3166-1 alpha-2 code")
    for bloc in kb.blocs.values():
        for s in bad_states(bloc.members):
            problems.append(f"bloc {bloc.id}: member {s!r} is not a known ISO country code")
    for a in kb.adequacy:
        for s in bad_states([a.country]):
            problems.append(f"adequacy {a.decision}: country {s!r} is not a known ISO country code")
    for g in kb.agreements:
        for s in bad_states([g.partner]):
            problems.append(f"CLOUD Act agreement: partner {s!r} is not a known ISO country code")
    for ins in kb.instruments.values():
        if ins.in_force and ins.expires and ins.expires <= ins.in_force:
            problems.append(f"instrument {ins.id}: expires {ins.expires} is not after in_force {ins.in_force}")
        if ins.services_in and (ins.applies != "services" or bad_states([ins.services_in], allow_blocs=True)):
            problems.append(
                f"instrument {ins.id}: services_in goes with applies = 'services' and names a state or bloc"
            )
        if ins.status == "watched" and not ins.review_by:
            problems.append(f"instrument {ins.id}: a watched instrument needs a review_by date")
        if ins.state != "*" and bad_states([ins.state], allow_blocs=True):
            problems.append(f"instrument {ins.id}: state {ins.state!r} is neither an ISO code nor a bloc")
        if ins.applies == "agreement" and (ins.through is None or bad_states([ins.through])):
            problems.append(f"instrument {ins.id}: an agreement needs 'through' = the ISO code it goes through")

    for op in kb.operators.values():
        for s in bad_states(op.presence_in):
            problems.append(f"operator {op.id}: presence_in {s!r} is not a known ISO country code")
        if not op.controlled_from:
            problems.append(f"operator {op.id}: controlled_from is empty")
        for s in bad_states(op.controlled_from) + bad_states(op.parent_controlled_from):
            problems.append(f"operator {op.id}: {s!r} is not a known ISO country code")
        for s in bad_states(op.offers_services_in, allow_blocs=True):
            problems.append(f"operator {op.id}: offers_services_in {s!r} is neither an ISO code nor a bloc")
        if bool(op.parent) != bool(op.parent_controlled_from):
            problems.append(f"operator {op.id}: parent and parent_controlled_from go together")

    by_provider: dict[Provider, dict[str, list[str]]] = {}
    for loc in kb.locations:
        codes = by_provider.setdefault(loc.provider, {})
        codes.setdefault(_norm(loc.code), []).append(loc.code)
    for provider, codes in by_provider.items():
        for variants in codes.values():
            if len(variants) > 1:
                problems.append(f"{provider}: location code {variants[0]!r} is defined {len(variants)} times")
        names = Counter(_norm(loc.name) for loc in kb.locations if loc.provider == provider)
        for loc in kb.locations:
            if loc.provider == provider and names[_norm(loc.name)] > 1 and _norm(loc.name) not in codes:
                problems.append(f"{loc.key}: display name {loc.name!r} is shared by another location")
                names[_norm(loc.name)] = 1  # report each name once

    known = {(loc.provider, _norm(loc.code)): loc for loc in kb.locations}
    for loc in kb.locations:
        where = loc.key
        for s in bad_states(loc.countries):
            problems.append(f"{where}: country {s!r} is not a known ISO code")
        if not loc.countries and not loc.note:
            problems.append(f"{where}: countries is empty; add a note saying why the location is not known")
        if loc.as_of > today:
            problems.append(f"{where}: as_of {loc.as_of} is in the future")
        if loc.paired_region is not None:
            if loc.provider is not Provider.AZURE:
                problems.append(f"{where}: paired_region is an Azure concept")
            if (loc.provider, _norm(loc.paired_region)) not in known:
                problems.append(f"{where}: paired region {loc.paired_region!r} is not in the knowledge base")
            elif _norm(loc.paired_region) == _norm(loc.code):
                problems.append(f"{where}: a region cannot be its own pair")
        if loc.kind is LocationKind.REGION and loc.members:
            problems.append(f"{where}: a single region has no members")
        if loc.kind is LocationKind.DUAL_REGION and len(loc.members) != 2:
            problems.append(f"{where}: a dual-region needs exactly two members")
        member_countries: set[str] = set()
        for m in loc.members:
            member = known.get((loc.provider, _norm(m)))
            if member is None:
                problems.append(f"{where}: member {m!r} is not in the knowledge base")
            else:
                member_countries.update(member.countries)
        if loc.members and member_countries != set(loc.countries):
            problems.append(
                f"{where}: countries {sorted(loc.countries)} differ from its members' {sorted(member_countries)}"
            )
    for alias in kb.aliases:
        if (alias.provider, _norm(alias.target)) not in known:
            problems.append(f"{alias.provider} alias {alias.alias!r}: target {alias.target!r} is not known")

    aws_codes = {loc.code for loc in kb.locations if loc.provider is Provider.AWS}
    for partition, region in sorted(set(botocore_regions)):
        if region not in aws_codes:
            problems.append(
                f"aws: region {region!r} (partition {partition}) is in the installed botocore but not in the "
                "knowledge base: add it to residency_audit/kb/aws.toml with its country, operator and sources"
            )
    return problems


def botocore_regions() -> list[tuple[str, str]]:
    """(partition, region) for every region the installed botocore knows, from endpoints.json and partitions.json."""
    from botocore.loaders import create_loader  # lazy: botocore is heavy and only this check needs it

    loader = create_loader()
    found: set[tuple[str, str]] = set()
    for name in ("endpoints", "partitions"):
        try:
            data = loader.load_data(name)
        except Exception:
            continue
        for partition in data.get("partitions", []):
            pid = partition.get("partition") or partition.get("id")
            for region in partition.get("regions", {}):
                found.add((pid, region))
    return sorted(found)
