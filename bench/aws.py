"""AWS: S3 scan of N buckets over 6 regions behind 40 ms per request (issue 3).

Targets: at most 1 + 2N requests for location, replication and encryption (plus per-region batch calls); wall time
within 2x of the floor (requests x 40 ms / concurrency); peak memory linear, under 300 MB at 10,000 buckets.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.servers.aws import AwsEndpoint

from .common import LATENCY, floor, line, run_measured

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1", "us-west-2"]
CONCURRENCY = 16


def _seed(ep: AwsEndpoint, n: int) -> None:
    session = ep.session(direct=True)
    clients = {r: session.client("s3", region_name=r) for r in REGIONS}

    def create(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        clients[region].create_bucket(Bucket=f"bench-{i:05d}", **config)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))


def scenario(ep: AwsEndpoint, n: int, latency: float) -> dict[str, object]:
    """Seed `n` buckets, scan them with `latency` per request, return the figures."""
    ep.reset()
    t = time.perf_counter()
    _seed(ep, n)
    seeded = time.perf_counter() - t
    ep.clear_log()
    ep.latency = latency
    env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
    result = run_measured(["scan", "--service", "s3", "--format", "json", "--concurrency", str(CONCURRENCY)], env)
    ep.latency = 0.0
    counts = Counter({f"{svc}:{action}": c for (svc, action), c in ep.counts.items()})
    found = len(result["report"]["resources"]) if result["report"] else 0
    return {"n": n, "seeded": seeded, "counts": counts, "found": found, **result}


def report(fig: dict[str, object], latency: float) -> None:
    """Print one scenario's figures next to its targets."""
    n = int(fig["n"])  # type: ignore[call-overload]
    counts: Counter[str] = fig["counts"]  # type: ignore[assignment]
    total = sum(counts.values())
    per_bucket = sum(
        counts[k]
        for k in ("s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketReplication", "s3:GetBucketEncryption")
    )
    print(
        f"\nAWS S3, {n} buckets over {len(REGIONS)} regions, {latency * 1000:.0f} ms per request, "
        f"concurrency {CONCURRENCY}"
    )
    line("resources found / exit code", f"{fig['found']} / {fig['code']}")
    line("requests, total", str(total))
    for key, value in sorted(counts.items(), key=lambda kv: -kv[1]):
        line(f"  {key}", str(value))
    line("location+replication+encryption requests", f"{per_bucket} (target <= 1 + 2N = {1 + 2 * n})")
    if latency:
        fl = floor(total, CONCURRENCY, latency)
        wall = float(fig["wall"])  # type: ignore[arg-type]
        line("wall time", f"{wall:.2f} s")
        line("floor (requests x latency / concurrency)", f"{fl:.2f} s")
        line("wall / floor", f"{wall / fl:.2f} (target <= 2)")
    line("peak memory of the scan (RSS)", f"{float(fig['rss_mb']):.0f} MB")  # type: ignore[arg-type]


def main() -> None:
    """Run the AWS scenarios."""
    with AwsEndpoint() as ep:
        for n in (200, 2000):
            report(scenario(ep, n, LATENCY), LATENCY)
        # memory: latency does not change what is held, so measure it at full speed
        small = scenario(ep, 1000, 0.0)
        large = scenario(ep, 10000, 0.0)
        print("\nAWS S3 peak memory (no latency)")
        for fig in (small, large):
            line(
                f"{fig['n']} buckets: peak RSS / found / exit",
                f"{float(fig['rss_mb']):.0f} MB / {fig['found']} / "  # type: ignore[arg-type]
                f"{fig['code']}",
            )
        growth = (float(large["rss_mb"]) - float(small["rss_mb"])) / 9000 * 1000  # type: ignore[arg-type]
        line("growth per 1,000 buckets", f"{growth:.1f} MB (target: < 300 MB at 10,000)")
