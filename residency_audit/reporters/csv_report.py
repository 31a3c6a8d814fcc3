"""CSV: one row per resource, then one row per skip, in one RFC 4180 table (a spreadsheet opens it as is).

Skips are rows too (service `-`, with `skipped_reason` set) so that no format can hide an incomplete scan.
"""

from __future__ import annotations

import csv
import io
from typing import Any, TextIO

from ..safe import _FORMULA, csv_cell
from . import Spool, copies, foreign_reach, level_rank, resource_key, resource_level, reverify_lines

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
    """CSV written from a stream: resources and findings in any order, then `write` once (sorted on disk)."""

    finding_fields = ("provider", "account", "resource", "rule", "waived")  # what `finding` reads

    def __init__(self) -> None:
        columns = ", ".join(f"c{i}" for i in range(len(COLUMNS)))
        # kept in the order it is written (the primary key): a scan's resources arrive in (provider, account, id)
        # order within each level, so rows append at a few places and the ORDER BY at the end needs no sort
        self.spool = Spool(
            f"res(lv, p, a, id, seq, {columns}, PRIMARY KEY (lv, p, a, id, seq)) WITHOUT ROWID",
            "fnd(p, a, r, rule, waived)",
        )
        self.seq = 0

    def close(self) -> None:
        """Remove the on-disk table (also when the report is never written)."""
        self.spool.close()

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        p, a, rid = resource_key(r)
        row = _resource_row(r, [], [])
        self.spool.add("res", (-level_rank(resource_level(r)), p, a, rid, self.seq, *row.values()))
        self.seq += 1

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        key = (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        self.spool.add("fnd", (*key, str(f.get("rule", "")), 1 if f.get("waived") else 0))

    def write(self, out: TextIO, report: dict[str, Any]) -> None:
        """Write the table: resources worst first (as every format orders them), then one row per skip."""
        # RFC 4180: CRLF line ends, fields quoted only when needed
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        # each resource's rules, gathered in one pass over the findings (not two look-ups per resource)
        self.spool.query("CREATE TABLE agg(p, a, r, act, wav, PRIMARY KEY (p, a, r)) WITHOUT ROWID")
        self.spool.query(
            "INSERT INTO agg SELECT p, a, r, group_concat(CASE WHEN waived = 0 THEN rule END, char(31)), "
            "group_concat(CASE WHEN waived = 1 THEN rule END, char(31)) FROM fnd GROUP BY p, a, r"
        )
        columns = ", ".join(f"res.c{i}" for i in range(len(COLUMNS)))
        rows = self.spool.query(
            f"SELECT {columns}, agg.act, agg.wav FROM res LEFT JOIN agg ON agg.p = res.p AND agg.a = res.a "
            "AND agg.r = res.id ORDER BY res.lv, res.p, res.a, res.id, res.seq"
        )
        for *values, active, waived in rows:
            values[13] = " ".join(sorted(set(active.split("\x1f")))) if active else ""
            values[14] = " ".join(sorted(set(waived.split("\x1f")))) if waived else ""
            for i in _HOSTILE_AT:  # _neutral, inlined: 100,000 rows of seven cells, nearly none a formula
                if values[i].startswith(_FORMULA) and values[i] != "-":
                    values[i] = csv_cell(values[i])
            writer.writerow(values)
        self.spool.close()
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


# columns whose text the resource's creator (or an API's error) chose: neutralised as formulas (README)
_HOSTILE = {"account", "service", "type", "id", "name", "classification", "skipped_reason"}


_HOSTILE_AT = [i for i, c in enumerate(COLUMNS) if c in _HOSTILE]


def _neutral(column: str, value: str) -> str:
    return csv_cell(value) if column in _HOSTILE and value != "-" else value


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
