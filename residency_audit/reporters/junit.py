"""JUnit XML for CI test-report views: one suite per provider, one case per resource, one failure per finding.

An unwaived error or warning fails its resource's case; a resource whose findings are all waived (or notes) is
skipped with the reasons; a `scan-completeness` case fails when anything could not be read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from . import resource_key, reverify_lines, sorted_findings

_FAILING = ("error", "warning")


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a JUnit XML document (`<testsuites>`); `source_file` becomes each suite's `file` attribute."""
    by_resource: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in sorted_findings(report):
        by_resource[(str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))].append(f)
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in report.get("resources", []):
        by_provider[str(r.get("provider", ""))].append(r)

    root = ET.Element("testsuites", name="residency-audit")
    for provider in sorted(by_provider):
        resources = sorted(
            by_provider[provider], key=lambda r: (r.get("service", ""), r.get("account", ""), r.get("id", ""))
        )
        suite = ET.SubElement(root, "testsuite", name=provider)
        if source_file:
            suite.set("file", source_file)
        for r in resources:
            _case(suite, r, by_resource.get(resource_key(r), []))
        _totals(suite)
    _completeness(root, report)
    if reverify_lines(report):  # facts to re-verify: skipped cases, visible without failing the suite
        kb_suite = ET.SubElement(root, "testsuite", name="knowledge-base")
        for x in reverify_lines(report):
            ET.SubElement(
                ET.SubElement(kb_suite, "testcase", name="re-verify", classname="knowledge-base"), "skipped", message=x
            )
        _totals(kb_suite)
    _totals(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, r: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"{r.get('provider', '')}.{r.get('service', '')}", name=str(r.get("id", ""))
    )
    failing = [f for f in findings if not f.get("waived") and f.get("severity") in _FAILING]
    for f in failing:
        failure = ET.SubElement(
            case, "failure", message=f"{f.get('rule')} {f.get('title', '')}", type=str(f.get("severity"))
        )
        failure.text = _details(f)
    if not failing and findings:
        # waived (or note-only) findings: visible, but not a failure
        skipped = ET.SubElement(case, "skipped", message=_skip_message(findings))
        skipped.text = "\n\n".join(_details(f) for f in findings)


def _details(f: dict[str, Any]) -> str:
    lines = [f"{f.get('rule')} {f.get('title', '')}: {f.get('message', '')}"]
    lines += [f"- {reason}" for reason in f.get("reasons", [])]
    waiver = f.get("waiver")
    if isinstance(waiver, dict):
        state = "expired" if waiver.get("expired") else "waived"
        lines.append(f"{state} until {waiver.get('expires')}: {waiver.get('reason')}")
    return "\n".join(lines)


def _skip_message(findings: list[dict[str, Any]]) -> str:
    waived = [f for f in findings if f.get("waived")]
    if waived:
        return "waived: " + ", ".join(sorted({str(f.get("rule")) for f in waived}))
    return "notes: " + ", ".join(sorted({str(f.get("rule")) for f in findings}))


def _completeness(root: ET.Element, report: dict[str, Any]) -> None:
    suite = ET.SubElement(root, "testsuite", name="residency-audit")
    case = ET.SubElement(suite, "testcase", classname="residency-audit", name="scan-completeness")
    skipped = report.get("skipped", [])
    if skipped:
        failure = ET.SubElement(
            case, "failure", message=f"{len(skipped)} scope(s) could not be read", type="incomplete"
        )
        failure.text = "\n".join(f"{s.get('provider')} {s.get('scope')}: {s.get('reason')}" for s in skipped)
    _coverage(suite, report)
    _totals(suite)


def _coverage(suite: ET.Element, report: dict[str, Any]) -> None:
    from ..coverage import report_incomplete, report_lines

    lines = report_lines(report)
    if not lines:
        return
    case = ET.SubElement(suite, "testcase", classname="residency-audit", name="coverage")
    if report_incomplete(report):
        failure = ET.SubElement(case, "failure", message=lines[0], type="incomplete")
        failure.text = "\n".join(lines[1:])
    ET.SubElement(case, "system-out").text = "\n".join(lines)


def _totals(element: ET.Element) -> None:
    """Set tests/failures/errors/skipped on a suite (from its cases) or on the root (from its suites)."""
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    # JUnit counts failed test cases, not failure elements (a resource with two findings is one failed case)
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", "0")
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
