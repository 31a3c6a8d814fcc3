"""Policy evaluation: assessed resources + a profile → findings, and findings + skips → the gate's verdict.

Pure functions. The profile's overrides change knowledge-base facts before assessment (`apply_overrides`); its
viewpoint decides what is foreign; its rules turn assessments into findings with stable rule ids (rules.py).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from .classify import cite, reach_reason, viewpoint
from .knowledge import KnowledgeBase
from .model import Finding, KeyControl, Level, Location, Resource, Viewpoint, Waiver
from .profiles import ClassificationRule, Profile
from .rules import Severity

EXIT_OK, EXIT_VIOLATIONS, EXIT_INCOMPLETE = 0, 1, 3
_WEAKEST_FIRST = (KeyControl.UNKNOWN, KeyControl.PROVIDER_MANAGED, KeyControl.CUSTOMER_MANAGED, KeyControl.EXTERNAL,
                  KeyControl.CLIENT_SIDE)  # fmt: skip


def apply_overrides(kb: KnowledgeBase, profile: Profile) -> KnowledgeBase:
    """The knowledge base with the profile's overrides applied (operators first, then locations)."""
    if not profile.overrides:
        return kb
    operators = dict(kb.operators)
    for o in profile.overrides:
        if o.kind == "operator":
            changes: dict[str, Any] = {o.field: tuple(o.value)}
            operators[o.target] = dataclasses.replace(operators[o.target], **changes)
    locations: list[Location] = []
    for loc in kb.locations:
        loc = dataclasses.replace(loc, operator=operators[loc.operator.id])
        for o in profile.overrides:
            if o.kind == "location" and o.target == loc.key:
                value: Any = o.value
                if o.field == "operator":
                    value = operators[o.value]
                elif o.field == "countries":
                    value = tuple(o.value)
                changes = {o.field: value}
                loc = dataclasses.replace(loc, **changes)
        locations.append(loc)
    return dataclasses.replace(kb, operators=operators, locations=tuple(locations))


def profile_viewpoint(kb: KnowledgeBase, profile: Profile, at: date | None = None) -> Viewpoint:
    """The viewpoint a profile measures from, reading the law at `at` (default today) the profile's way."""
    return viewpoint(kb, profile.home, profile.trusted, at=at, partners=profile.partners, reading=profile.reading)


def evaluate(resources: Iterable[Resource], profile: Profile, kb: KnowledgeBase, today: date) -> list[Finding]:
    """Every finding the profile raises on the (located and assessed) resources, waivers applied."""
    ev = Evaluator(profile, kb, today)
    findings = [f for r in resources for f in ev.resource(r)]
    return findings + ev.finish()


class Evaluator:
    """`evaluate` one resource at a time (a streamed report): `resource(r)` for each, then `finish()` once."""

    def __init__(self, profile: Profile, kb: KnowledgeBase, today: date) -> None:
        self.profile, self.kb, self.today = profile, kb, today
        self.view = profile_viewpoint(kb, profile)
        # Resources with the same assessment, keys (and key note), classification and copies raise the same
        # findings: derive them once (an estate of 100,000 buckets has a few dozen such groups), then stamp each
        # resource's identity on them. Each entry holds its assessment, so the id in the key cannot be reused by
        # another while it lives.
        self.memo: dict[tuple[object, ...], tuple[object, object, list[Finding]]] = {}
        # an expired waiver is itself a violation, reported once (at the end), on the first finding it covered
        self.first: dict[Waiver, Finding | None] = {w: None for w in profile.waivers if w.expires < today}

    def resource(self, r: Resource) -> list[Finding]:
        """The findings on one resource, in the order `evaluate` lists them."""
        # footprints are shared tuples (see pipeline.locate): found by identity, the entry holding the tuple
        key = (id(r.assessment), r.key_control, r.classification, r.key_note, id(r.footprint))
        hit = self.memo.get(key)
        if hit is None:
            if len(self.memo) > 50_000:  # unique footprints (a note per resource): stay bounded
                self.memo.clear()
            hit = self.memo[key] = (r.assessment, r.footprint, list(_check(r, self.profile, self.kb, self.view)))
        out = []
        waivers = self.profile.waivers
        for template in hit[2]:
            f = template.evolve(
                provider=r.provider, account=r.account, service=r.service, resource_id=r.id, resource_name=r.name
            )
            if waivers:
                f = _waive(f, waivers, self.today)
                if f.waiver in self.first and self.first[f.waiver] is None:
                    self.first[f.waiver] = f
            out.append(f)
        return out

    def finish(self) -> list[Finding]:
        """The findings raised by expired waivers, after every resource's."""
        return [_expired(f, w) for w, f in self.first.items() if f is not None]


