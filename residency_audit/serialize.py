"""Plain-JSON forms of the model: the contract other tools read. Extend freely; never rename a field."""

from __future__ import annotations

from datetime import date
from typing import Any

from .knowledge import Instrument
from .model import Assessment, Copy, Finding, Location, Reach, Resource, Skip, Waiver
from .profiles import Profile
from .rules import RULES


def location(loc: Location) -> dict[str, Any]:
    """A location as `regions --format json` and `explain --format json` print it."""
    op = loc.operator
    return {
        "provider": str(loc.provider),
        "location": loc.code,
        "name": loc.name,
        "kind": str(loc.kind),
        "countries": list(loc.countries),
        "city": loc.city,
        "operator": op.name,
        "operator_id": op.id,
        "controlled_from": list(op.controlled_from),
        "operator_parent": op.parent,
        "parent_controlled_from": list(op.parent_controlled_from),
        "cloud": loc.cloud,
        "paired_region": loc.paired_region,
        "members": list(loc.members),
        "status": str(loc.status),
        "note": loc.note,
        "sources": list(loc.sources),
        "as_of": loc.as_of.isoformat(),
    }


def reach(r: Reach) -> dict[str, Any]:
    """One state's reach over a footprint."""
    return {"state": r.state, "basis": str(r.basis), "via": r.via, "instruments": list(r.instruments)}


def assessment(a: Assessment) -> dict[str, Any]:
    """An assessment: level, foreign reach and the reasons behind them."""
    return {
        "level": str(a.level),
        "foreign_reach": list(a.foreign_reach),
        "countries": list(a.countries),
        "reach": [reach(r) for r in a.reach],
        "reasons": list(a.reasons),
    }


def copy(c: Copy) -> dict[str, Any]:
    """One copy in a footprint."""
    loc = c.location
    return {
        # the knowledge base's code ("" and "EU" from S3 become us-east-1 and eu-west-1); the raw value if unknown
        "location": loc.code if loc else c.code,
        "reported_as": c.code,
        "known": loc is not None,
        "countries": list(loc.countries) if loc else [],
        "role": str(c.role),
        "note": c.note,
    } | ({"key_control": str(c.key_control)} if c.key_control is not None else {})


def resource(r: Resource, with_assessment: bool = True) -> dict[str, Any]:
    """A scanned resource, with its footprint and (last, as reportfile.py relies on) its assessment."""
    data = {
        "provider": str(r.provider),
        "account": r.account,
        "service": r.service,
        "type": r.type,
        "id": r.id,
        "name": r.name,
        "footprint": [copy(c) for c in r.footprint],
        "countries": list(r.countries),
        "key_control": str(r.key_control),
        "key_note": r.key_note,
        "classification": r.classification,
        "tags": dict(sorted(r.tags.items())),
    }
    if with_assessment:
        data["assessment"] = assessment(r.assessment) if r.assessment else None
    return data


def skip(s: Skip) -> dict[str, Any]:
    """Something the scan could not read."""
    return {"provider": str(s.provider), "scope": s.scope, "reason": s.reason}


def waiver(w: Waiver, today: date | None = None) -> dict[str, Any]:
    """A profile's waiver."""
    return {
        "resource": w.resource,
        "rule": w.rule,
        "reason": w.reason,
        "expires": w.expires.isoformat(),
        "expired": w.expires < (today or date.today()),
    }


def finding(f: Finding) -> dict[str, Any]:
    """A finding, with its rule's metadata from the registry."""
    rule = RULES[f.rule]
    return {
        "rule": f.rule,
        "rule_name": rule.name,
        "title": rule.title,
        "severity": f.severity,
        "provider": str(f.provider),
        "account": f.account,
        "service": f.service,
        "resource": f.resource_id,
        "name": f.resource_name,
        "message": f.message,
        "reasons": list(f.reasons),
        "remediation": rule.remediation,
        "waived": f.waived,
        "waiver": waiver(f.waiver) | {"expired": f.expired_waiver} if f.waiver else None,
        "fingerprint": f.fingerprint,
    }


def profile(p: Profile) -> dict[str, Any]:
    """The profile a report was evaluated with, its overrides and waivers recorded."""
    return {
        "name": p.name,
        "description": p.description,
        "source": p.source,
        "overrides": [
            {
                "target": o.target,
                "kind": o.kind,
                "field": o.field,
                "value": list(o.value) if isinstance(o.value, tuple) else o.value,
                "reason": o.reason,
            }
            for o in p.overrides
        ],
        "waivers": [waiver(w) for w in p.waivers],
        "tolerated": [{"state": state, "reason": reason, "as": kind} for state, reason, kind in p.reasons],
        "reading": {"keys": p.reading.keys, "keys_reason": p.keys_reason, "key_custody": sorted(p.reading.key_custody),
                    "grade": [dict(zip(("basis", "tier", "weight", "level"), c, strict=True)) for c in p.reading.grid]},
        "accept_unassessed": list(p.accept_unassessed),
    }  # fmt: skip


def instrument(i: Instrument) -> dict[str, Any]:
    """A legal instrument, as `explain` lists the laws an assessment cites."""
    return {
        "id": i.id,
        "title": i.title,
        "citation": i.citation,
        "state": i.state,
        "applies": i.applies,
        "in_force": i.in_force.isoformat() if i.in_force else None,
        "expires": i.expires.isoformat() if i.expires else None,
        "review_by": i.review_by.isoformat() if i.review_by else None,
        "weight": i.weight,
        "status": i.status,
        "summary": i.summary,
        "sources": list(i.sources),
    }
