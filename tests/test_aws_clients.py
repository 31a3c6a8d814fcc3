"""A scan keeps a bounded number of botocore clients open, so an organisation walk cannot run out of descriptors.

Each client holds its own connection pool with a kept-alive socket. Caching every (account, service, region) client
for a whole scan made a 51-account walk die with "Too many open files" (`python -m bench inventory`); the test below
runs a real walk of every region and service under a descriptor limit that the unbounded cache exceeds.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from typing import Any

from residency_audit.clouds.aws_clients import Clients

from .conftest import BIN
from .servers.aws import AwsEndpoint

_ENV_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "RESIDENCY_AUDIT_")


class _Client:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_least_recently_used_clients_are_closed_beyond_the_limit() -> None:
    clients = Clients(limit=2)
    made: dict[str, _Client] = {}

    def get(name: str) -> _Client:
        client: _Client = clients.get(("1", name, "eu-west-1"), lambda: made.setdefault(name, _Client(name)))
        return client

    a, b = get("s3"), get("kms")
    assert get("s3") is a  # reused, and now the most recent
    c = get("rds")  # one over the limit: kms, the least recently used, is closed
    assert (a.closed, b.closed, c.closed) == (0, 1, 0) and len(clients) == 2
    assert get("kms") is b  # asked again: made anew (the factory here hands back the same object, closed before)
    assert a.closed == 1 and len(clients) == 2
    clients.close()
    assert (b.closed, c.closed) == (2, 1) and len(clients) == 0


def _limit_descriptors() -> None:
    # an unbounded cache opens one socket per client: 38 regions x 14 services is over 500
    resource.setrlimit(resource.RLIMIT_NOFILE, (400, 400))


def test_a_walk_of_every_region_and_service_stays_within_400_descriptors(aws_endpoint: AwsEndpoint) -> None:
    endpoint = aws_endpoint
    endpoint.reset()
    env = endpoint.env({k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)})
    endpoint.clear_log()
    argv = [BIN, "scan", "--provider", "aws", "--format", "json"]  # every enabled region, every service
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, preexec_fn=_limit_descriptors)
    assert "Too many open files" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["complete"] is True, (proc.returncode, report.get("skipped"))
    listed = endpoint.counts
    # the walk really visited every region: one DescribeImages and one DescribeLogGroups in each of moto's 38
    assert listed[("ec2", "DescribeImages")] >= 30 and listed[("logs", "DescribeLogGroups")] >= 30, listed
