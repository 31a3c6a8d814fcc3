"""Rich renderables for the terminal. Pure: they build tables, the CLI prints them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .knowledge import KnowledgeBase
from .model import Assessment, Level, Location, Resource, Skip

LEVEL_STYLE = {
    Level.NONE: "green",
    Level.LOW: "cyan",
    Level.MEDIUM: "yellow",
    Level.HIGH: "red",
    Level.CRITICAL: "bold red",
    Level.UNKNOWN: "bold magenta",
}


def level_text(level: Level) -> Text:
    """A level, coloured by severity."""
    return Text(str(level), style=LEVEL_STYLE[level])


def regions_table(locations: Sequence[Location]) -> Table:
    """The knowledge base's locations, one row each."""
    table = Table(title=f"{len(locations)} locations", show_lines=False)
    table.add_column("provider")
    table.add_column("location", no_wrap=True)
    for col in ("name", "kind", "countries", "city", "operator", "controlled from", "pair", "status"):
        table.add_column(col, overflow="fold")
    for loc in locations:
        op = loc.operator
        controlled = ",".join(op.controlled_from)
        if op.parent_controlled_from:
            controlled += f" (parent {','.join(op.parent_controlled_from)})"
        table.add_row(
            str(loc.provider),
            loc.code,
            loc.name,
            str(loc.kind),
            ",".join(loc.countries) or "unknown",
            loc.city or "",
            op.id,
            controlled,
            loc.paired_region or "",
            str(loc.status),
        )
    return table


def explain_view(kb: KnowledgeBase, loc: Location, assessment: Assessment, viewpoint: str) -> RenderableType:
    """One location's facts, its assessment from a viewpoint, and the reasons."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    op = loc.operator
    rows = [
        ("location", f"{loc.key} — {loc.name}"),
        ("kind", str(loc.kind) + (f" of {', '.join(loc.members)}" if loc.members else "")),
        ("countries", ", ".join(f"{c} ({kb.countries.get(c, '?')})" for c in loc.countries) or "unknown"),
        ("city", loc.city or "not published"),
        ("cloud", loc.cloud),
        ("operator", f"{op.name}, controlled from {', '.join(op.controlled_from)}"),
    ]
    if op.parent:
        rows.append(("parent", f"{op.parent}, controlled from {', '.join(op.parent_controlled_from)}"))
    if loc.paired_region:
        rows.append(("paired region", loc.paired_region))
    rows += [
        ("status", str(loc.status)),
        ("sources", ", ".join(loc.sources)),
        ("as of", loc.as_of.isoformat()),
    ]
    if loc.note:
        rows.append(("note", loc.note))
    for key, value in rows:
        facts.add_row(key, value)

    verdict = Table.grid(padding=(0, 2))
    verdict.add_column(style="bold")
    verdict.add_column()
    verdict.add_row("viewpoint", viewpoint)
    verdict.add_row("exposure", level_text(assessment.level))
    verdict.add_row("foreign reach", ", ".join(assessment.foreign_reach) or "none")
    reasons = Text()
    for i, reason in enumerate(assessment.reasons, 1):
        reasons.append(f"{i:>2}. {reason}\n")
    return Group(facts, Text(""), verdict, Text("\nreasons", style="bold"), reasons)


def scan_view(resources: Sequence[Resource], skipped: Sequence[Skip], viewpoint: str) -> RenderableType:
    """The scan's risk table: a summary by exposure and country, the resources worst first, and every skip."""
    levels = Counter(r.assessment.level for r in resources if r.assessment)
    summary = Table(title=f"exposure from {viewpoint}", show_header=True)
    summary.add_column("level")
    summary.add_column("resources", justify="right")
    for level in reversed(Level):
        if levels.get(level):
            summary.add_row(level_text(level), str(levels[level]))

    by_country = Counter(c for r in resources for c in r.countries)
    countries = Table(title="copies by country", show_header=True)
    countries.add_column("country")
    countries.add_column("resources", justify="right")
    for country, n in sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0])):
        countries.add_row(country, str(n))

    table = Table(title=f"{len(resources)} data stores", show_lines=False)
    for col in (
        "level",
        "provider",
        "account",
        "service",
        "name",
        "footprint",
        "countries",
        "keys",
        "foreign reach",
    ):
        table.add_column(col, overflow="fold")
    ordered = sorted(resources, key=lambda r: (-(r.assessment.level.rank if r.assessment else 99), r.provider, r.id))
    for r in ordered:
        a = r.assessment
        footprint = ", ".join(
            (c.location.code if c.location else f"{c.code or '(empty)'}?")
            + ("" if c.role == "primary" else " (replica)")
            for c in r.footprint
        )
        table.add_row(
            level_text(a.level) if a else Text("-"),
            str(r.provider),
            r.account,
            r.service,
            r.name,
            footprint,
            ",".join(r.countries) or "unknown",
            str(r.key_control),
            ",".join(a.foreign_reach) if a else "",
        )
    parts: list[RenderableType] = [Columns([summary, countries]), table]
    if skipped:
        skips = Table(title=f"{len(skipped)} skipped: the scan is incomplete", title_style="bold yellow")
        skips.add_column("provider")
        skips.add_column("scope", overflow="fold")
        skips.add_column("reason", overflow="fold")
        for s in skipped:
            skips.add_row(str(s.provider), s.scope, s.reason)
        parts.append(skips)
    else:
        parts.append(Text("nothing skipped: the scan is complete", style="green"))
    return Group(*parts)
