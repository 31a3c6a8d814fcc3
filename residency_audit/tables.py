"""Rich renderables for the terminal. Pure: they build tables, the CLI prints them."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .fitted import FittedTable, Step
from .knowledge import Instrument, KnowledgeBase
from .model import Assessment, Finding, Level, Location, Resource, Skip
from .rules import RULES
from .safe import terminal, visible

if TYPE_CHECKING:
    from .coverage import Coverage
    from .profiles import Profile

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
    laws = Text()
    for ins in instruments_in(kb, assessment):
        laws.append(f"[{ins.id}] ", style="bold")
        laws.append(f"{ins.title} — {ins.citation}. {ins.summary} Sources: {', '.join(ins.sources)}.\n")
    return Group(
        facts, Text(""), verdict, Text("\nreasons", style="bold"), reasons, Text("laws cited", style="bold"), laws
    )


def instruments_in(kb: KnowledgeBase, assessment: Assessment) -> list[Instrument]:
    """The legal instruments an assessment's reach rests on, once each."""
    ids = dict.fromkeys(i for r in assessment.reach for i in r.instruments)
    return [kb.instruments[i] for i in ids if i in kb.instruments]


def render_text(renderable: object, plain: bool, width: int | None = None) -> str:
    """Render to text: styled for this terminal, or plain and wide (for a file)."""
    if plain:
        buffer = io.StringIO()
        Console(file=buffer, width=width or 200, color_system=None, force_terminal=False).print(renderable)
        return buffer.getvalue()
    console = Console(width=width) if width else Console()
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


@dataclass
class TableData:
    """What the risk table shows, gathered in one pass: counts, and the few rows it lists."""

    levels: Mapping[str, int]
    countries: Mapping[str, int]
    total: int
    worst: list[Resource]  # the ROW_LIMIT most exposed, in order
    skipped: Sequence[Skip]
    findings_total: int
    first_findings: list[Finding]  # the ROW_LIMIT most severe, in order
    counts: Mapping[str, int]


def view_of(
    data: TableData, viewpoint: str, gate: tuple[Profile, str] | None, coverage: Coverage | None = None
) -> RenderableType:
    """The risk table: findings first, a summary by exposure and country, the resources worst first, every skip."""
    parts: list[RenderableType] = []
    if gate is not None:
        parts.append(_findings_table(data, gate[0]))
    summary = Table(title=f"exposure from {visible(viewpoint)}", show_header=True)
    summary.add_column("level")
    summary.add_column("resources", justify="right")
    for level in reversed(Level):
        if data.levels.get(str(level)):
            summary.add_row(level_text(level), str(data.levels[str(level)]))
    countries = Table(title="copies by country", show_header=True)
    countries.add_column("country")
    countries.add_column("resources", justify="right")
    for country, n in sorted(data.countries.items(), key=lambda kv: (-kv[1], kv[0])):
        countries.add_row(terminal(country), str(n))

    caption = None
    if data.total > ROW_LIMIT:
        caption = f"the {ROW_LIMIT} most exposed of {data.total}: every resource is in --format json, csv or html"
    rows: list[dict[str, str | Text]] = []
    for r in data.worst:
        a = r.assessment
        footprint = ", ".join(
            (c.location.code if c.location else f"{c.code or '(empty)'}?")
            + ("" if c.role == "primary" else " (replica)")
            for c in r.footprint
        )
        rows.append(
            {
                "level": level_text(a.level) if a else Text("-"),
                "provider": str(r.provider),
                "account": terminal(r.account),
                "service": terminal(r.service),
                "name": terminal(r.name),
                "footprint": terminal(footprint),
                # ", " lets a long list (the 27 countries of GCS's EU) wrap between codes, never inside one
                "countries": ", ".join(r.countries) or "unknown",
                "keys": str(r.key_control),
                "foreign reach": ", ".join(a.foreign_reach) if a else "",
            }
        )
    table = FittedTable(f"{data.total} data stores", _COLUMNS, rows, _NARROWING, caps={"name": NAME_CAP},
                        caption=caption)  # fmt: skip
    parts += [Columns([summary, countries]), table]
    if data.skipped:
        skips = Table(title=f"{len(data.skipped)} skipped: the scan is incomplete", title_style="bold yellow")
        skips.add_column("provider")
        skips.add_column("scope", overflow="fold")
        skips.add_column("reason", overflow="fold")
        for s in data.skipped:
            skips.add_row(str(s.provider), terminal(s.scope), terminal(s.reason))
        parts.append(skips)
    else:
        if coverage is not None and coverage.incomplete:
            parts.append(
                Text("nothing skipped, but data-bearing resources were not assessed: incomplete", style="yellow")
            )
        else:
            parts.append(Text("nothing skipped: the scan is complete", style="green"))
    if coverage is not None:
        parts.append(_coverage_view(coverage))
    if gate is not None:
        parts.append(_verdict_line(gate[1], data.counts))
    return Group(*parts)


