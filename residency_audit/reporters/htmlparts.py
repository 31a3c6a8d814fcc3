"""The parts of the HTML page around its tables: headline, filters, table heads, skips, coverage, profile, footer.

Every value from the report is HTML-escaped (`_e`); names and ids chosen by whoever made a resource are also
bidi-isolated (`_bdi`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from typing import Any

from . import LEVELS, finding_counts, verdict
from .htmlmap import world

_SPECIAL = re.compile("[&<>\"']")


def _viewpoint(report: dict[str, Any]) -> str:
    return str((report.get("viewpoint") or {}).get("label", ""))


def _e(value: Any) -> str:
    """Any report value as escaped HTML text, quotes too, so it also fits an attribute (None as empty)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # most values need no escaping: a C-speed search spares five replaces per value on 100,000-row reports
    return escape(text) if _SPECIAL.search(text) else text


def _bdi(value: Any) -> str:
    """A name chosen by whoever made the resource: escaped, and isolated so right-to-left marks stay inside it."""
    return f"<bdi>{_e(value)}</bdi>"


def _level(level: str | None) -> str:
    if level is None:
        return "-"
    css = level if level in LEVELS else "unknown"
    return f'<span class="lv lv-{css}">{escape(level)}</span>'


def _headline(report: dict[str, Any], source_file: str | None) -> str:
    summary = report.get("summary", {})
    result = verdict(report)
    source = report.get("source") or {}
    bits = [
        f"{_e(summary.get('resources', '?'))} data store(s)",
        f"{_e(summary.get('skipped', '?'))} skipped",
        f"{_e(source.get('kind', 'scan'))} {_e(source_file or source.get('path') or '')}".strip(),
        f"{_e(report.get('started_at', ''))} → {_e(report.get('finished_at', ''))}",
    ]
    if result is None or "verdict" not in summary:
        text = "incomplete — no policy profile applied" if result == "incomplete" else "no policy profile applied"
        css = "incomplete" if result == "incomplete" else "none"
    else:
        c = finding_counts(report)
        text = f"{result}: {c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s), {c['waived']} waived"
        css = result if result in ("pass", "fail", "incomplete") else "none"
    return f'<p><span class="verdict v-{css}">{escape(text)}</span></p>\n<p><small>{" · ".join(bits)}</small></p>'


def _filters(table: str, keys: Iterable[tuple[str, str]]) -> str:
    """The filter bar above a table; hidden until the script runs, so a page without script shows no dead controls."""
    order = " ".join(LEVELS)
    selects = "".join(
        f'<label>{label} <select data-key="{key}"'
        + (f' data-order="{order}"' if key == "level" else "")
        + '><option value="">all</option></select></label>'
        for key, label in keys
    )
    return (
        f'<div class="filters" id="f-{table}" hidden>{selects}<label>search <input type="search" '
        f'aria-label="search {table}"></label> <span class="count"></span></div>'
    )


def _table_head(table: str, headers: list[str], sort_col: int, desc: frozenset[int] = frozenset()) -> str:
    cells = "".join(f"<th{' data-desc' if i in desc else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    return (
        f'<table id="t-{table}" data-filters="f-{table}" data-sort-col="{sort_col}">\n<thead><tr>{cells}</tr></thead>'
        "\n<tbody>\n"
    )


def _skips(skipped: Iterable[dict[str, Any]]) -> str:
    rows = [
        "<tr>" + "".join(f"<td>{_e(s.get(k))}</td>" for k in ("provider", "scope", "reason")) + "</tr>" for s in skipped
    ]
    if not rows:
        return "<section>\n<h2>Skipped</h2>\n<p>nothing skipped: the scan is complete</p></section>\n"
    return (
        f"<section>\n<h2>Skipped ({len(rows)}): the scan is incomplete</h2>\n<table>\n<thead><tr>"
        "<th>provider</th><th>scope</th><th>reason</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>\n"
    )


def _coverage(report: dict[str, Any]) -> str:
    from ..coverage import report_lines

    lines = report_lines(report)
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines[1:])
    return (
        f"<section>\n<h2>Coverage</h2>\n<p>{_e(lines[0])}</p>"
        + (f"\n<ul>{items}</ul>" if items else "")
        + "\n</section>\n"
    )


def _profile(report: dict[str, Any]) -> str:
    profile = report.get("profile")
    if not isinstance(profile, dict):
        return ""
    items = [
        f"<li>override {_e(o.get('target'))} {_e(o.get('field'))} = "
        f"{escape(json.dumps(o.get('value'), ensure_ascii=False))}: {_e(o.get('reason'))}</li>"
        for o in profile.get("overrides", [])
    ]
    items += [
        f"<li>waiver {_e(w.get('rule'))} on {_bdi(w.get('resource'))} "
        f"{'<b>expired</b>' if w.get('expired') else 'until'} {_e(w.get('expires'))}: "
        f"{_e(w.get('reason'))}</li>"
        for w in profile.get("waivers", [])
    ]
    head = f"<section>\n<h2>Profile {_e(profile.get('name'))}</h2>\n"
    head += f"<p>{_e(profile.get('description') or '')} <small>({_e(profile.get('source') or '')})</small></p>"
    return head + ("\n<ul>\n" + "\n".join(items) + "\n</ul>" if items else "") + "\n</section>\n"


def _footer(report: dict[str, Any]) -> str:
    tool = report.get("tool") or {}
    source = world()["source"]
    credit = f"Map: {source['data']}, via {source['package']} {source['version']}."
    return (
        f"<section>\n<p><small>{_e(tool.get('name', 'residency-audit'))} {_e(tool.get('version', ''))}"
        f" · report schema {_e(report.get('schema_version', ''))} · {escape(credit)}</small></p>\n</section>"
    )
