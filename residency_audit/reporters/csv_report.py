"""CSV: one row per resource, then one row per skip, in one RFC 4180 table (a spreadsheet opens it as is).

Skips are rows too (service `-`, with `skipped_reason` set) so that no format can hide an incomplete scan.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from typing import Any, TextIO

from ..model import Finding, KeyControl, Provider, Resource
from ..safe import _FORMULA, csv_cell
from . import copies, foreign_reach, level_rank, resource_key, resource_level, reverify_lines
from .spill import Seen, Sorted, text_key

# the column order is part of the format: append new columns at the end, never reorder
COLUMNS: tuple[str, ...] = (
    "provider",
    "account",
    "service",
    "type",
    "id",
    "name",
    "countries",
    "primary",
    "replicas",
    "key_control",
    "level",
    "foreign_reach",
    "classification",
    "findings",
    "waived",
    "skipped_reason",
)


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as CSV text with a header row; `source_file` is not used (CSV has nowhere to put it)."""
    writer = Writer()
    for r in report.get("resources", []):
        writer.resource(r)
    for f in report.get("findings", []):
        writer.finding(f)
    buffer = io.StringIO()
    writer.write(buffer, report)
    return buffer.getvalue()


class Writer:
    """CSV written from a stream: resources and findings in any order, then `write` once (sorted on disk).

    Each row carries the rules of the findings handed over right after its resource. Findings that come later
    (expired waivers, or every finding when a whole report is rendered) and resources whose id was seen before
    (a row lists every finding on its id) are merged in when the rows are written.
    """

    model = True  # a streamed Run hands over the model's resources and findings (`add`, `extra`)

    def __init__(self) -> None:
        self.rows = Sorted()
        self.seen = Seen()
        self.twice: set[_Key] = set()  # ids that may have been seen before (a Bloom filter's "maybe")
        self.late: dict[_Key, tuple[set[str], set[str]]] = {}  # rules of findings not beside their resource
        self.pending: list[Any] | None = None  # a resource dict whose findings may follow
        self.places: dict[int, tuple[object, str]] = {}  # by footprint: its three cells as CSV text
        self.assessed: dict[int, tuple[object, int, str]] = {}  # by assessment: its sort rank, its two cells

    def close(self) -> None:
        """Remove the spilled rows (also when the report is never written)."""
        self.rows.close()

    def add(self, r: Resource, findings: list[Finding]) -> None:
        """Take one resource of the model and its findings (a streamed `check`: no dicts made for them)."""
        fp = r.footprint
        places = self.places.get(id(fp))
        if places is None or places[0] is not fp:  # countries, primary, replicas: shared by many resources
            if len(self.places) > 10_000:
                self.places.clear()
            primary, replicas = _copies_text(fp)
            places = self.places[id(fp)] = (fp, _line([" ".join(r.countries), _cell(primary), _cell(replicas)]))
        a = r.assessment
        assessed = self.assessed.get(id(a))
        if assessed is None or assessed[0] is not a:  # level, foreign reach
            if len(self.assessed) > 10_000:
                self.assessed.clear()
            level, foreign = (str(a.level), " ".join(a.foreign_reach)) if a else ("", "")
            assessed = self.assessed[id(a)] = (a, -level_rank(level or None), _line([level, foreign]))
        active = waived = ""
        if findings:
            if any([f.waiver is not None for f in findings]):
                active = _rules(tuple([f.rule for f in findings if not f.waived]))
                waived = _rules(tuple([f.rule for f in findings if f.waived]))
            else:
                active = _rules(tuple([f.rule for f in findings]))
        p = _PROVIDERS[r.provider]
        own = [r.account, r.service, r.type, r.id, r.name]  # chosen by whoever made the resource
        if _SPECIAL.search("\x00" + "\x00".join(own)):  # a formula, comma, quote or line end: cell by cell
            own = [csv_cell(c) if c != "-" else c for c in own]
            cells = _line(own)[:-1]
        else:
            cells = ",".join(own)
        classification = csv_cell(r.classification) if r.classification and r.classification != "-" else ""
        start = (p + "," + cells + "," + places[1] + _KEYS[r.key_control] + "," + assessed[2]
                 + (_line([classification]) if classification else ","))  # fmt: skip
        key = text_key(p, r.account, r.id)
        if self.seen.add(key):
            self.twice.add(key)
        self.rows.add(_LEVEL[assessed[1]] + key, (start, active, waived))

    def extra(self, findings: list[Finding]) -> None:
        """Take findings raised after every resource (expired waivers)."""
        for f in findings:
            self._late(text_key(_PROVIDERS[f.provider], f.account, f.resource_id), f.rule, f.waived)

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        self._flush()
        row = _resource_row(r, [], [])
        self.pending = [-level_rank(resource_level(r)), text_key(*resource_key(r)), list(row.values()), set(), set()]

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        key = text_key(str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        rule, waived = str(f.get("rule", "")), bool(f.get("waived"))
        pending = self.pending
        if pending is not None and pending[1] == key:
            pending[4 if waived else 3].add(rule)
        else:
            self._late(key, rule, waived)

    def _flush(self) -> None:
        if self.pending is not None:
            lv, key, values, active, waived = self.pending
            values[13], values[14] = " ".join(sorted(active)), " ".join(sorted(waived))
            self._put(lv, key, values)
            self.pending = None

    def _late(self, key: _Key, rule: str, waived: bool) -> None:
        self.late.setdefault(key, (set(), set()))[1 if waived else 0].add(rule)

    def _put(self, lv: int, key: _Key, values: list[str]) -> None:
        for i in _HOSTILE_AT:  # _neutral, inlined: 100,000 rows of seven cells, nearly none a formula
            if values[i].startswith(_FORMULA) and values[i] != "-":
                values[i] = csv_cell(values[i])
        if self.seen.add(key):
            self.twice.add(key)
        # spilled as its CSV text (the findings and waived cells apart, to merge late rules in): three strings
        # a row are cheap to sort, spill and read back
        self.rows.add(_LEVEL[lv] + key, (_line(values[:13]), values[13], values[14]))

    def write(self, out: TextIO, report: dict[str, Any]) -> None:
        """Write the table: resources worst first (as every format orders them), then one row per skip."""
        self._flush()
        # RFC 4180: CRLF line ends, fields quoted only when needed
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        merged = self._merged()
        lines: list[str] = []
        write = out.write
        for key, (start, active, waived) in self.rows.keyed():
            if merged:
                extra = merged.get(key[1:])
                if extra is not None:
                    active = " ".join(sorted(extra[0] | set(active.split())))
                    waived = " ".join(sorted(extra[1] | set(waived.split())))
            lines.append(start + active + "," + waived + ",\r\n")  # rule ids: never quoted
            if len(lines) >= 1000:
                write("".join(lines))
                lines.clear()
        write("".join(lines))
        self.rows.close()
        for s in report.get("skipped", []):
            row = _skip_row(s)
            writer.writerow([_neutral(c, row[c]) for c in COLUMNS])
        from ..coverage import report_lines

        for line in report_lines(report):  # coverage: the summary line, then each type not assessed or unknown
            row = dict.fromkeys(COLUMNS, "") | {"service": "coverage", "skipped_reason": line}
            writer.writerow([_neutral(c, row[c]) for c in COLUMNS])
        for x in reverify_lines(report):  # a knowledge-base fact past its review date, in the same shape
            row = dict.fromkeys(COLUMNS, "") | {"service": "re-verify", "skipped_reason": x}
            writer.writerow([_neutral(c, row[c]) for c in COLUMNS])

    def _merged(self) -> dict[_Key, tuple[set[str], set[str]]]:
        """The rules each row must add to its own: late findings, and those of every row sharing its id."""
        merged = {key: (set(a), set(w)) for key, (a, w) in self.late.items()}
        if self.twice:  # one pass over the rows gathers the rules of the ids that may repeat
            for key, (_, active, waived) in self.rows.keyed():
                if key[1:] in self.twice:
                    rules = merged.setdefault(key[1:], (set(), set()))
                    rules[0].update(active.split())
                    rules[1].update(waived.split())
            self.rows.rewind()
        return merged


_Key = str  # provider, account and id as one text_key
_LEVEL = {lv: chr(0x40 + lv) for lv in range(-6, 3)}  # -level_rank, as the first character of a row's key
_PROVIDERS = {p: p.value for p in Provider}
_KEYS = {k: k.value for k in KeyControl}


_QUOTED = re.compile('[,"\r\n]')
# what makes a cell need quoting (anywhere) or neutralising (at its start, after the \x00 each cell is joined by)
_SPECIAL = re.compile('[,"\r\n]|\x00[' + re.escape("".join(_FORMULA)) + "]")


def _line(cells: list[str]) -> str:
    """Cells as csv.writer (RFC 4180, minimal quoting) writes them, each followed by a comma."""
    return "".join(('"' + c.replace('"', '""') + '",' if _QUOTED.search(c) else c + ",") for c in cells)


@functools.lru_cache(maxsize=1024)
def _rules(rules: tuple[str, ...]) -> str:
    """Rule ids as a cell: each once, sorted (a resource's findings are the same few lists again and again)."""
    return " ".join(sorted(set(rules)))


def _copies_text(footprint: tuple[Any, ...]) -> tuple[str, str]:
    """The primary and replica columns of a footprint, as `copies` reads them from the report."""
    primary, replicas = [], []
    for c in footprint:
        loc = c.location
        code = (loc.code if loc else c.code) or c.code or ""
        if c.role == "primary":
            primary.append(code)
        elif c.role == "replica":
            replicas.append(code)
    return " ".join(primary), " ".join(replicas)


# columns whose text the resource's creator (or an API's error) chose: neutralised as formulas (README); a location
# the knowledge base does not know is shown as written, and a plan's author writes it
_HOSTILE = {"account", "service", "type", "id", "name", "primary", "replicas", "classification", "skipped_reason"}


_HOSTILE_AT = [i for i, c in enumerate(COLUMNS) if c in _HOSTILE]


def _neutral(column: str, value: str) -> str:
    return csv_cell(value) if column in _HOSTILE and value != "-" else value


def _cell(value: str) -> str:
    return csv_cell(value) if value != "-" else value


def _resource_row(r: dict[str, Any], active: list[str], waived: list[str]) -> dict[str, str]:
    return {
        "provider": str(r.get("provider", "")),
        "account": str(r.get("account", "")),
        "service": str(r.get("service", "")),
        "type": str(r.get("type", "")),
        "id": str(r.get("id", "")),
        "name": str(r.get("name", "")),
        "countries": " ".join(r.get("countries", [])),
        "primary": " ".join(copies(r, "primary")),
        "replicas": " ".join(copies(r, "replica")),
        "key_control": str(r.get("key_control", "")),
        "level": resource_level(r) or "",
        "foreign_reach": " ".join(foreign_reach(r)),
        "classification": str(r.get("classification") or ""),
        "findings": " ".join(active),
        "waived": " ".join(waived),
        "skipped_reason": "",
    }


def _skip_row(s: dict[str, Any]) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row |= {
        "provider": str(s.get("provider", "")),
        "service": "-",
        "id": str(s.get("scope", "")),
        "skipped_reason": str(s.get("reason", "")),
    }
    return row
