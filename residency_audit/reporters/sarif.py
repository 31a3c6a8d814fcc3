"""SARIF 2.1.0 for GitHub code scanning: one run, the rule registry as the driver's rules, one result per finding.

Waived findings stay in the log with an external suppression (code scanning shows them as dismissed), and every
skip is a tool execution notification, so an incomplete scan is visible where the results are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from ..rules import RULES, Severity
from . import resource_key, reverify_lines, severity_rank, sorted_findings

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/residency-audit/"
FINGERPRINT_KEY = "residencyAudit/v1"
_MAX_REASONS = 3  # the message carries the first reasons; all of them are in properties.reasons
_DEFAULT_LEVEL = Severity.WARNING.value  # for a rule no finding in this report used


# GitHub code scanning rejects a run with more results than this (and shows the 5,000 most severe):
# https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
MAX_RESULTS = 25_000


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a SARIF 2.1.0 log (JSON text, keys sorted so the output is byte-stable).

    At most MAX_RESULTS results, the most severe first (waived ones last); a tool notification says how many
    were left out. The exit code and every other format count them all.
    """
    every = sorted_findings(report)
    findings = every[:MAX_RESULTS]
    rule_ids = list(RULES)
    wanted = {(str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", ""))) for f in findings}
    resources = {
        key: r for r in report.get("resources", []) if (key := resource_key(r)) in wanted
    }  # only what the results cite: a report of 100,000 resources stays cheap to render
    uri = _artifact_uri(source_file or (report.get("source") or {}).get("path"))
    invocation = _invocation(report)
    invocation["toolExecutionNotifications"] += [_reverify(x) for x in reverify_lines(report)]
    if len(every) > len(findings):
        invocation["toolExecutionNotifications"].append(
            {
                "level": "warning",
                "descriptor": {"id": "results-truncated"},
                "message": {
                    "text": f"{len(every) - len(findings)} further findings are not in this log: GitHub code "
                    f"scanning rejects more than {MAX_RESULTS} results per run. Every finding is in the JSON, CSV, "
                    "Markdown and HTML reports, and counts towards the exit code."
                },
            }
        )
    run: dict[str, Any] = {
        "tool": {"driver": _driver(report, findings)},
        "automationDetails": {"id": f"residency-audit/{(report.get('source') or {}).get('kind', 'scan')}/"},
        "invocations": [invocation],
        "results": [_result(f, rule_ids, resources, uri) for f in findings],
        "properties": _run_properties(report),
    }
    if uri is not None:
        run["artifacts"] = [{"location": {"uri": uri}}]
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _reverify(text: str) -> dict[str, Any]:
    return {"level": "warning", "descriptor": {"id": "re-verify"}, "message": {"text": text}}


def _driver(report: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    tool = report.get("tool") or {}
    return {
        "name": "residency-audit",
        "version": str(tool.get("version", "")),
        "semanticVersion": str(tool.get("version", "")),
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule_id, findings) for rule_id in RULES],
    }


def _rule(rule_id: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    rule = RULES[rule_id]
    # the registry has no fixed severity (a profile chooses it), so the default is the worst one this report used
    used = [f["severity"] for f in findings if f.get("rule") == rule_id]
    level = max(used, key=severity_rank) if used else _DEFAULT_LEVEL
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {
            "text": f"{rule.help}\n\nRemediation: {rule.remediation}",
            "markdown": f"{rule.help}\n\n**Remediation:** {rule.remediation}",
        },
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["data-residency", "jurisdiction", "compliance", rule.name]},
    }


def _result(
    f: dict[str, Any], rule_ids: list[str], resources: dict[tuple[str, str, str], dict[str, Any]], uri: str | None
) -> dict[str, Any]:
    resource = resources.get((str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", ""))), {})
    assessment = resource.get("assessment") or {}
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": f.get("name") or f.get("resource", ""),
                "fullyQualifiedName": f.get("resource", ""),
                "kind": "resource",
            }
        ]
    }
    if uri is not None:
        # the finding is about the cloud resource, not a line: point at the file the policy came from
        location["physicalLocation"] = {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}}
    result: dict[str, Any] = {
        "ruleId": f["rule"],
        "ruleIndex": rule_ids.index(f["rule"]) if f["rule"] in rule_ids else -1,
        "level": f.get("severity", "warning"),
        "kind": "fail",
        "message": {"text": _message(f)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.get("fingerprint", "")},
        "properties": {
            "provider": f.get("provider"),
            "account": f.get("account"),
            "service": f.get("service"),
            "countries": list(resource.get("countries", [])),
            "level": assessment.get("level"),
            "foreignReach": list(assessment.get("foreign_reach", [])),
            "reasons": list(f.get("reasons", [])),
        },
    }
    waiver = f.get("waiver")
    if f.get("waived") and isinstance(waiver, dict):
        result["suppressions"] = [
            {"kind": "external", "justification": f"{waiver.get('reason', '')} (waived until {waiver.get('expires')})"}
        ]
    elif isinstance(waiver, dict) and waiver.get("expired"):
        result["properties"]["waiverExpired"] = waiver.get("expires")
    return result


def _message(f: dict[str, Any]) -> str:
    who = f"{f.get('provider')}:{f.get('name') or f.get('resource')} ({f.get('resource')})"
    text = f"{f.get('title', f['rule'])} — {who}: {f.get('message', '')}"
    reasons = list(f.get("reasons", []))
    if reasons:
        text += "\nReasons: " + "; ".join(reasons[:_MAX_REASONS])
        if len(reasons) > _MAX_REASONS:
            text += f"; … {len(reasons) - _MAX_REASONS} more"
    return text


def _invocation(report: dict[str, Any]) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": bool(report.get("complete", True)),
        "toolExecutionNotifications": [
            {
                "level": "warning",
                "descriptor": {"id": "skipped"},
                "message": {"text": f"skipped {s.get('provider')} {s.get('scope')}: {s.get('reason')}"},
                "properties": {"provider": s.get("provider"), "scope": s.get("scope")},
            }
            for s in report.get("skipped", [])
        ]
        + [
            {"level": "note" if i == 0 else "warning", "descriptor": {"id": "coverage"}, "message": {"text": line}}
            for i, line in enumerate(_coverage_lines(report))
        ],
    }
    for key, field in (("startTimeUtc", "started_at"), ("endTimeUtc", "finished_at")):
        stamp = _utc(report.get(field))
        if stamp:
            invocation[key] = stamp
    return invocation


def _coverage_lines(report: dict[str, Any]) -> list[str]:
    from ..coverage import report_lines

    return report_lines(report)


def _run_properties(report: dict[str, Any]) -> dict[str, Any]:
    profile = report.get("profile") or {}
    summary = report.get("summary") or {}
    return {
        "viewpoint": (report.get("viewpoint") or {}).get("label"),
        "profile": profile.get("name"),
        "verdict": summary.get("verdict"),
        "complete": bool(report.get("complete", True)),
        "resources": summary.get("resources"),
        "skipped": summary.get("skipped"),
        "coverage": (report.get("coverage") or {}).get("summary"),
    }


def _artifact_uri(path: str | None) -> str | None:
    """A relative path as a forward-slash URI reference (what code scanning matches to the repo); absolute as file:."""
    if not path:
        return None
    pure = PurePath(path)
    return pure.as_uri() if pure.is_absolute() else pure.as_posix()


def _utc(stamp: Any) -> str | None:
    """An ISO timestamp in SARIF's UTC form (`…Z`); None when absent or unreadable."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
