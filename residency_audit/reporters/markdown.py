"""GitHub-flavoured Markdown for a pull-request comment: the verdict first, then findings, summary, skips, resources.

A comment holds at most 65,536 characters, so the output is kept under LIMIT: long tables end with a `… N more`
line, but the headline's counts (findings, skips, resources) are always whole.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import (
    LEVELS,
    finding_counts,
    footprint_text,
    foreign_reach,
    resource_level,
    reverify_lines,
    sorted_findings,
    sorted_resources,
    verdict,
    worst_level,
)

LIMIT = 65_000
_ICON = {"pass": "✅", "fail": "❌", "incomplete": "⚠️"}
_RESERVE = 200  # room for the `… N more` lines and joins


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a Markdown PR comment of at most LIMIT characters."""
    head = [
        _headline(report),
        "\n".join(f"> ⚠️ {cell(x)}" for x in reverify_lines(report)),
        _profile(report, source_file),
        _summary(report),
    ]
    fixed = "\n\n".join(part for part in head if part)
    budget = LIMIT - len(fixed) - _RESERVE
    # skips and findings matter more than the resource list: they take their share first
    skips = _skips(report, budget // 4)
    budget -= len(skips)
    findings = _findings(report, budget * 2 // 3)
    budget -= len(findings)
    resources = _resources(report, budget)
    text = "\n\n".join(part for part in (head[0], findings, *head[1:], skips, resources) if part) + "\n"
    return _clip(text)


def _clip(text: str) -> str:
    """Last resort when even the fixed parts are too long (a profile with thousands of waivers): cut at a line."""
    if len(text) <= LIMIT:
        return text
    note = "\n\n… truncated to fit a pull-request comment (see the JSON or HTML report)\n"
    cut = text.rfind("\n", 0, LIMIT - len(note))
    return text[:cut] + note


def cell(value: Any) -> str:
    """Text made safe for one Markdown table cell: no pipe, newline, HTML or emphasis markup gets through."""
    text = " ".join(str(value if value is not None else "").split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("`", "\\`"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(char, escaped)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def _summary(report: dict[str, Any]) -> str:
    resources = report.get("resources", [])
    by_level = Counter(resource_level(r) for r in resources)
    level_rows = [f"| {level} | {by_level[level]} |" for level in reversed(LEVELS) if by_level.get(level)]
    countries: Counter[str] = Counter()
    worst: dict[str, list[str | None]] = {}
    for r in resources:
        for country in r.get("countries", []):
            countries[country] += 1
            worst.setdefault(country, []).append(resource_level(r))
    country_rows = [
        f"| {cell(c)} | {n} | {worst_level(worst[c]) or '-'} |"
        for c, n in sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    parts = ["#### Exposure", "| level | data stores |\n|---|---:|\n" + "\n".join(level_rows) if level_rows else "none"]
    if country_rows:
        parts += [
            "#### Copies by country",
            "| country | data stores | worst level |\n|---|---:|---|\n" + "\n".join(country_rows),
        ]
    return "\n\n".join(parts)


def _findings(report: dict[str, Any], budget: int) -> str:
    findings = sorted_findings(report)
    if not findings:
        return "#### Findings\n\nnone" if report.get("profile") else ""
    rows = [_finding_row(f) for f in findings]
    return _table(
        f"#### Findings ({len(findings)})",
        "| rule | severity | resource | message |\n|---|---|---|---|",
        rows,
        budget,
        "finding(s)",
    )


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
    return _table(title, "| provider | scope | reason |\n|---|---|---|", rows, budget, "skip(s)")


def _resources(report: dict[str, Any], budget: int) -> str:
    resources = sorted_resources(report)
    if not resources:
        return "#### Data stores\n\nnone found"
    rows = [
        f"| {cell(resource_level(r) or '-')} | {cell(r.get('provider'))} | {cell(r.get('account'))} | "
        f"{cell(r.get('service'))} | {cell(r.get('name'))} | {cell(footprint_text(r))} | "
        f"{cell(' '.join(r.get('countries', [])) or 'unknown')} | {cell(r.get('key_control'))} | "
        f"{cell(' '.join(foreign_reach(r)))} |"
        for r in resources
    ]
    header = (
        "| level | provider | account | service | name | footprint | countries | keys | foreign reach |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    body = _table(f"#### Data stores ({len(resources)})", header, rows, budget, "data store(s)")
    # a long list folds away so the comment stays readable
    return (
        f"<details><summary>{len(resources)} data store(s), worst first</summary>\n\n{body}\n\n</details>"
        if len(rows) > 20
        else body
    )


def _table(title: str, header: str, rows: list[str], budget: int, noun: str) -> str:
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
    if shown < len(rows):
        out += ["", f"… {len(rows) - shown} more {noun} (see the JSON or HTML report)"]
    return "\n".join(out)
