"""Reporters: pure functions from the JSON report dict (docs/report-format.md) to text in one format.

Every module here has `render(report, *, source_file=None) -> str`. They read only the report dict (so a saved
report re-renders offline) and rule metadata from `residency_audit.rules`. Helpers shared by several formats live
in this module so that every format orders, counts and names things the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# exposure levels, best first: the order of docs/exposure-model.md (unknown ranks worst: it is never guessed)
LEVELS: tuple[str, ...] = ("none", "low", "medium", "high", "critical", "unknown")
_SEVERITY_RANK = {"error": 2, "warning": 1, "note": 0}


def reverify_lines(report: dict[str, Any]) -> list[str]:
    """Knowledge-base facts past their review date (summary.reverify): a warning every format shows."""
    return [str(line) for line in (report.get("summary") or {}).get("reverify") or []]


def level_rank(level: str | None) -> int:
    """Position of a level in LEVELS; -1 for a resource without an assessment (sorts best)."""
    return LEVELS.index(level) if level in LEVELS else -1


def worst_level(levels: Iterable[str | None]) -> str | None:
    """The worst of some levels, or None when there are none."""
    ranked = [lv for lv in levels if lv in LEVELS]
    return max(ranked, key=level_rank) if ranked else None


def severity_rank(severity: str) -> int:
    """2 for error, 1 for warning, 0 for note."""
    return _SEVERITY_RANK.get(severity, 0)


def resource_level(resource: dict[str, Any]) -> str | None:
    """The resource's exposure level, None when it was not assessed."""
    assessment = resource.get("assessment")
    return assessment.get("level") if isinstance(assessment, dict) else None


def foreign_reach(resource: dict[str, Any]) -> list[str]:
    """The states outside the viewpoint that can compel disclosure of the resource."""
    assessment = resource.get("assessment")
    return list(assessment.get("foreign_reach", [])) if isinstance(assessment, dict) else []


def sorted_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings as every format lists them: violations before waived ones, worst severity first, then stable keys."""
    return sorted(
        report.get("findings", []),
        key=lambda f: (
            bool(f.get("waived")),
            -severity_rank(f.get("severity", "note")),
            f.get("rule", ""),
            f.get("provider", ""),
            f.get("account", ""),
            f.get("resource", ""),
        ),
    )


def sorted_resources(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Resources worst exposure first, then by provider, account and id (the terminal table's order)."""
    return sorted(
        report.get("resources", []),
        key=lambda r: (-level_rank(resource_level(r)), r.get("provider", ""), r.get("account", ""), r.get("id", "")),
    )


def resource_key(resource: dict[str, Any]) -> tuple[str, str, str]:
    """What identifies a resource across reports: provider, account and id."""
    return (str(resource.get("provider", "")), str(resource.get("account", "")), str(resource.get("id", "")))


def verdict(report: dict[str, Any]) -> str | None:
    """The gate's verdict; without a profile, "incomplete" when something was skipped, else None (no gate)."""
    summary = report.get("summary", {})
    if "verdict" in summary:
        return str(summary["verdict"])
    return None if report.get("complete", True) else "incomplete"


def finding_counts(report: dict[str, Any]) -> dict[str, int]:
    """Unwaived findings per severity and the waived count: the summary's, or counted when the summary lacks it."""
    summary_counts = report.get("summary", {}).get("findings")
    if isinstance(summary_counts, dict):
        return {k: int(summary_counts.get(k, 0)) for k in ("error", "warning", "note", "waived")}
    out = {"error": 0, "warning": 0, "note": 0, "waived": 0}
    for f in report.get("findings", []):
        out["waived" if f.get("waived") else f.get("severity", "note")] += 1
    return out


def footprint_text(resource: dict[str, Any]) -> str:
    """The copies as one line: `eu-central-1, us-west-2 (replica)`; an unknown location is marked with `?`."""
    parts = []
    for c in resource.get("footprint", []):
        code = c.get("location") or c.get("reported_as") or "(empty)"
        text = code if c.get("known", True) else f"{code}?"
        parts.append(text if c.get("role") == "primary" else f"{text} (replica)")
    return ", ".join(parts)


def copies(resource: dict[str, Any], role: str) -> list[str]:
    """Location codes of the resource's copies with this role."""
    return [
        str(c.get("location") or c.get("reported_as") or "")
        for c in resource.get("footprint", [])
        if c.get("role") == role
    ]
