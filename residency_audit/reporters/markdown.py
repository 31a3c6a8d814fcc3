"""GitHub-flavoured Markdown for a pull-request comment: the verdict first, then findings, summary, skips, resources.

A comment holds at most 65,536 characters, so the output is kept under LIMIT: long tables end with a `… N more`
line, but the headline's counts (findings, skips, resources) are always whole.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any, TextIO

from ..safe import md_cell
from . import (
    LEVELS,
    Top,
    finding_counts,
    finding_order,
    footprint_text,
    foreign_reach,
    resource_level,
    resource_order,
    reverify_lines,
    verdict,
    worst_level,
)

LIMIT = 65_000
_ICON = {"pass": "✅", "fail": "❌", "incomplete": "⚠️"}
_RESERVE = 200  # room for the `… N more` lines and joins


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a Markdown PR comment of at most LIMIT characters."""
    writer = Writer()
    for r in report.get("resources", []):
        writer.resource(r)
    for f in report.get("findings", []):
        writer.finding(f)
    buffer = io.StringIO()
    writer.write(buffer, report, source_file)
    return buffer.getvalue()


# no row is shorter than these, so no more rows than this can fit in LIMIT characters: all a comment can show
_MAX_FINDING_ROWS = LIMIT // len("|  |  | : |  |") + 1
_MAX_RESOURCE_ROWS = LIMIT // len("|  |  |  |  |  |  |  |  |  |") + 1