def _rule_for(r: Resource, profile: Profile) -> ClassificationRule | None:
    if not r.classification:
        return None
    value = r.classification.lower()
    return next((c for c in profile.classifications if value in c.values), None)


def _check(r: Resource, profile: Profile, kb: KnowledgeBase, view: Viewpoint) -> Iterator[Finding]:
    a = r.assessment
    if a is None:
        return
    strict = _rule_for(r, profile)
    tag = f" (classification {r.classification!r})" if strict else ""

    def finding(rule: str, severity: Severity, message: str, reasons: Sequence[str]) -> Finding:
        return Finding(rule, str(severity), r.provider, r.account, r.service, r.id, r.name, message + tag,
                       tuple(reasons))  # fmt: skip

    unknown = [c for c in r.footprint if c.location is None or not c.location.countries]
    if unknown and profile.unknown != "ignore":
        severity = Severity.ERROR if profile.unknown == "violation" else Severity.WARNING
        codes = ", ".join(repr(c.code) for c in unknown)
        why = [reason for reason in a.reasons if "location unknown" in reason]
        yield finding("RA004", severity, f"{len(unknown)} copy/copies in unknown location(s): {codes}", why)

    allowed = strict.allowed if strict and strict.allowed is not None else profile.allowed
    replicas_allowed = (
        strict.replicas_allowed
        if strict and strict.replicas_allowed is not None
        else (strict.allowed if strict and strict.allowed is not None else profile.replicas_allowed)
    )
    outside, why, partial, partial_why = [], [], [], []
    scoped = dict(profile.scoped)
    for c in r.footprint:
        loc = c.location
        if loc is None or not loc.countries:
            continue
        permitted = allowed if c.role == "primary" else replicas_allowed
        if permitted is None:
            continue
        bad = sorted(set(loc.countries) - permitted)
        via = f" ({c.note})" if c.note else ""
        if bad:
            outside.append(f"{c.role} copy in {loc.code} ({', '.join(bad)})")
            why.append(f"{c.role} copy{via} in {loc.key} ({loc.name}) sits in {', '.join(loc.countries)} "
                       f"{cite(loc.sources)}")  # fmt: skip
        for country in sorted(set(loc.countries) & set(scoped)):
            partial.append(f"{c.role} copy in {loc.code} ({country})")
            partial_why.append(f"{c.role} copy{via} in {loc.key} sits in {country}, allowed only through an adequacy "
                               f"decision of partial scope: {scoped[country]} {cite(loc.sources)}")  # fmt: skip
    if outside:
        yield finding("RA001", profile.copies_severity,
                      f"{'; '.join(outside)} outside the allowed jurisdictions", why)  # fmt: skip
    elif partial:
        yield finding("RA001", Severity.WARNING,
                      f"{'; '.join(partial)} allowed only if the recipient is covered by the adequacy decision's "
                      "scope: confirm it (or waive this with the evidence)", partial_why)  # fmt: skip

    key_ok = strict.key_control if strict and strict.key_control is not None else profile.reach_key_control
    untolerated = sorted(
        {
            reach.state
            for reach in a.reach
            if reach.basis in profile.reach_bases
            and reach.state in a.foreign_reach
            and not (kb.states_of(reach.state, view.at) <= profile.reach_tolerated)
        }
    )
    # the worst copy's keys decide: a replica re-encrypted with weaker keys is where a compelled provider goes
    keys = [c.key_control or r.key_control for c in r.footprint] or [r.key_control]
    weak = [k for k in keys if k not in key_ok]
    if untolerated and weak:
        worst = min(weak, key=_WEAKEST_FIRST.index)
        need = ", ".join(str(k) for k in key_ok) or "no key control"
        why = [reach_reason(kb, x) for x in a.reach if x.state in untolerated and x.basis in profile.reach_bases]
        why.append(f"key control {worst}" + (f": {r.key_note}" if r.key_note else "")
                   + (" (the weakest of the copies' keys)" if len(set(keys)) > 1 else ""))  # fmt: skip
        yield finding(
            "RA002", profile.reach_severity,
            f"foreign reach by {', '.join(untolerated)} with {worst} keys (tolerated only with: {need})",
            list(dict.fromkeys(why)),
        )  # fmt: skip

    max_level = strict.max_level if strict and strict.max_level is not None else profile.max_level
    if max_level is not None and a.level is not Level.UNKNOWN and a.level > max_level:
        why = [reason for reason in a.reasons if reason.startswith(("base level", "key control", "level "))]
        yield finding("RA003", profile.exposure_severity,
                      f"exposure {a.level} is above the tolerated {max_level}", why)  # fmt: skip


