"""One self-contained HTML page: a world map of where the copies sit, coloured by exposure, and the tables.

Offline by construction: inline CSS, an inline SVG drawn here in Python, no script, no external URL. Country
shapes come from world.json beside this module (its `source` field records the data's origin and licence).
Every value from the report is HTML-escaped.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import lru_cache
from html import escape
from importlib import resources as package_files
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

COLOURS = {
    "none": "#2e7d32",
    "low": "#0097a7",
    "medium": "#f9a825",
    "high": "#e53935",
    "critical": "#8b0000",
    "unknown": "#8e24aa",
}
_SMALL_AREA = 80  # countries smaller than this (square map units) also get a dot, or Singapore would be invisible
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.verdict{font-size:16px;font-weight:600;padding:8px 12px;border-radius:6px;display:inline-block}
.v-pass{background:#e8f5e9}.v-fail{background:#ffebee}.v-incomplete{background:#fff8e1}.v-none{background:#eceff1}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f5f5f5}td.num{text-align:right}
.lv{font-weight:600;padding:0 6px;border-radius:3px;color:#fff;white-space:nowrap}
.sev.waived{color:#777;font-style:italic}
svg.map{width:100%;height:auto;background:#eaf2f8;border:1px solid #ccc}
svg.map path{stroke:#fff;stroke-width:1.2}svg.map .land{fill:#d6d6d6}
svg.map circle{stroke:#fff;stroke-width:3}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
small{color:#555}
"""


