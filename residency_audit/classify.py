"""The exposure classifier: a pure function from (footprint, key control, viewpoint) to an assessment.

The rules are documented, with worked examples, in docs/exposure-model.md. In short: every copy's foreign reach is
graded on a grid by its basis (territorial, operator, parent, regime), the state's tier seen from the viewpoint
(partner: an adequacy decision of full scope or a CLOUD Act agreement with home; other) and the heaviest
instrument in force on the viewpoint's date (light, standard, heavy). Key control then adjusts each copy's level as
the EDPB's Recommendations 01/2020 read it, and the worst copy decides.

Adequacy decides where copies may sit (the profile's [copies]), never whose compulsion is tolerable: only states
the viewpoint trusts, one by one, are not foreign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from .knowledge import WEIGHTS, Instrument, KnowledgeBase
from .model import (
    Assessment,
    Copy,
    KeyControl,
    Level,
    Location,
    Reach,
    ReachBasis,
    Reading,
    Viewpoint,
)

TIERS = ("partner", "other")  # the foreign tiers; home and trusted states are not foreign
_C, _H, _M, _L = Level.CRITICAL, Level.HIGH, Level.MEDIUM, Level.LOW
# (basis, tier) -> level for a light, standard and heavy instrument. Documented in docs/exposure-model.md.
GRID: Mapping[tuple[str, str], tuple[Level, Level, Level]] = {
    ("territorial", "other"): (_C, _C, _C),
    ("territorial", "partner"): (_H, _H, _C),
    ("operator", "other"): (_H, _H, _H),
    ("operator", "partner"): (_M, _M, _H),
    ("parent", "other"): (_M, _M, _M),
    ("parent", "partner"): (_L, _L, _M),
    ("regime", "other"): (_L, _L, _M),
    ("regime", "partner"): (_L, _L, _M),
}
_STEP_DOWN = {
    Level.CRITICAL: Level.HIGH,
    Level.HIGH: Level.MEDIUM,
    Level.MEDIUM: Level.LOW,
    Level.LOW: Level.LOW,
    Level.NONE: Level.NONE,
}
_KEY_RANK = {  # weakest first: the worst copy's keys decide
    KeyControl.UNKNOWN: 0,
    KeyControl.PROVIDER_MANAGED: 0,
    KeyControl.CUSTOMER_MANAGED: 1,
    KeyControl.EXTERNAL: 2,
    KeyControl.CLIENT_SIDE: 3,
}


def viewpoint(
    kb: KnowledgeBase,
    home: Iterable[str],
    trusted: Iterable[str] = (),
    *,
    at: date | None = None,
    partners: Iterable[str] | None = None,
    reading: Reading | None = None,
) -> Viewpoint:
    """A viewpoint from bloc ids and ISO codes (e.g. ["EU"], ["DE", "AT"], ["US"]), read at `at` (default today).

    Trusted states are named one by one (ISO codes): tolerating a state's reach is a choice per state, and an
    adequacy decision is never one. Raises ValueError naming the first token that does not fit.
    """
    home_tokens = [t.strip().upper() for t in home if t.strip()]
    trusted_tokens = [t.strip().upper() for t in trusted if t.strip()]
    if not home_tokens:
        raise ValueError("a viewpoint needs at least one home bloc or country")
    day = at or date.today()
    home_states = _expand(kb, home_tokens, day)
    trusted_states: set[str] = set()
    for token in trusted_tokens:
        if token in kb.blocs:
            raise ValueError(
                f"{token!r} is a bloc: trust states one by one (ISO codes), each a choice of its own; an adequacy "
                "decision says where copies may sit, not whose compulsion is tolerable"
            )
        trusted_states |= _expand(kb, [token], day)
    partner_states = _expand(kb, partners, day) if partners is not None else kb.partners_of(home_states, day)
    label = "+".join(home_tokens) + (f" (trusting {'+'.join(trusted_tokens)})" if trusted_tokens else "")
    return Viewpoint(
        label=label,
        home=home_states,
        trusted=frozenset(trusted_states),
        partners=frozenset(partner_states - home_states - trusted_states),
        at=at,
        reading=reading or Reading(),
    )


def _expand(kb: KnowledgeBase, tokens: Iterable[str], day: date) -> frozenset[str]:
    members: set[str] = set()
    for raw in tokens:
        token = raw.strip().upper()
        if token in kb.blocs:
            members |= kb.states_of(token, day)
        elif token in kb.countries:
            members.add(token)
        else:
            known = ", ".join(sorted(kb.blocs))
            raise ValueError(f"{token!r} is neither a bloc ({known}) nor an ISO 3166-1 alpha-2 country code")
    return frozenset(members)


def reach_of(kb: KnowledgeBase, location: Location, at: date | None = None) -> list[Reach]:
    """Every state that can compel disclosure of a copy in `location` on `at`, with the basis and the instruments."""
    day = at or date.today()
    op = location.operator
    found: list[Reach] = []
    for country in location.countries:
        # the general principle, plus the state's own laws over data on its soil (e.g. the PRC Data Security Law)
        laws = _instruments(kb, "territorial", "*", day) + _instruments(kb, "territorial", country, day)
        found.append(Reach(country, ReachBasis.TERRITORIAL, location.code, laws))
    for state in op.controlled_from:
        found.append(Reach(state, ReachBasis.OPERATOR, op.id, _instruments(kb, "operator", state, day)))
    for state in op.parent_controlled_from:
        if state not in op.controlled_from:
            found.append(Reach(state, ReachBasis.PARENT, op.id, _instruments(kb, "operator", state, day)))
    controllers = set(op.controlled_from) | set(op.parent_controlled_from)
    offered = frozenset(s for token in op.offers_services_in for s in kb.states_of(token, day))
    for ins in kb.instruments.values():
        if not ins.applies_at(day):
            continue
        if (
            (ins.applies == "services" and kb.states_of(ins.services_in or ins.state, day) & offered)
            or (ins.applies == "agreement" and ins.through in controllers)
            or (ins.applies == "presence" and ins.state in op.presence_in and ins.state not in controllers)
        ):
            found.append(Reach(ins.state, ReachBasis.REGIME, ins.id, (ins.id,)))
    return found


def _instruments(kb: KnowledgeBase, applies: str, state: str, day: date) -> tuple[str, ...]:
    return tuple(
        i.id for i in kb.instruments.values() if i.applies == applies and i.state == state and i.applies_at(day)
    )


def _is_foreign(kb: KnowledgeBase, view: Viewpoint, state: str) -> bool:
    # a bloc reaches as any of its members: foreign as soon as one member is foreign
    return any(view.is_foreign(s) for s in kb.states_of(state, view.at))


def tier_of(kb: KnowledgeBase, view: Viewpoint, state: str) -> str:
    """A state's (or bloc's) tier from the viewpoint: a bloc takes its worst foreign member's."""
    tiers = {view.tier(s) for s in kb.states_of(state, view.at)}
    for t in ("other", "partner", "trusted"):
        if t in tiers:
            return t
    return "home"


