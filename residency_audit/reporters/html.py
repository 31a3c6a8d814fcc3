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
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from html import escape
from importlib import resources as package_files
from typing import IO, Any

from . import footprint_text, level_rank, reverify_lines
from .htmlmap import Places, country_table, map_section
from .htmlmap import world as world  # the map data, read by the tests through this module
from .htmlparts import (
    _coverage,
    _e,
    _filters,
    _footer,
    _headline,
    _level,
    _profile,
    _skips,
    _table_head,
    _viewpoint,
)
from .spill import TextSpool

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

    # what `finding` reads: an unwaived finding comes without its fingerprint (a hash) and rule metadata
    finding_fields = ("rule", "title", "severity", "provider", "resource", "name", "message", "reasons", "waived")

    def __init__(self, home: Iterable[str] = (), trusted: Iterable[str] = ()) -> None:
        self.places = Places(frozenset(home), frozenset(trusted))
        self.footprints: dict[int, tuple[object, str]] = {}  # footprint lists many rows share: their text, escaped
        self.leads: dict[tuple[Any, ...], str] = {}
        self.tails: dict[tuple[Any, ...], str] = {}
        self.why = _Reasons()
        self.esc = _Escaped()  # values that repeat from row to row (providers, accounts, footprints …): escaped once
        self.countries: dict[tuple[str, ...], tuple[str, str]] = {}
        # closed by close(), which stream() and every caller reach
        self.resource_rows, self.finding_rows = TextSpool(), TextSpool()
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
            yield from self.finding_rows.chunks()
            yield f"</tbody>\n</table>\n<p><small>{self.n_findings} finding(s)</small></p>\n</section>\n"
        elif head.get("profile"):
            yield "<section>\n<h2>Findings</h2>\n<p>none</p>\n</section>\n"
        keys = [("level", "level"), ("provider", "provider"), ("country", "country")]
        yield "<section>\n<h2>Data stores</h2>\n" + _filters("resources", keys) + "\n"
        yield _table_head("resources", _RESOURCE_HEADERS, 0, frozenset({0}))
        yield from self.resource_rows.chunks()
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
            f'<td class="nm"><bdi>{_e(r.get("name", ""))}</bdi><br><small><bdi>{_e(r.get("id", ""))}</bdi></small></td>'
            f'<td>{self._footprint(r)}</td><td class="k">{countries[1]}</td>'
            f'<td class="k">{esc[str(r.get("key_control") or "")]}</td>'
            f'<td class="k">{esc[" ".join(a.get("foreign_reach") or ()) if isinstance(a, dict) else ""]}</td></tr>\n'
        )

    def _footprint(self, r: dict[str, Any]) -> str:
        copies = r.get("footprint")
        hit = self.footprints.get(id(copies))
        if hit is None or hit[0] is not copies:
            if len(self.footprints) >= _MEMO_SIZE:
                self.footprints.clear()
            hit = self.footprints[id(copies)] = (copies, _e(footprint_text(r)))
        return hit[1]

    def _finding_row(self, f: dict[str, Any]) -> str:
        # a row is its lead (severity, rule, provider) and its tail (message, waiver, reasons), the same few again
        # and again, around the resource's name and id: each made once (bounded)
        esc, waived, waiver = self.esc, f.get("waived"), f.get("waiver")
        key = (bool(waived), f.get("severity", ""), f.get("rule"), f.get("title"), f.get("provider"))
        lead = self.leads.get(key)
        if lead is None:
            severity = str(key[1])
            keys = f' data-rule="{esc[str(key[2])]}" data-provider="{esc[str(key[4])]}"'
            if waived:
                lead = f'<tr data-severity="waived"{keys}><td data-sort="-1"><span class="sev waived">'
                lead += f"{esc[severity]} waived</span></td>"
            else:
                lead = f'<tr data-severity="{esc[severity]}"{keys}><td data-sort="{_SEVERITY_SORT.get(severity, 0)}">'
                lead += f'<span class="sev">{esc[severity]}</span></td>'
            lead += f'<td class="k">{esc[str(key[2])]} {esc[str(key[3] or "")]}</td><td class="nm">{esc[str(key[4])]}:'
            _keep(self.leads, key, lead)
        waiver = waiver if isinstance(waiver, dict) else None
        reasons = tuple(f.get("reasons") or ())
        signature = (waiver.get("expires"), waiver.get("reason"), waiver.get("expired")) if waiver else None
        said = (f.get("message"), reasons, bool(waived), signature)
        tail = self.tails.get(said)
        if tail is None:
            note = ""
            if waived and waiver:
                note = f"<br><small>waived until {_e(waiver.get('expires'))}: {_e(waiver.get('reason'))}</small>"
            elif waiver and waiver.get("expired"):
                note = f"<br><small>waiver expired {_e(waiver.get('expires'))}</small>"
            message = esc[str(f.get("message") or "")]
            tail = f"</bdi></small></td><td>{message}{note}{self.why.cell(reasons)}</td></tr>\n"
            _keep(self.tails, said, tail)
        resource = f.get("resource")
        return f"{lead}<bdi>{_e(f.get('name') or resource)}</bdi><br><small><bdi>{_e(resource)}{tail}"

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


def _keep(memo: dict[Any, str], key: Any, value: str) -> None:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


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
