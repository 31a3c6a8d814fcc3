"""CSV: one row per resource, then one row per skip, in one RFC 4180 table (a spreadsheet opens it as is).

Skips are rows too (service `-`, with `skipped_reason` set) so that no format can hide an incomplete scan.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from . import copies, foreign_reach, resource_key, resource_level, reverify_lines, sorted_resources

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
    buffer = io.StringIO()
    # RFC 4180: CRLF line ends, fields quoted only when needed
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    active, waived = _rule_ids(report)
    for r in sorted_resources(report):
        key = resource_key(r)
        writer.writerow(_resource_row(r, active.get(key, []), waived.get(key, [])))
    for s in report.get("skipped", []):
        writer.writerow(_skip_row(s))
    from ..coverage import report_lines

    for line in report_lines(report):  # coverage: the summary line, then each type not assessed or unknown
        writer.writerow(dict.fromkeys(COLUMNS, "") | {"service": "coverage", "skipped_reason": line})
    for x in reverify_lines(report):  # a knowledge-base fact past its review date, in the same shape
        writer.writerow(dict.fromkeys(COLUMNS, "") | {"service": "re-verify", "skipped_reason": x})
    return buffer.getvalue()


def _rule_ids(
    report: dict[str, Any],
) -> tuple[dict[tuple[str, str, str], list[str]], dict[tuple[str, str, str], list[str]]]:
    """Per resource, the sorted ids of its unwaived and of its waived findings."""
    active: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    waived: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for f in report.get("findings", []):
        key = (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        (waived if f.get("waived") else active)[key].add(str(f.get("rule", "")))
    return ({k: sorted(v) for k, v in active.items()}, {k: sorted(v) for k, v in waived.items()})


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
