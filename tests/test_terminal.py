"""The terminal: the scan table fits the width it is printed at without splitting a word."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest

from residency_audit.classify import viewpoint
from residency_audit.formats import OutputFormat
from residency_audit.knowledge import KnowledgeBase
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.render import render_result
from residency_audit.report import Meta
from residency_audit.tables import NAME_CAP

ALL = ("level", "provider", "account", "service", "name", "footprint", "countries", "keys", "foreign")


def scan_view(kb: KnowledgeBase, width: int, coverage: object = None) -> str:
    """The scan's terminal table for a small estate, as `scan` prints it at `width` columns."""
    now = datetime(2026, 11, 29, tzinfo=UTC)
    meta = Meta("scan", None, now, now, coverage=coverage)  # type: ignore[arg-type]
    run = render_result(OutputFormat.table, _result(kb), viewpoint(kb, ["EU"]), meta, None, plain=True, width=width)
    try:
        out = io.StringIO()
        run.write(out)
        return out.getvalue()
    finally:
        run.close()


def _result(kb: KnowledgeBase) -> ScanResult:
    def res(provider: Provider, service: str, name: str, *codes: str) -> Resource:
        footprint = tuple(Copy(c, CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA) for i, c in enumerate(codes))
        return Resource(provider, "123456789012", service, "T", f"id-{name}", name, footprint,
                        KeyControl.PROVIDER_MANAGED, {})  # fmt: skip

    raw = [
        res(Provider.AWS, "s3", "customer-data", "eu-central-1", "us-west-2"),
        res(Provider.AWS, "dynamodb", "sessions", "eu-west-1", "ap-southeast-1", "us-east-1"),
        res(Provider.GCP, "gcs", "eu-archive-multiregion", "EU"),  # 27 countries in one cell
        res(Provider.AZURE, "postgresql-flexible", "orders-db", "westeurope"),
    ]
    result = assess_all(kb, locate(kb, raw), viewpoint(kb, ["EU"]))
    return ScanResult(tuple(result), (Skip(Provider.AWS, "account/1/region/eu-west-1/service/rds", "AccessDenied"),))


def _table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "data stores" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("└"))
    return lines[start : end + 1]


def _words(lines: list[str]) -> set[str]:
    return {w for line in lines for w in re.split(r"[\s│┃]+", line) if w}


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 240])
def test_scan_table_never_splits_a_word(kb: KnowledgeBase, width: int) -> None:
    text = scan_view(kb, width)
    assert max(len(line) for line in text.splitlines()) <= width
    lines = _table_lines(text)
    words = _words(lines)
    shown = [h for h in ALL if h in words]
    assert {"level", "name", "countries"} <= set(shown)  # the columns a reader needs are kept at every width
    # every header and every value word of a shown column is printed whole
    assert {"customer-data", "sessions", "orders-db", "eu-archive-multiregion"} <= words
    if "keys" in shown:
        assert "provider-managed" in words
    if "service" in shown or "provider" in shown:
        assert "postgresql-flexible" in words
    if "footprint" in shown:
        assert {"eu-central-1,", "ap-southeast-1", "westeurope"} <= words
    assert not any(re.fullmatch(r"provide|accoun|servic|footpr|countr|foreig", w) for w in words)
    left_out = [h for h in ALL if h not in shown and h not in ("account", "service")]  # these two fold, not drop
    if left_out:
        assert "left out at this width" in text
    else:
        assert "left out" not in text


def test_wide_terminals_keep_every_column(kb: KnowledgeBase) -> None:
    words = _words(_table_lines(scan_view(kb, 240)))
    assert set(ALL) <= words and "reach" in words


def test_narrow_terminals_drop_the_least_important_first(kb: KnowledgeBase) -> None:
    text = scan_view(kb, 80)
    words = _words(_table_lines(text))
    assert "keys" not in words and "level" in words and "foreign" in words
    assert "keys" in text.split("left out")[0].splitlines()[-1]
    assert "123456789012" in words  # the account folded under the name, not lost
    assert len("eu-archive-multiregion") <= NAME_CAP


@pytest.mark.parametrize("width", [80, 100, 200])
def test_coverage_table_never_splits_a_word(kb: KnowledgeBase, width: int) -> None:
    from residency_audit.coverage import Coverage, TypeCoverage

    coverage = Coverage(
        types=(
            TypeCoverage(
                Provider.AZURE,
                "Microsoft.KeyVault/vaults",
                "Key Vault",
                "key-or-secret",
                1,
                0,
                reason="no reader for this type yet",
                locations=("westeurope",),
            ),
            TypeCoverage(
                Provider.AZURE,
                "Microsoft.DigitalTwins/digitalTwinsInstances",
                None,
                "unknown-type",
                2,
                0,
                reason="a type the catalogue does not know",
                locations=("westeurope", "eastus"),
            ),
        )
    )
    text = scan_view(kb, width, coverage)
    assert max(len(line) for line in text.splitlines()) <= width
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "not assessed")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    words = _words(lines[start : end + 1])
    assert {"Microsoft.KeyVault/vaults", "type", "why", "catalogue"} <= words
    if "where" in words:
        assert "westeurope" in words or "westeurope," in words
    if "category" in words:
        assert "key-or-secret" in words
    assert ("left out at this width" in text) == (width < 200)