def weight_of(kb: KnowledgeBase, r: Reach) -> str:
    """The heaviest weight among a reach's instruments (standard when it rests on none)."""
    weights = [kb.instruments[i].weight for i in r.instruments if i in kb.instruments]
    return max(weights, key=WEIGHTS.index) if weights else "standard"


def grade(kb: KnowledgeBase, view: Viewpoint, r: Reach) -> Level:
    """The level one foreign reach earns on the grid (the reading's cells first, then the default grid)."""
    tier = tier_of(kb, view, r.state)
    if tier in ("home", "trusted"):
        return Level.NONE
    weight = weight_of(kb, r)
    for basis, t, w, level in view.reading.grid:
        if (basis, t, w) == (str(r.basis), tier, weight):
            return Level(level)
    return GRID[(str(r.basis), tier)][WEIGHTS.index(weight)]


def assess(kb: KnowledgeBase, footprint: Sequence[Copy], key_control: KeyControl, view: Viewpoint) -> Assessment:
    """Assess one footprint from one viewpoint. Pure: same inputs, same assessment, reasons included."""
    day = view.at or date.today()
    reasons: list[str] = []
    reach: list[Reach] = []
    unknown: list[str] = []
    countries: set[str] = set()
    per_copy: list[tuple[Copy, list[Reach]]] = []
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
        found = reach_of(kb, loc, day)
        per_copy.append((copy, found))
        reach.extend(found)

    reach = list(dict.fromkeys(reach))
    reasons.extend(_operator_reasons(kb, footprint))
    foreign = [r for r in reach if _is_foreign(kb, view, r.state)]
    for r in foreign:
        reasons.append(f"{reach_reason(kb, r)} [{tier_of(kb, view, r.state)} state, {weight_of(kb, r)} → "
                       f"{grade(kb, view, r)}]")  # fmt: skip
    reasons.extend(_adequacy_reasons(kb, view, foreign, day))

    if not footprint:
        unknown.append("(no copy)")
        reasons.append("no copy of the data was found: location unknown")
    if unknown:
        level = Level.UNKNOWN
        reasons.append(f"level unknown: {len(unknown)} cop{'y' if len(unknown) == 1 else 'ies'} of unknown location")
    else:
        level = Level.NONE
        base_all = Level.NONE
        for copy, found in per_copy:
            base = max((grade(kb, view, r) for r in found if _is_foreign(kb, view, r.state)), default=Level.NONE)
            base_all = max(base_all, base)
            keys = copy.key_control or key_control
            level = max(level, _mitigate(base, keys, view, [] if copy.key_control is None else reasons, copy))
        reasons.append(f"base level {base_all}: {_level_why(base_all, view)}")
        worst = min((c.key_control or key_control for c, _ in per_copy), key=_KEY_RANK.__getitem__, default=key_control)
        if any(c.key_control is not None for c, _ in per_copy):
            reasons.append(f"keys differ between copies: the worst copy decides (weakest: {worst})")
        _mitigate(base_all, worst, view, reasons, None)
        if level != base_all:
            reasons.append(f"level {level} after key control")

    return Assessment(
        level=level,
        countries=tuple(sorted(countries)),
        reach=tuple(reach),
        foreign_reach=tuple(sorted({r.state for r in foreign})),
        reasons=tuple(reasons),
    )


