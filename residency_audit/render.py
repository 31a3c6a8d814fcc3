"""One entry to every output format: pure, returns text (or JSON in chunks); the CLI writes it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from . import report
from .formats import OutputFormat
from .model import Viewpoint
from .pipeline import ScanResult

# formats rendered from the report dict by a module of residency_audit.reporters
_REPORTERS = {"sarif": "sarif", "csv": "csv_report", "markdown": "markdown", "junit": "junit", "html": "html"}


def render(
    fmt: OutputFormat,
    result: ScanResult,
    view: Viewpoint,
    meta: report.Meta,
    gate: report.Gate | None,
    *,
    plain: bool,
    width: int | None = None,
) -> str | Iterator[str]:
    """The report in `fmt`. `plain` drops terminal styling (for files)."""
    if fmt is OutputFormat.json:
        return report.iter_json(result, view, meta, gate)
    if fmt is OutputFormat.table:
        from .tables import render_text, scan_view

        warnings = "".join(f"warning: {x}\n" for x in meta.reverify)
        return render_text(scan_view(result, view.label, gate, meta.coverage), plain=plain, width=width) + warnings
    module = importlib.import_module(f"residency_audit.reporters.{_REPORTERS[fmt.value]}")
    text: str = module.render(report.build(result, view, meta, gate), source_file=source_file(meta, gate))
    return text


def source_file(meta: report.Meta, gate: report.Gate | None) -> str | None:
    """The file a SARIF result points at: the plan for `plan`, else the profile (a bundled one by its repo path)."""
    if meta.kind == "plan":
        return meta.path
    if gate is None:
        return None
    src = gate.profile.source
    return f"profiles/{src.split(':', 1)[1]}.toml" if src.startswith("bundled:") else src
