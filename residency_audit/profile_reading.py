"""How a profile reads the law: tolerated states with their reasons, partial adequacy scopes, grid cells.

Each is an explicit choice, and the report records it.
"""

from __future__ import annotations

from datetime import date

from .knowledge import WEIGHTS, KnowledgeBase
from .model import Level, ReachBasis
from .profile_fields import _show, _Table


def _reasons(trusted: list[tuple[str, str]], tolerated: list[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    return tuple([(s, r, "trusted") for s, r in trusted] + [(s, r, "tolerated") for s, r in tolerated])


KEY_READINGS = ("edpb", "lenient")
_BASES = tuple(str(b) for b in ReachBasis)
_TIERS = ("partner", "other")


def _tolerated(t: _Table, key: str) -> list[tuple[str, str]]:
    """A list of {state, reason} tables: tolerating a state's reach is a choice per state, with its reason."""
    value = t.get(key, list)
    if value is None:
        return []
    out: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        fix = f'write {key} = [{{ state = "CH", reason = "why your counsel tolerates its reach" }}]'
        if not isinstance(item, dict):
            raise t.fail(f"{key}[{i}]", f"must be a table with a state and a reason ({fix}), got {_show(item)}")
        entry = _Table(t.where, f"{t.prefix}.{key}[{i}]", item, t.kb, t.at)
        state = entry.get("state", str)
        if not state:
            raise entry.fail("state", f"missing: the ISO country code of the state ({fix})")
        token = state.strip().upper()
        if token in t.kb.blocs:
            raise entry.fail(
                "state",
                f"{state!r} is a bloc: name each state on its own. An adequacy decision decides where copies may sit "
                "([copies].allowed), never whose compulsion is tolerable",
            )
        if token not in t.kb.countries:
            raise entry.fail("state", f"{state!r} is not an ISO 3166-1 alpha-2 country code (e.g. CH, GB)")
        reason = entry.get("reason", str)
        if not reason or not reason.strip():
            raise entry.fail("reason", "every tolerated state needs a reason: it is recorded in every report")
        entry.done()
        if token in (s for s, _ in out):
            raise t.fail(f"{key}[{i}]", f"{token} is listed twice")
        out.append((token, reason))
    return out


def _scoped(kb: KnowledgeBase, day: date, t: _Table, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Countries allowed only because of a partial-scope adequacy decision named through EU-ADEQUACY."""
    tokens = {str(v).strip().upper() for k in keys for v in (t.data.get(k) or []) if isinstance(v, str)}
    if "EU-ADEQUACY" not in tokens:
        return ()
    explicit = {s for tok in tokens - {"EU-ADEQUACY"} for s in kb.states_of(tok, day)}
    full = {a.country for a in kb.adequacy if a.in_force(day) and a.full}
    out = {}
    for a in kb.adequacy:
        if a.in_force(day) and not a.full and a.country not in explicit | full and a.country not in out:
            out[a.country] = f"{a.scope} ({a.decision})"
    return tuple(sorted(out.items()))


def _grid(t: _Table) -> tuple[tuple[str, str, str, str], ...]:
    """[grade.<basis>.<tier>] <weight> = "<level>" cells replacing the default grid (docs/exposure-model.md)."""
    cells: list[tuple[str, str, str, str]] = []
    for basis in list(t.data):
        if basis not in _BASES:
            raise t.fail(basis, f"is not a basis of reach; bases: {', '.join(_BASES)}")
        by_tier = _Table(t.where, f"grade.{basis}", t.get(basis, dict), t.kb, t.at)
        for tier in list(by_tier.data):
            if tier not in _TIERS:
                raise by_tier.fail(tier, f"is not a foreign tier; tiers: {', '.join(_TIERS)}")
            cell = _Table(t.where, f"grade.{basis}.{tier}", by_tier.get(tier, dict), t.kb, t.at)
            for weight in list(cell.data):
                if weight not in WEIGHTS:
                    raise cell.fail(weight, f"is not an instrument weight; weights: {', '.join(WEIGHTS)}")
                level = cell.choice(weight, Level, None)
                if level in (Level.UNKNOWN, None):
                    raise cell.fail(weight, "must be none, low, medium, high or critical")
                cells.append((basis, tier, weight, str(level)))
            cell.done()
        by_tier.done()
    t.done()
    return tuple(cells)
