"""Shared fixtures: a small synthetic knowledge base for rule tests, and the real one."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from residency_audit.knowledge import KnowledgeBase, load, load_from

if TYPE_CHECKING:
    from .servers.aws import AwsEndpoint

D = dt.date(2026, 11, 1)


def _src(title: str) -> dict[str, Any]:
    return {"title": title, "url": "https://example.org/" + title, "as_of": D}


def mini_docs() -> dict[str, dict[str, Any]]:
    """A tiny, hand-checkable knowledge base: three operators, five regions, two laws."""
    return {
        "countries.toml": {
            "sources": {"iso": _src("iso"), "eu": _src("eu")},
            "countries": {
                "DE": "Germany",
                "FR": "France",
                "US": "United States",
                "BR": "Brazil",
                "CN": "China",
                "GB": "United Kingdom",
                "CH": "Switzerland",
            },
            "blocs": {"EU": {"name": "European Union", "members": ["DE", "FR"], "sources": ["eu"], "as_of": D}},
        },
        "law.toml": {
            "sources": {"law": _src("law")},
            "instruments": {
                "us-cloud-act": {
                    "title": "CLOUD Act",
                    "citation": "18 U.S.C. § 2713",
                    "state": "US",
                    "applies": "operator",
                    "summary": "s",
                    "sources": ["law"],
                    "as_of": D,
                },
                "eu-e-evidence": {
                    "title": "e-Evidence",
                    "citation": "(EU) 2023/1543",
                    "state": "EU",
                    "applies": "services",
                    "summary": "s",
                    "sources": ["law"],
                    "as_of": D,
                },
                "us-uk-agreement": {
                    "title": "UK agreement",
                    "citation": "x",
                    "state": "GB",
                    "applies": "agreement",
                    "through": "US",
                    "summary": "s",
                    "sources": ["law"],
                    "as_of": D,
                },
            },
        },
        "aws.toml": {
            "sources": {"aws": _src("aws")},
            "operators": {
                "us-op": {
                    "name": "US Cloud Inc.",
                    "controlled_from": ["US"],
                    "offers_services_in": ["EU", "US"],
                    "sources": ["aws"],
                    "as_of": D,
                },
                "de-op": {
                    "name": "DE Cloud GmbH",
                    "controlled_from": ["DE"],
                    "parent": "US Cloud Inc.",
                    "parent_controlled_from": ["US"],
                    "offers_services_in": ["EU"],
                    "sources": ["aws"],
                    "as_of": D,
                },
                "cn-op": {
                    "name": "CN Cloud Co.",
                    "controlled_from": ["CN"],
                    "offers_services_in": ["CN"],
                    "sources": ["aws"],
                    "as_of": D,
                },
            },
            "locations": [
                _loc("eu-central-1", ["DE"], "us-op"),
                _loc("us-east-1", ["US"], "us-op"),
                _loc("eusc-de-east-1", ["DE"], "de-op"),
                _loc("cn-north-1", ["CN"], "cn-op"),
                _loc("iso-secret-1", [], "us-op", note="not published"),
            ],
            "aliases": [{"alias": "EU", "target": "eu-central-1", "context": "test", "sources": ["aws"], "as_of": D}],
        },
    }


def _loc(code: str, countries: list[str], op: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": code.upper(),
        "kind": "region",
        "cloud": "aws",
        "countries": countries,
        "operator": op,
        "status": "available",
        "sources": ["aws"],
        "as_of": D,
        **extra,
    }


@pytest.fixture
def mini_kb() -> KnowledgeBase:
    return load_from(mini_docs())


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


# --- what the end-to-end tests of every cloud share ---------------------------------------------------------------

BIN = str(Path(sys.executable).parent / "residency-audit")  # the installed entry point, for subprocess tests


def isolate_env(monkeypatch: pytest.MonkeyPatch, prefixes: Iterable[str], env: Mapping[str, str]) -> None:
    """Drop every variable with one of `prefixes` and set `env`: the tool reaches the test server, never a cloud."""
    for key in list(os.environ):
        if key.startswith(tuple(prefixes)):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def invoke_json(argv: list[str]) -> tuple[int, dict[str, Any], str]:
    """Run the CLI in-process; exit code, the JSON report on stdout ({} if none) and stderr."""
    result = CliRunner().invoke(__import__("residency_audit.cli", fromlist=["app"]).app, argv)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[AwsEndpoint]:
    """moto and our proxy (tests/servers/aws.py), started once per worker for every AWS module that runs on it.

    moto's state is per process whatever the endpoint, so one endpoint shares nothing more than several did: each
    test's `aws` resets it (moto, faults, log, switches and the extra servers' state). Importing moto costs seconds,
    so it happens here, on first use, not at collection.
    """
    from .servers.aws import AwsEndpoint

    with AwsEndpoint() as ep:
        yield ep


@pytest.fixture
def aws(aws_endpoint: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """A freshly reset endpoint, and this process's environment pointing boto3 at the proxy (never at a real account)."""
    aws_endpoint.reset()
    isolate_env(monkeypatch, ["AWS_"], aws_endpoint.env({}))
    return aws_endpoint


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A report's resources by name."""
    return {r["name"]: r for r in report["resources"]}


def places(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """A reported resource's footprint as (location, role) pairs."""
    return [(c["location"], c["role"]) for c in resource["footprint"]]


# --- parallel runs: `make test` is `pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not alone"` (pytest-xdist),
# then the few `alone` (timed) tests by themselves
# loadfile: a module's tests all run on one worker, so its module-scoped servers start once. (Not loadgroup: with
# pytest 9.2 xdist 3.8 cannot tag a test with its group, so every test would be sent on its own.)

#: The modules that take longest (a `--durations` run), longest first: each worker starts on one of them, and no
#: worker picks one up near the end while the other has finished. Any other module keeps its collection order.
SLOW_FIRST = (
    *("test_faults", "test_inventory_aws", "test_aws_scan", "test_readonly", "test_demo", "test_inventory_bodies"),
    *("test_cli", "test_aws_copies", "test_packaging", "test_secrets", "test_ci_templates"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow modules first, each whole (every worker collects, and so sorts, the same items alike)."""

    def rank(item: pytest.Item) -> int:
        stem = item.path.stem
        return SLOW_FIRST.index(stem) if stem in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: within a module, and among the other modules, collection order stays
