"""The exposure classifier: a pure function from (footprint, key control, viewpoint) to an assessment.

The rules are documented, with worked examples, in docs/exposure-model.md. In short, the worst foreign channel
sets the base level, and key control can lower it:

    a copy's location is unknown                      → unknown (ranks worst; never guessed)
    a copy sits in a foreign state                    → critical
    the operator is controlled from a foreign state   → high
    only the operator's parent is foreign-controlled  → medium
    only another extraterritorial regime reaches it   → low
    no foreign reach                                  → none

    customer-managed keys (in the provider's KMS)     → one step lower, never below low
    keys held outside the provider, or client-side    → at most low
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .knowledge import Instrument, KnowledgeBase
from .model import Assessment, Copy, KeyControl, Level, Location, Reach, ReachBasis, Viewpoint

_BASIS_LEVEL = {
    ReachBasis.TERRITORIAL: Level.CRITICAL,
    ReachBasis.OPERATOR: Level.HIGH,
    ReachBasis.PARENT: Level.MEDIUM,
    ReachBasis.REGIME: Level.LOW,
}
_STEP_DOWN = {
    Level.CRITICAL: Level.HIGH,
    Level.HIGH: Level.MEDIUM,
    Level.MEDIUM: Level.LOW,
    Level.LOW: Level.LOW,
    Level.NONE: Level.NONE,
}


def viewpoint(kb: KnowledgeBase, home: Iterable[str], trusted: Iterable[str] = ()) -> Viewpoint:
    """A viewpoint from bloc ids and ISO codes (e.g. ["EU"], ["DE", "AT"], ["US"]).

    Raises ValueError naming the first token that is neither a bloc nor a known country.
    """
    home_tokens = [t.strip().upper() for t in home if t.strip()]
    trusted_tokens = [t.strip().upper() for t in trusted if t.strip()]
    states: list[frozenset[str]] = []
    for tokens in (home_tokens, trusted_tokens):
        members: set[str] = set()
        for token in tokens:
            if token in kb.blocs:
                members |= kb.blocs[token].members
            elif token in kb.countries:
                members.add(token)
            else:
                known = ", ".join(sorted(kb.blocs))
                raise ValueError(f"{token!r} is neither a bloc ({known}) nor an ISO 3166-1 alpha-2 country code")
        states.append(frozenset(members))
    if not home_tokens:
        raise ValueError("a viewpoint needs at least one home bloc or country")
    label = "+".join(home_tokens) + (f" (trusting {'+'.join(trusted_tokens)})" if trusted_tokens else "")
    return Viewpoint(label=label, home=states[0], trusted=states[1])


def reach_of(kb: KnowledgeBase, location: Location) -> list[Reach]:
    """Every state that can compel disclosure of a copy in `location`, with the basis and the instruments."""
    op = location.operator
    found: list[Reach] = []
    for country in location.countries:
        # the general principle, plus the state's own laws over data on its soil (e.g. the PRC Data Security Law)
        laws = _instruments(kb, "territorial", "*") + _instruments(kb, "territorial", country)
        found.append(Reach(country, ReachBasis.TERRITORIAL, location.code, laws))
    for state in op.controlled_from:
        found.append(Reach(state, ReachBasis.OPERATOR, op.id, _instruments(kb, "operator", state)))
    for state in op.parent_controlled_from:
        if state not in op.controlled_from:
            found.append(Reach(state, ReachBasis.PARENT, op.id, _instruments(kb, "operator", state)))
    controllers = set(op.controlled_from) | set(op.parent_controlled_from)
    offered = set(op.offers_services_in)
    for ins in kb.instruments.values():
        if (ins.applies == "services" and (ins.state in offered or kb.states_of(ins.state) & offered)) or (
            ins.applies == "agreement" and ins.through in controllers
        ):
            found.append(Reach(ins.state, ReachBasis.REGIME, ins.id, (ins.id,)))
    return found


def _instruments(kb: KnowledgeBase, applies: str, state: str) -> tuple[str, ...]:
    return tuple(i.id for i in kb.instruments.values() if i.applies == applies and i.state == state)


def _is_foreign(kb: KnowledgeBase, view: Viewpoint, state: str) -> bool:
    # a bloc reaches as any of its members: foreign as soon as one member is foreign
    return any(view.is_foreign(s) for s in kb.states_of(state))


def assess(kb: KnowledgeBase, footprint: Sequence[Copy], key_control: KeyControl, view: Viewpoint) -> Assessment:
    """Assess one footprint from one viewpoint. Pure: same inputs, same assessment, reasons included."""
    reasons: list[str] = []
    reach: list[Reach] = []
    unknown: list[str] = []
    countries: set[str] = set()
    for copy in footprint:
        loc = copy.location
        if loc is None or not loc.countries:
            unknown.append(copy.code or "(empty)")
            why = "is not in the knowledge base" if loc is None else f"has no published country ({loc.note})"
            reasons.append(f"{copy.role} copy at {copy.code or '(empty)'!r} {why}: location unknown")
            if loc is None:
                continue
        else:
            countries.update(loc.countries)
            where = f"{loc.name}, {loc.city}" if loc.city else loc.name
            reasons.append(
                f"{copy.role} copy in {loc.key} ({where}) sits in {', '.join(loc.countries)} {cite(loc.sources)}"
            )
        reach.extend(reach_of(kb, loc))

    reach = list(dict.fromkeys(reach))
    reasons.extend(_operator_reasons(kb, footprint))
    foreign = [r for r in reach if _is_foreign(kb, view, r.state)]
    for r in foreign:
        reasons.append(reach_reason(kb, r))

    if not footprint:
        unknown.append("(no copy)")
        reasons.append("no copy of the data was found: location unknown")
    if unknown:
        level = Level.UNKNOWN
        reasons.append(f"level unknown: {len(unknown)} cop{'y' if len(unknown) == 1 else 'ies'} of unknown location")
    else:
        level = max((_BASIS_LEVEL[r.basis] for r in foreign), default=Level.NONE)
        reasons.append(f"base level {level}: {_level_why(level, view)}")
        level = _mitigate(level, key_control, reasons)

    return Assessment(
        level=level,
        countries=tuple(sorted(countries)),
        reach=tuple(reach),
        foreign_reach=tuple(sorted({r.state for r in foreign})),
        reasons=tuple(reasons),
    )


def _mitigate(level: Level, key_control: KeyControl, reasons: list[str]) -> Level:
    if level is Level.NONE:
        return level
    if key_control in (KeyControl.EXTERNAL, KeyControl.CLIENT_SIDE):
        capped = min(level, Level.LOW)
        reasons.append(
            f"key control {key_control}: a compelled provider can produce only ciphertext and metadata;"
            f" level {level} capped at {capped}"
        )
        return capped
    if key_control is KeyControl.CUSTOMER_MANAGED:
        lowered = _STEP_DOWN[level]
        reasons.append(
            f"key control {key_control}: the key is in the provider's own KMS, which can still be compelled to use"
            f" it; level {level} lowered one step to {lowered}"
        )
        return lowered
    reasons.append(f"key control {key_control}: no mitigation; the provider can produce plaintext")
    return level


def _level_why(level: Level, view: Viewpoint) -> str:
    return {
        Level.CRITICAL: f"a copy sits outside the viewpoint ({view.label})",
        Level.HIGH: "an operator is controlled from a foreign state",
        Level.MEDIUM: "an operator's parent company is controlled from a foreign state",
        Level.LOW: "only other extraterritorial regimes give foreign reach",
        Level.NONE: f"no foreign reach from the viewpoint ({view.label})",
    }[level]


def _operator_reasons(kb: KnowledgeBase, footprint: Sequence[Copy]) -> list[str]:
    seen: dict[str, str] = {}
    for copy in footprint:
        if copy.location is None:
            continue
        op = copy.location.operator
        if op.id in seen:
            continue
        text = f"{copy.location.code} is operated by {op.name}, controlled from {', '.join(op.controlled_from)}"
        if op.parent:
            text += f"; parent {op.parent}, controlled from {', '.join(op.parent_controlled_from)}"
        seen[op.id] = f"{text} {cite(op.sources)}"
    return list(seen.values())


def reach_reason(kb: KnowledgeBase, r: Reach) -> str:
    """One state's reach as a sentence, with the laws and their sources."""
    laws = [kb.instruments[i] for i in r.instruments if i in kb.instruments]
    law_text = "; ".join(_law(i) for i in laws)
    if r.basis is ReachBasis.TERRITORIAL:
        head = f"foreign reach {r.state}: territorial, a copy sits in {r.state} ({r.via})"
    elif r.basis is ReachBasis.OPERATOR:
        head = f"foreign reach {r.state}: through the operator {r.via}, wherever the data sits"
    elif r.basis is ReachBasis.PARENT:
        head = f"foreign reach {r.state}: through the parent company of operator {r.via} (contested)"
    else:
        head = f"foreign reach {r.state}: extraterritorial regime"
    return f"{head}: {law_text}" if law_text else head


def _law(ins: Instrument) -> str:
    # the instrument's id is its knowledge-base key: its title, full citation and sources are there (and in explain)
    return f"{ins.short} [{ins.id}]"


def cite(sources: Iterable[str]) -> str:
    """Source ids as a reason cites them: [a, b]."""
    return "[" + ", ".join(sources) + "]"