@lru_cache(maxsize=1)
def world() -> dict[str, Any]:
    """The bundled country shapes: {source, viewBox, countries: {ISO alpha-2: {name, d, c, a}}, other: [...]}."""
    text = package_files.files("residency_audit.reporters").joinpath("world.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as one HTML document with no external resources."""
    title = f"residency-audit report — {_viewpoint(report)}"
    body = [
        f"<h1>{escape(title)}</h1>",
        _headline(report, source_file),
        "".join(f'<p class="v-incomplete">{_e(x)}</p>' for x in reverify_lines(report)),
        _map_section(report),
        _findings(report),
        _resources(report),
        _skips(report),
        _coverage(report),
        _profile(report),
        _footer(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def _viewpoint(report: dict[str, Any]) -> str:
    return str((report.get("viewpoint") or {}).get("label", ""))


def _e(value: Any) -> str:
    """Any report value as escaped HTML text (None as empty)."""
    return escape("" if value is None else str(value))


def _level(level: str | None) -> str:
    if level is None:
        return "-"
    return f'<span class="lv" style="background:{COLOURS.get(level, "#777")}">{escape(level)}</span>'


def _headline(report: dict[str, Any], source_file: str | None) -> str:
    summary = report.get("summary", {})
    result = verdict(report)
    source = report.get("source") or {}
    bits = [
        f"{summary.get('resources', len(report.get('resources', [])))} data store(s)",
        f"{summary.get('skipped', len(report.get('skipped', [])))} skipped",
        f"{_e(source.get('kind', 'scan'))} {_e(source_file or source.get('path') or '')}".strip(),
        f"{_e(report.get('started_at', ''))} → {_e(report.get('finished_at', ''))}",
    ]
    if result is None or "verdict" not in summary:
        text = "incomplete — no policy profile applied" if result == "incomplete" else "no policy profile applied"
        css = "incomplete" if result == "incomplete" else "none"
    else:
        c = finding_counts(report)
        text = f"{result}: {c['error']} error(s), {c['warning']} warning(s), {c['note']} note(s), {c['waived']} waived"
        css = result
    return (
        f'<p><span class="verdict v-{escape(css)}">{escape(text)}</span></p>\n<p><small>{" · ".join(bits)}</small></p>'
    )


def country_levels(report: dict[str, Any]) -> tuple[dict[str, str], Counter[str]]:
    """Per country: the worst exposure level among the resources with a copy there, and how many resources."""
    levels: dict[str, list[str | None]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for r in report.get("resources", []):
        for country in r.get("countries", []):
            levels[country].append(resource_level(r) or "unknown")
            counts[country] += 1
    return {c: worst_level(lv) or "unknown" for c, lv in levels.items()}, counts


def _map_section(report: dict[str, Any]) -> str:
    data = world()
    levels, counts = country_levels(report)
    shapes = data["countries"]
    paths, dots = [], []
    for code, shape in shapes.items():
        tip = escape(f"{code} — {shape['name']}")
        if code not in levels:
            paths.append(f'<path class="land" d="{shape["d"]}"><title>{tip}</title></path>')
            continue
        level = levels[code]
        tip = escape(f"{code} — {shape['name']}: {counts[code]} data store(s), worst exposure {level}")
        paths.append(f'<path fill="{COLOURS[level]}" d="{shape["d"]}"><title>{tip}</title></path>')
        if shape["a"] < _SMALL_AREA:
            cx, cy = shape["c"]
            dots.append(f'<circle cx="{cx}" cy="{cy}" r="14" fill="{COLOURS[level]}"><title>{tip}</title></circle>')
    paths += [f'<path class="land" d="{o["d"]}"><title>{escape(o["name"])}</title></path>' for o in data["other"]]
    box = " ".join(str(v) for v in data["viewBox"])
    svg = (
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="{box}" role="img" '
        f'aria-label="countries holding copies, by worst exposure level">\n' + "\n".join(paths + dots) + "\n</svg>"
    )
    legend = (
        '<p class="legend">'
        + "".join(f'<span><i style="background:{COLOURS[lv]}"></i>{lv}</span>' for lv in LEVELS)
        + '<span><i style="background:#d6d6d6"></i>no copy</span></p>'
    )
    parts = ["<h2>Where the copies are</h2>", svg, legend, _off_map(report, levels, counts, shapes)]
    return "\n".join(p for p in parts if p) + "\n" + _country_table(levels, counts, shapes)


def _country_table(levels: dict[str, str], counts: Counter[str], shapes: dict[str, Any]) -> str:
    """The map as a table too: readable in print and by screen readers, which do not show tooltips."""
    ordered = sorted(levels, key=lambda c: (-counts[c], c))
    rows = [[_e(c), _e(shapes.get(c, {}).get("name", "")), str(counts[c]), _level(levels[c])] for c in ordered]
    if not rows:
        return ""
    return "<h2>Copies by country</h2>\n" + _table(
        ["country", "name", "data stores", "worst level"], rows, frozenset({2})
    )


def _off_map(report: dict[str, Any], levels: dict[str, str], counts: Counter[str], shapes: dict[str, Any]) -> str:
    """Countries the map cannot show, and copies whose location is unknown: listed, never dropped."""
    items = [
        f"<li>{escape(c)}: {counts[c]} data store(s), worst exposure {_level(levels[c])}</li>"
        for c in sorted(levels)
        if c not in shapes
    ]
    unknown = [(r, c) for r in report.get("resources", []) for c in r.get("footprint", []) if not c.get("known", True)]
    items += [
        f"<li>unknown location {_e(c.get('reported_as') or c.get('location') or '(empty)')} "
        f"({_e(c.get('role', ''))}) of {_e(r.get('provider', ''))}:{_e(r.get('name', ''))}</li>"
        for r, c in unknown
    ]
    if not items:
        return ""
    return "<p>Not on the map:</p>\n<ul>\n" + "\n".join(items) + "\n</ul>"


def _table(headers: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset()) -> str:
    """An HTML table; cells must already be escaped."""
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    body = "\n".join(
        "<tr>"
        + "".join(f'<td class="num">{v}</td>' if i in numeric else f"<td>{v}</td>" for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table>\n{head}\n{body}\n</table>"


def _findings(report: dict[str, Any]) -> str:
    findings = sorted_findings(report)
    if not findings:
        return "<h2>Findings</h2>\n<p>none</p>" if report.get("profile") else ""
    rows = []
    for f in findings:
        waiver = f.get("waiver") if isinstance(f.get("waiver"), dict) else None
        note = ""
        if f.get("waived") and waiver:
            note = f"<br><small>waived until {_e(waiver.get('expires'))}: {_e(waiver.get('reason'))}</small>"
        elif waiver and waiver.get("expired"):
            note = f"<br><small>waiver expired {_e(waiver.get('expires'))}</small>"
        reasons = "".join(f"<li>{_e(x)}</li>" for x in f.get("reasons", []))
        severity = f"{f.get('severity', '')} waived" if f.get("waived") else str(f.get("severity", ""))
        css = "sev waived" if f.get("waived") else "sev"
        rows.append(
            [
                f"{_e(f.get('rule'))} {_e(f.get('title', ''))}",
                f'<span class="{css}">{escape(severity)}</span>',
                f"{_e(f.get('provider'))}:{_e(f.get('name') or f.get('resource'))}"
                f"<br><small>{_e(f.get('resource'))}</small>",
                _e(f.get("message", ""))
                + note
                + (f"<details><summary>reasons</summary><ul>{reasons}</ul></details>" if reasons else ""),
            ]
        )
    table = _table(["rule", "severity", "resource", "message"], rows)
    return f"<h2>Findings ({len(findings)})</h2>\n{table}"


def _resources(report: dict[str, Any]) -> str:
    resources = sorted_resources(report)
    rows = [
        [
            _level(resource_level(r)),
            _e(r.get("provider", "")),
            _e(r.get("account", "")),
            _e(r.get("service", "")),
            f"{_e(r.get('name', ''))}<br><small>{_e(r.get('id', ''))}</small>",
            escape(footprint_text(r)),
            escape(" ".join(r.get("countries", [])) or "unknown"),
            _e(r.get("key_control", "")),
            escape(" ".join(foreign_reach(r))),
        ]
        for r in resources
    ]
    headers = ["level", "provider", "account", "service", "name", "footprint", "countries", "keys", "foreign reach"]
    return f"<h2>Data stores ({len(resources)})</h2>\n" + (_table(headers, rows) if rows else "<p>none found</p>")


def _skips(report: dict[str, Any]) -> str:
    skipped = report.get("skipped", [])
    if not skipped:
        return "<h2>Skipped</h2>\n<p>nothing skipped: the scan is complete</p>"
    rows = [[_e(s.get(k, "")) for k in ("provider", "scope", "reason")] for s in skipped]
    return f"<h2>Skipped ({len(skipped)}): the scan is incomplete</h2>\n" + _table(
        ["provider", "scope", "reason"], rows
    )


def _coverage(report: dict[str, Any]) -> str:
    from ..coverage import report_lines

    lines = report_lines(report)
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines[1:])
    return f"<h2>Coverage</h2>\n<p>{_e(lines[0])}</p>" + (f"\n<ul>{items}</ul>" if items else "")


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
        f"<li>waiver {_e(w.get('rule'))} on {_e(w.get('resource'))} "
        f"{'<b>expired</b>' if w.get('expired') else 'until'} {_e(w.get('expires'))}: "
        f"{_e(w.get('reason'))}</li>"
        for w in profile.get("waivers", [])
    ]
    head = f"<h2>Profile {_e(profile.get('name'))}</h2>\n<p>{_e(profile.get('description') or '')} "
    head += f"<small>({_e(profile.get('source') or '')})</small></p>"
    return head + ("\n<ul>\n" + "\n".join(items) + "\n</ul>" if items else "")


def _footer(report: dict[str, Any]) -> str:
    tool = report.get("tool") or {}
    source = world()["source"]
    credit = f"Map: {source['data']}, via {source['package']} {source['version']}."
    return (
        f"<p><small>{_e(tool.get('name', 'residency-audit'))} {_e(tool.get('version', ''))} · "
        f"report schema {_e(report.get('schema_version', ''))} · {escape(credit)}</small></p>"
    )