class Writer:
    """Markdown written from a stream: counts, and only the rows a comment can hold."""

    lazy_findings = True  # a finding may come with only its ordering fields and `full()` for the rest

    def __init__(self) -> None:
        self.findings = Top(_MAX_FINDING_ROWS)
        self.resources = Top(_MAX_RESOURCE_ROWS)
        self.n_findings = self.n_resources = 0
        self.levels: Counter[str | None] = Counter()
        self.countries: Counter[str] = Counter()
        self.worst: dict[str, str | None] = {}
        self.groups: dict[tuple[int, str | None], list[Any]] = {}  # each holds its list: the id is not reused

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        self.n_resources += 1
        level = resource_level(r)
        self.levels[level] += 1
        # resources share their countries list (one per footprint): counted per list and level, folded in later
        countries = r.get("countries", [])
        group = self.groups.get((id(countries), level))
        if group is None or group[0] is not countries:
            if len(self.groups) >= 10_000:
                self._fold()
            group = self.groups[(id(countries), level)] = [countries, level, 0]
        group[2] += 1
        self.resources.add(resource_order(r), r)

    def _fold(self) -> None:
        for countries, level, n in self.groups.values():
            for country in countries:
                self.countries[country] += n
                self.worst[country] = worst_level((self.worst.get(country), level))
        self.groups.clear()

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        self.n_findings += 1
        self.findings.add(finding_order(f), f)

    def write(self, out: TextIO, report: dict[str, Any], source_file: str | None) -> None:
        """Write the comment."""
        self._fold()
        head = [
            _headline(report),
            "\n".join(f"> ⚠️ {cell(x)}" for x in reverify_lines(report)),
            _profile(report, source_file),
            self._summary(),
        ]
        fixed = "\n\n".join(part for part in head if part)
        budget = LIMIT - len(fixed) - _RESERVE
        # skips and findings matter more than the resource list: they take their share first
        skips = _skips(report, budget // 4)
        budget -= len(skips)
        findings = self._findings(report, budget * 2 // 3)
        budget -= len(findings)
        resources = self._resources(budget)
        text = "\n\n".join(part for part in (head[0], findings, *head[1:], skips, resources) if part) + "\n"
        out.write(_clip(text))

    def _summary(self) -> str:
        level_rows = [f"| {level} | {self.levels[level]} |" for level in reversed(LEVELS) if self.levels.get(level)]
        country_rows = [
            f"| {cell(c)} | {n} | {self.worst[c] or '-'} |"
            for c, n in sorted(self.countries.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        parts = [
            "#### Exposure",
            "| level | data stores |\n|---|---:|\n" + "\n".join(level_rows) if level_rows else "none",
        ]
        if country_rows:
            parts += [
                "#### Copies by country",
                "| country | data stores | worst level |\n|---|---:|---|\n" + "\n".join(country_rows),
            ]
        return "\n\n".join(parts)

    def _findings(self, report: dict[str, Any], budget: int) -> str:
        if not self.n_findings:
            return "#### Findings\n\nnone" if report.get("profile") else ""
        header = "| rule | severity | resource | message |\n|---|---|---|---|"
        title = f"#### Findings ({self.n_findings})"
        rows = [_finding_row(f.full() if hasattr(f, "full") else f) for f in self.findings.items()]
        return _table(title, header, rows, budget, "finding(s)", self.n_findings)

    def _resources(self, budget: int) -> str:
        if not self.n_resources:
            return "#### Data stores\n\nnone found"
        header = (
            "| level | provider | account | service | name | footprint | countries | keys | foreign reach |\n"
            "|---|---|---|---|---|---|---|---|---|"
        )
        n = self.n_resources
        rows = [_resource_row(r) for r in self.resources.items()]
        body = _table(f"#### Data stores ({n})", header, rows, budget, "data store(s)", n)
        # a long list folds away so the comment stays readable
        return f"<details><summary>{n} data store(s), worst first</summary>\n\n{body}\n\n</details>" if n > 20 else body


def _resource_row(r: dict[str, Any]) -> str:
    return (
        f"| {cell(resource_level(r) or '-')} | {cell(r.get('provider'))} | {cell(r.get('account'))} | "
        f"{cell(r.get('service'))} | {cell(r.get('name'))} | {cell(footprint_text(r))} | "
        f"{cell(' '.join(r.get('countries', [])) or 'unknown')} | {cell(r.get('key_control'))} | "
        f"{cell(' '.join(foreign_reach(r)))} |"
    )


def _clip(text: str) -> str:
    """Last resort when even the fixed parts are too long (a profile with thousands of waivers): cut at a line."""
    if len(text) <= LIMIT:
        return text
    note = "\n\n… truncated to fit a pull-request comment (see the JSON or HTML report)\n"
    cut = text.rfind("\n", 0, LIMIT - len(note))
    return text[:cut] + note


cell = md_cell  # text made literal in one table cell (residency_audit.safe)


def _headline(report: dict[str, Any]) -> str:
    summary = report.get("summary", {})
    n_resources = summary.get("resources", len(report.get("resources", [])))
    n_skipped = summary.get("skipped", len(report.get("skipped", [])))
    scope = f"{n_resources} data store(s) · {n_skipped} skipped · viewpoint {cell(_viewpoint(report))}"
    result = verdict(report)
    if result is None or "verdict" not in summary:
        state = f"{_ICON['incomplete']} incomplete" if result == "incomplete" else "ℹ️ scanned"
        return f"### {state} — residency-audit, no policy profile applied\n\n{scope}{_coverage(report)}"
    c = finding_counts(report)
    counts = f"{c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s), {c['waived']} waived"
    return f"### {_ICON.get(result, '')} {result} — residency-audit: {counts}\n\n{scope}{_coverage(report)}"


def _coverage(report: dict[str, Any]) -> str:
    from ..coverage import report_lines

    lines = report_lines(report)
    return "\n\n**Coverage:** " + "  \n".join(cell(line) for line in lines) if lines else ""


def _viewpoint(report: dict[str, Any]) -> str:
    return str((report.get("viewpoint") or {}).get("label", ""))


def _profile(report: dict[str, Any], source_file: str | None) -> str:
    profile = report.get("profile")
    if not isinstance(profile, dict):
        return ""
    source = profile.get("source") or source_file or ""
    lines = [f"**Profile:** `{cell(profile.get('name'))}` ({cell(source)})"]
    for o in profile.get("overrides", []):
        lines.append(
            f"- override `{cell(o.get('target'))}` {cell(o.get('field'))} = {cell(o.get('value'))}: "
            f"{cell(o.get('reason'))}"
        )
    for w in profile.get("waivers", []):
        state = "**expired**" if w.get("expired") else "until"
        lines.append(
            f"- waiver {cell(w.get('rule'))} on `{cell(w.get('resource'))}` {state} {cell(w.get('expires'))}: "
            f"{cell(w.get('reason'))}"
        )
    return "\n".join(lines)


def _finding_row(f: dict[str, Any]) -> str:
    severity = cell(f.get("severity"))
    message = cell(f.get("message"))
    waiver = f.get("waiver")
    if f.get("waived") and isinstance(waiver, dict):
        severity = f"~~{severity}~~ waived"
        message += f" — _waived until {cell(waiver.get('expires'))}: {cell(waiver.get('reason'))}_"
    elif isinstance(waiver, dict) and waiver.get("expired"):
        message += f" — waiver expired {cell(waiver.get('expires'))}"
    rule = f"{cell(f.get('rule'))} {cell(f.get('title', ''))}"
    return f"| {rule} | {severity} | {cell(f.get('provider'))}:{cell(f.get('name') or f.get('resource'))} | {message} |"


def _skips(report: dict[str, Any], budget: int) -> str:
    skipped = report.get("skipped", [])
    if not skipped:
        return "#### Skipped\n\nnothing skipped: the scan is complete"
    rows = [f"| {cell(s.get('provider'))} | {cell(s.get('scope'))} | {cell(s.get('reason'))} |" for s in skipped]
    title = f"#### ⚠️ Skipped ({len(skipped)}): the scan is incomplete"
    return _table(title, "| provider | scope | reason |\n|---|---|---|", rows, budget, "skip(s)", len(rows))


def _table(title: str, header: str, rows: list[str], budget: int, noun: str, total: int) -> str:
    """A titled table with as many rows as fit in `budget` characters, then a `… N more` line for the rest."""
    out = [title, "", header]
    used = len(title) + len(header) + 2
    shown = 0
    for row in rows:
        if used + len(row) + 1 > budget:
            break
        out.append(row)
        used += len(row) + 1
        shown += 1
    if shown < total:
        out += ["", f"… {total - shown} more {noun} (see the JSON or HTML report)"]
    return "\n".join(out)
