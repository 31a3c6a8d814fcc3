"""One self-contained HTML page: a world map of where the copies sit, and the tables, sortable and filterable.

Offline by construction: inline CSS, an inline SVG drawn here in Python, inline script (report.js, a few lines of
plain JavaScript that sorts and filters rows already in the page, and a one-line marker), no external URL. A
Content-Security-Policy forbids every fetch and every script but those two (by hash), so a value that slipped past
escaping still could not run or call out. Country shapes come from world.json beside this module (its `source`
field records the data's origin and licence). Every value from the report is HTML-escaped; names and ids are
bidi-isolated.

Streaming: resources and findings are read once, in the order given; each row is written to a spool file as it
arrives (memory stays flat at any size), and the page is written once the totals the map needs are known. The
browser sorts the rows (worst first) when the page loads and draws them a page at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from html import escape
from importlib import resources as package_files
from typing import IO, Any

from . import LEVELS, finding_counts, footprint_text, level_rank, reverify_lines, verdict
from .htmlmap import Places, country_table, map_section, world

_SEVERITY_SORT = {"error": 2, "warning": 1, "note": 0}
_MEMO_SIZE = 10_000
_SPECIAL = re.compile("[&<>\"']")


# runs before the tables are parsed, so that CSS can draw only their first rows until report.js has paged them
_EARLY_SCRIPT = 'document.documentElement.className="js"'


def _asset(name: str) -> str:
    return package_files.files("residency_audit.reporters").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _page_head() -> tuple[str, str]:
    """The inline style and script, and the CSP that allows exactly that script (by its hash) and nothing remote."""
    script = _asset("report.js")
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode('ascii')}'"
        for s in (_EARLY_SCRIPT, script)
    )
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {hashes}; base-uri 'none'; form-action 'none'"
    )
    return csp, script


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as one HTML document with no external resources."""
    return "".join(stream(report, source_file=source_file))


def stream(report: dict[str, Any], *, source_file: str | None = None) -> Iterator[str]:
    """The same document in chunks. `resources`, `findings` and `skipped` may be any iterables; each is read once."""
    view = report.get("viewpoint") or {}
    writer = Writer(view.get("home") or (), view.get("trusted") or ())
    try:
        for r in report.get("resources") or ():
            writer.resource(r)
        for f in report.get("findings") or ():
            writer.finding(f)
        head = {k: v for k, v in report.items() if k not in ("resources", "findings")}
        yield from writer.chunks(head, source_file)
    finally:
        writer.close()