def _mitigate(level: Level, keys: KeyControl, view: Viewpoint, reasons: list[str], copy: Copy | None) -> Level:
    """A copy's level after key control, under the viewpoint's reading (EDPB Recommendations 01/2020 by default)."""
    if level is Level.NONE:
        return level
    whose = f"{copy.role} copy in {copy.code}: " if copy is not None else ""
    reading = view.reading
    lenient = reading.keys == "lenient"
    by = f" (lenient key reading chosen by {reading.label or 'the profile'})" if lenient else " (EDPB Recs 01/2020)"
    if keys is KeyControl.CUSTOMER_MANAGED:
        if lenient:
            out = _STEP_DOWN[level]
            reasons.append(f"{whose}key control {keys}: level {level} lowered one step to {out}{by}")
            return out
        reasons.append(
            f"{whose}key control {keys}: no change{by}: the provider runs the KMS and decrypts on every read, so a "
            "compelled provider can still produce plaintext (the key is revocable and its use logged)"
        )
        return level
    if keys is KeyControl.EXTERNAL or (keys is KeyControl.CLIENT_SIDE and not lenient and not _custody_ok(view)):
        if lenient:
            out = min(level, Level.LOW)
            reasons.append(f"{whose}key control {keys}: level {level} capped at {out}{by}")
            return out
        out = _STEP_DOWN[level]
        why = (
            "the provider still fetches the key and holds plaintext while serving reads"
            if keys is KeyControl.EXTERNAL
            else "the key custody is not declared at home or in a trusted state"
        )
        reasons.append(f"{whose}key control {keys}: level {level} lowered at most one step, to {out}{by}: {why}")
        return out
    if keys is KeyControl.CLIENT_SIDE:
        out = min(level, Level.LOW)
        where = ", ".join(sorted(view.reading.key_custody)) or "declared"
        reasons.append(
            f"{whose}key control {keys} with key custody in {where}: a compelled provider holds only ciphertext; "
            f"level {level} capped at {out}{by}"
        )
        return out
    reasons.append(f"{whose}key control {keys}: no mitigation; the provider can produce plaintext")
    return level


def _custody_ok(view: Viewpoint) -> bool:
    custody = view.reading.key_custody
    return bool(custody) and all(s in view.home or s in view.trusted for s in custody)


def _adequacy_reasons(kb: KnowledgeBase, view: Viewpoint, foreign: Sequence[Reach], day: date) -> list[str]:
    """Why an adequacy decision does not make a foreign state's reach tolerable (EEA viewpoints only)."""
    if not view.home & kb.states_of("EEA"):
        return []
    out: list[str] = []
    for state in dict.fromkeys(r.state for r in foreign):
        decision = kb.adequacy_for(state, day)
        if decision is None:
            continue
        scope = "" if decision.full else f"; scope: {decision.scope}"
        text = (
            f"{state} has an EU adequacy decision ({decision.decision}{scope}): it decides where copies may sit, not "
        )
        text += f"whose compulsion is tolerable{'; ' + decision.note if decision.note else ''}"
        out.append(f"{text} {cite(decision.sources)}")
    return out


def _level_why(level: Level, view: Viewpoint) -> str:
    return {
        Level.CRITICAL: f"a copy sits outside the viewpoint ({view.label}) in a state that is not a partner, or "
        "under a heavy instrument",
        Level.HIGH: "an operator is controlled from a foreign state, or a copy sits in a partner state",
        Level.MEDIUM: "an operator's parent is foreign-controlled, an operator is controlled from a partner, or a "
        "heavy extraterritorial regime reaches it",
        Level.LOW: "only lighter extraterritorial regimes give foreign reach",
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
        if op.note:
            text += f" ({op.note})"
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
        if r.via == "eu-e-evidence":
            head += " (cross-border orders only; Denmark does not take part)"
    return f"{head}: {law_text}" if law_text else head


def _law(ins: Instrument) -> str:
    # the instrument's id is its knowledge-base key: its title, full citation and sources are there (and in explain)
    return f"{ins.short} [{ins.id}]"


def cite(sources: Iterable[str]) -> str:
    """Source ids as a reason cites them: [a, b]."""
    return "[" + ", ".join(sources) + "]"
