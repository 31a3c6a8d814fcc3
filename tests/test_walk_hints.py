"""The AWS walk skips RDS listings only where RDS itself counts no instance and no cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import by_name, invoke_json, isolate_env
from .servers.aws import AwsEndpoint, seed_db_instance

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[AwsEndpoint]:
    with AwsEndpoint() as ep:
        yield ep


@pytest.fixture
def aws(endpoint: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    endpoint.reset()
    isolate_env(monkeypatch, ["AWS_"], endpoint.env({}))
    return endpoint


def scan() -> tuple[int, dict[str, Any], str]:
    regions = [a for r in REGIONS for a in ("--region", r)]
    return invoke_json(["scan", "--format", "json", "--service", "rds", *regions])


def rds_calls(ep: AwsEndpoint) -> dict[tuple[str | None, str | None], int]:
    out: dict[tuple[str | None, str | None], int] = {}
    for r in ep.requests:
        if r.service == "rds":
            out[(r.region, r.action)] = out.get((r.region, r.action), 0) + 1
    return out


def test_empty_regions_cost_one_call_and_used_regions_are_listed(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    seed_db_instance(s, "pg", "eu-west-1")
    s.client("rds", region_name="eu-central-1").create_db_cluster(
        DBClusterIdentifier="headless",  # an Aurora cluster without instances: counted by DBClusters only
        Engine="aurora-postgresql",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
    )
    aws.clear_log()
    code, report, err = scan()
    assert code == 0, err
    assert set(by_name(report)) == {"pg", "headless"}
    calls = rds_calls(aws)
    assert calls == {
        ("us-east-1", "DescribeAccountAttributes"): 1,
        ("eu-west-1", "DescribeAccountAttributes"): 1,
        ("eu-west-1", "DescribeDBInstances"): 1,
        ("eu-west-1", "DescribeDBClusters"): 1,
        ("eu-central-1", "DescribeAccountAttributes"): 1,
        ("eu-central-1", "DescribeDBInstances"): 1,
        ("eu-central-1", "DescribeDBClusters"): 1,
    }


@pytest.mark.parametrize("fault", [{"status": 403, "code": "AccessDenied"}, {"mode": "malformed"}])
def test_no_proof_of_emptiness_means_the_listings_run(aws: AwsEndpoint, fault: dict[str, Any]) -> None:
    seed_db_instance(aws.session(direct=True), "pg", "eu-west-1")
    aws.add_fault("rds", None, "DescribeAccountAttributes", **fault)
    code, report, err = scan()
    assert code == 0, err
    assert set(by_name(report)) == {"pg"} and report["skipped"] == []
    assert rds_calls(aws)[("us-east-1", "DescribeDBInstances")] == 1