class Writer:
    """The page, made as the report passes.

    Each row is written to a spool file when it arrives, so memory stays flat at any size; `chunks` (or `write`)
    then gives the page, with the map and totals first, once everything is in.

    `resource` and `finding` take the report-format dicts (docs/report-format.md); the head passed at the end is
    the report without its resources and findings (its `skipped` included). Call `close` to remove the spools.
    """

    def __init__(self, home: Iterable[str] = (), trusted: Iterable[str] = ()) -> None:
        self.places = Places(frozenset(home), frozenset(trusted))
        self.why = _Reasons()
        self.esc = _Escaped()  # values that repeat from row to row (providers, accounts, footprints …): escaped once
        self.countries: dict[tuple[str, ...], tuple[str, str]] = {}
        # closed by close(), which stream() and every caller reach
        self.resource_rows = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.finding_rows = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.n_resources = self.n_findings = 0

    def resource(self, r: dict[str, Any]) -> None:
        """One resource: its row, and its copies on the map."""
        self.places.add(r)
        self.resource_rows.write(self._resource_row(r))
        self.n_resources += 1

    def finding(self, f: dict[str, Any]) -> None:
        """One finding: its row (its reasons are written once, below the findings)."""
        self.finding_rows.write(self._finding_row(f))
        self.n_findings += 1

    def write(self, out: IO[str], head: dict[str, Any], source_file: str | None = None) -> None:
        """The whole page to `out`."""
        for chunk in self.chunks(head, source_file):
            out.write(chunk)

    def chunks(self, head: dict[str, Any], source_file: str | None = None) -> Iterator[str]:
        """The whole page, in chunks."""
        csp, script = _page_head()
        title = f"residency-audit report — {_viewpoint(head)}"
        yield (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="color-scheme" '
            f'content="light dark">\n<title>{escape(title)}</title>\n<style>{_asset("report.css")}</style>\n'
            f"<script>{_EARLY_SCRIPT}</script>\n</head>\n<body>\n<main>\n<section>\n<h1>{escape(title)}</h1>\n"
            f"{_headline(head, source_file)}\n"
            + "".join(f'<p class="verdict v-incomplete">{_e(x)}</p>\n' for x in reverify_lines(head))
            + "</section>\n"
        )
        yield map_section(self.places)
        yield country_table(self.places)
        if self.n_findings:
            keys = [("severity", "severity"), ("rule", "rule"), ("provider", "provider")]
            yield "<section>\n<h2>Findings</h2>\n" + _filters("findings", keys) + "\n"
            yield _table_head("findings", ["severity", "rule", "resource", "message"], 0, frozenset({0}))
            yield from _spooled(self.finding_rows)
            yield f"</tbody>\n</table>\n<p><small>{self.n_findings} finding(s)</small></p>\n</section>\n"
        elif head.get("profile"):
            yield "<section>\n<h2>Findings</h2>\n<p>none</p>\n</section>\n"
        keys = [("level", "level"), ("provider", "provider"), ("country", "country")]
        yield "<section>\n<h2>Data stores</h2>\n" + _filters("resources", keys) + "\n"
        yield _table_head("resources", _RESOURCE_HEADERS, 0, frozenset({0}))
        yield from _spooled(self.resource_rows)
        n = self.n_resources
        yield f"</tbody>\n</table>\n<p><small>{n} data store(s){'' if n else ': none found'}</small></p>\n</section>\n"
        yield _skips(head.get("skipped") or ())
        yield _coverage(head)
        yield _profile(head)
        yield self.why.section()
        yield f"{_footer(head)}\n</main>\n<script>{script}</script>\n</body>\n</html>\n"

    def _resource_row(self, r: dict[str, Any]) -> str:
        esc = self.esc
        a = r.get("assessment")
        level = a.get("level") if isinstance(a, dict) else None
        key = tuple(str(c) for c in r.get("countries") or ())
        countries = self.countries.get(key)
        if countries is None:
            shown = " ".join(c if self.places.standing(c) != "foreign" else f'<b class="fx">{_e(c)}</b>' for c in key)
            countries = (_e(" ".join(key) or "unknown"), shown or "unknown")
            if len(self.countries) < _MEMO_SIZE:
                self.countries[key] = countries
        provider = esc[str(r.get("provider") or "")]
        return (
            f'<tr data-level="{esc[str(level or "-")]}" data-provider="{provider}" data-country="{countries[0]}">'
            f'<td data-sort="{level_rank(level)}">{_level(level)}</td><td class="k">{provider}</td>'
            f"<td><bdi>{esc[str(r.get('account') or '')]}</bdi></td>"
            f'<td class="k">{esc[str(r.get("service") or "")]}</td>'
            f'<td class="nm">{_bdi(r.get("name", ""))}<br><small>{_bdi(r.get("id", ""))}</small></td>'
            f'<td>{esc[footprint_text(r)]}</td><td class="k">{countries[1]}</td>'
            f'<td class="k">{esc[str(r.get("key_control") or "")]}</td>'
            f'<td class="k">{esc[" ".join(a.get("foreign_reach") or ()) if isinstance(a, dict) else ""]}</td></tr>\n'
        )

    def _finding_row(self, f: dict[str, Any]) -> str:
        esc = self.esc
        waiver = f.get("waiver") if isinstance(f.get("waiver"), dict) else None
        note = ""
        if f.get("waived") and waiver:
            note = f"<br><small>waived until {_e(waiver.get('expires'))}: {_e(waiver.get('reason'))}</small>"
        elif waiver and waiver.get("expired"):
            note = f"<br><small>waiver expired {_e(waiver.get('expires'))}</small>"
        severity = str(f.get("severity", ""))
        if f.get("waived"):
            lead = f'<tr data-severity="waived"{self._finding_keys(f)}><td data-sort="-1"><span class="sev waived">'
            lead += f"{esc[severity]} waived</span></td>"
        else:
            rank = _SEVERITY_SORT.get(severity, 0)
            lead = f'<tr data-severity="{esc[severity]}"{self._finding_keys(f)}><td data-sort="{rank}">'
            lead += f'<span class="sev">{esc[severity]}</span></td>'
        return (
            f'{lead}<td class="k">{esc[str(f.get("rule"))]} {esc[str(f.get("title") or "")]}</td>'
            f'<td class="nm">{esc[str(f.get("provider"))]}:{_bdi(f.get("name") or f.get("resource"))}<br>'
            f"<small>{_bdi(f.get('resource'))}</small></td><td>{esc[str(f.get('message') or '')]}{note}"
            f"{self.why.cell(f.get('reasons') or ())}</td></tr>\n"
        )

    def _finding_keys(self, f: dict[str, Any]) -> str:
        return f' data-rule="{self.esc[str(f.get("rule"))]}" data-provider="{self.esc[str(f.get("provider"))]}"'

    def close(self) -> None:
        """Remove the spools."""
        self.resource_rows.close()
        self.finding_rows.close()


class _Escaped(dict[str, str]):
    """Escaped text by value, for values that repeat; bounded, as a value may also be unique to its row."""

    def __missing__(self, key: str) -> str:
        value = _e(key)
        if len(self) < _MEMO_SIZE:
            self[key] = value
        return value


def _spooled(spool: IO[str]) -> Iterator[str]:
    spool.seek(0)
    while chunk := spool.read(1 << 20):
        yield chunk


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


_RESOURCE_HEADERS = [
    "level",
    "provider",
    "account",
    "service",
    "name",
    "footprint",
    "countries",
    "keys",
    "foreign reach",
]


class _Reasons:
    """Reason lists, each written once, after the findings.

    The findings of one footprint share one chain of reasons, and repeating it in every row made most of a large
    page. Past _MEMO_SIZE distinct lists, rows carry their own.
    """

    def __init__(self) -> None:
        self.ids: dict[tuple[str, ...], int] = {}

    def cell(self, reasons: Iterable[Any]) -> str:
        key = tuple(reasons)
        if not key:
            return ""
        n = self.ids.get(key)
        if n is None and len(self.ids) < _MEMO_SIZE:
            n = self.ids[key] = len(self.ids)
        if n is None:
            return f"<details><summary>reasons</summary>{_reason_list(key)}</details>"
        # report.js shows the list in place when opened; without script the link leads to it
        return f'<details data-why="why-{n}"><summary>reasons</summary><a href="#why-{n}">the reasons</a></details>'

    def section(self) -> str:
        if not self.ids:
            return ""
        items = "\n".join(f'<li id="why-{n}">{_reason_list(key)}</li>' for key, n in self.ids.items())
        return (
            "<section>\n<h2>Reasons</h2>\n<p><small>The chain of facts behind the findings, each "
            f"with its source.</small></p>\n<ol>\n{items}\n</ol>\n</section>\n"
        )


def _reason_list(reasons: tuple[str, ...]) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in reasons) + "</ul>"


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