def _waive(f: Finding, waivers: Sequence[Waiver], today: date) -> Finding:
    for w in waivers:
        if w.rule in ("*", f.rule) and _matches(w.resource, f.resource_id, f.resource_name):
            return dataclasses.replace(f, waiver=w, expired_waiver=w.expires < today)
    return f


@functools.lru_cache(maxsize=1024)
def _pattern(glob: str) -> re.Pattern[str]:
    """A waiver's glob: `*` any run of characters, `?` one; every other character is itself.

    `[` is literal, not fnmatch's character class: resource ids hold brackets (Terraform addresses such as
    `aws_s3_bucket.b["eu"]` or `b[0]`), and as a class `b["eu"]` waived `aws_s3_bucket.be` and not itself.
    """
    return re.compile(fnmatch.translate(glob.replace("[", "[[]")))


def _matches(glob: str, *texts: str) -> bool:
    pattern = _pattern(glob)
    return any(pattern.match(t) for t in texts)


def _expired(f: Finding, w: Waiver) -> Finding:
    return Finding(
        "RA005", str(Severity.ERROR), f.provider, f.account, f.service, f.resource_id, f.resource_name,
        f"waiver for {w.rule} on {w.resource!r} expired on {w.expires.isoformat()}: {w.reason}", (),
    )  # fmt: skip


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Unwaived findings per severity, and how many are waived."""
    out = {str(s): 0 for s in Severity} | {"waived": 0}
    for f in findings:
        if f.waived:
            out["waived"] += 1
        else:
            out[f.severity] += 1
    return out


def verdict(
    findings: Sequence[Finding], incomplete: bool, fail_on: Severity = Severity.ERROR, allow_incomplete: bool = False
) -> tuple[str, int]:
    """The gate's decision and exit code.

    ("fail", 1) on an unwaived finding at or above `fail_on`; else ("incomplete", 3) if anything was skipped
    (unless allowed); else ("pass", 0).
    """
    return verdict_of_counts(counts(findings), incomplete, fail_on, allow_incomplete)


def verdict_of_counts(
    c: Mapping[str, int], incomplete: bool, fail_on: Severity = Severity.ERROR, allow_incomplete: bool = False
) -> tuple[str, int]:
    """`verdict` from the counts of unwaived findings per severity (what a streamed report keeps)."""
    if any(c.get(str(s), 0) for s in Severity if s.rank >= fail_on.rank):
        return "fail", EXIT_VIOLATIONS
    if incomplete and not allow_incomplete:
        return "incomplete", EXIT_INCOMPLETE
    return "pass", EXIT_OK