def _coverage_view(coverage: Coverage) -> RenderableType:
    """The coverage line, and a table of the data-bearing types not assessed and the unknown types."""
    line = Text(f"coverage: {coverage.line()}", style="yellow" if coverage.incomplete else "green")
    rows = [*coverage.unassessed, *coverage.accepted, *coverage.unknown]
    if not rows:
        return line
    cells = [
        {
            "provider": str(t.provider),
            "type": t.type + (f" ({t.name})" if t.name else ""),
            "category": t.category,
            "found": str(t.found),
            "not assessed": str(t.found - t.assessed),
            "where": ", ".join(t.locations) or "-",
            "why": t.reason or "-",
        }
        for t in rows
    ]
    table = FittedTable("not assessed", _COVERAGE_COLUMNS, cells, _COVERAGE_NARROWING, caps={"type": 34},
                        title_style="bold yellow")  # fmt: skip
    return Group(line, table)


# The data-store table narrows in this order: account under the name, service after the provider, then keys,
# footprint, provider (with its service) and foreign reach are left out; a name longer than NAME_CAP still folds.
_COLUMNS = ("level", "provider", "account", "service", "name", "footprint", "countries", "keys", "foreign reach")
_NARROWING = (
    Step("account", "name"),
    Step("service", "provider", below=False),
    Step("keys"),
    Step("footprint"),
    Step("provider"),
    Step("foreign reach"),
)
NAME_CAP = 28
# the coverage table: the type's name (capped: Microsoft.RecoveryServices/vaults is one word) and why matter most
_COVERAGE_COLUMNS = ("provider", "type", "category", "found", "not assessed", "where", "why")
_COVERAGE_NARROWING = (Step("category"), Step("found"), Step("provider", "type"), Step("where"))


# A terminal table of 100,000 rows helps nobody and takes minutes to lay out; the file formats carry everything.
ROW_LIMIT = 200

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def _findings_table(data: TableData, profile: Profile) -> Table:
    title = f"{data.findings_total} findings · profile {profile.name} ({profile.source})"
    table = Table(title=escape(visible(title)), show_lines=False)
    for col in ("severity", "rule", "resource", "message"):
        table.add_column(col, overflow="fold")
    if data.findings_total > ROW_LIMIT:
        table.caption = (
            f"the first {ROW_LIMIT} of {data.findings_total} findings: all are in --format json, sarif or html\n"
        )
    for f in data.first_findings:
        severity = Text("waived", style="dim") if f.waived else Text(f.severity, style=_SEVERITY_STYLE[f.severity])
        rule = RULES[f.rule]
        extra = f" — waived until {f.waiver.expires}: {f.waiver.reason}" if f.waived and f.waiver else ""
        table.add_row(severity, f"{f.rule} {rule.title}", terminal(f"{f.provider}:{f.resource_name}"),
                      terminal(f.message + extra))  # fmt: skip
    for o in profile.overrides:
        caption = f"override {o.target}.{o.field} = {o.value!r}: {o.reason}"
        table.caption = (table.caption or "") + escape(visible(caption)) + "\n"
    return table


def _verdict_line(verdict: str, c: Mapping[str, int]) -> Text:
    style = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}[verdict]
    return Text(
        f"verdict: {verdict} — {c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s), "
        f"{c['waived']} waived",
        style=style,
    )
