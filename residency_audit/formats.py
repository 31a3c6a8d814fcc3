"""Output format names, kept apart so the CLI can offer them without importing the renderers."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """Formats of `scan`, `check` and `plan`."""

    table = "table"
    json = "json"
    sarif = "sarif"
    csv = "csv"
    markdown = "markdown"
    junit = "junit"
    html = "html"
