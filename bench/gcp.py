"""Google Cloud: a scan of 20 projects x 100 buckets behind 40 ms per request (issue 5), and a BigQuery one.

The real command runs as a child process against tests/servers/gcp.py, discovering the projects through
Resource Manager's projects:search and reading all three services. A tenth of the buckets have a default KMS key
(four distinct keys, one of them external) to show that each key is read once. Printed: requests (total and per
kind), wall time, and the floor (requests x 40 ms / concurrency). The floor ignores that some calls must wait for
others (token → projects:search → buckets.list → cryptoKeys.get), so the chain's length is printed too. The
second scenario, 20 projects x 25 BigQuery datasets, needs one datasets.get per dataset: there the floor dominates.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from tests.servers.gcp import GcpEndpoint

from .common import LATENCY, floor, line, run_measured

PROJECTS = 20
BUCKETS = 100
CONCURRENCY = 16
DATASETS = 25  # per project, in the BigQuery scenario
LOCATIONS = ["EU", "US", "EUR4", "NAM4", "EUROPE-WEST3", "EUROPE-WEST1", "US-CENTRAL1", "ASIA", "EUR8"]
KEYS = [
    ("projects/kms/locations/europe/keyRings/bench/cryptoKeys/soft", "SOFTWARE"),
    ("projects/kms/locations/europe/keyRings/bench/cryptoKeys/hsm", "HSM"),
    ("projects/kms/locations/us/keyRings/bench/cryptoKeys/soft", "SOFTWARE"),
    ("projects/kms/locations/europe/keyRings/bench/cryptoKeys/ekm", "EXTERNAL"),
]
CHAIN = 4  # token, projects:search, buckets.list, cryptoKeys.get: each waits for the one before


def _seed(ep: GcpEndpoint) -> None:
    for name, level in KEYS:
        ep.add_key(name, level)
    for p in range(PROJECTS):
        project = f"bench-{p:02d}"
        ep.add_project(project)
        for b in range(BUCKETS):
            i = p * BUCKETS + b
            bucket: dict[str, object] = {"name": f"{project}-b{b:03d}", "location": LOCATIONS[i % len(LOCATIONS)]}
            bucket["locationType"] = {"EU": "multi-region", "US": "multi-region", "ASIA": "multi-region"}.get(
                str(bucket["location"]),
                "dual-region" if str(bucket["location"]).startswith(("EUR", "NAM")) else "region",
            )
            if b % 10 == 0:
                bucket["encryption"] = {"defaultKmsKeyName": KEYS[(i // 10) % len(KEYS)][0]}
            ep.put_bucket(project, bucket)


def _median_run(argv: list[str], env: dict[str, str], runs: int = 3) -> dict[str, Any]:
    """The run with the median wall time of `runs` (one scan takes about a second: a single run is noisy)."""
    results = sorted((run_measured(argv, env) for _ in range(runs)), key=lambda r: float(r["wall"]))
    return results[len(results) // 2]


def main() -> None:
    """Run the Google Cloud scenario and print its figures."""
    with GcpEndpoint() as ep:
        _seed(ep)
        env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
        argv = ["scan", "--provider", "gcp", "--format", "json", "--concurrency", str(CONCURRENCY)]
        # the same scan without latency: start-up, parsing and assessment, which no concurrency can hide
        baseline = _median_run(argv, env)
        ep.latency = LATENCY
        result = _median_run(argv, env)
        ep.clear_log()
        run_measured(argv, env)  # once more, alone in the log, to count its requests
        ep.latency = 0.0
        counts = Counter({f"{api}:{op}": c for (api, _method, op), c in ep.counts.items()})
    report = result["report"] or {"resources": [], "skipped": []}
    total = sum(counts.values())
    print(
        f"\nGoogle Cloud, {PROJECTS} projects x {BUCKETS} buckets (every service), "
        f"{LATENCY * 1000:.0f} ms per request, concurrency {CONCURRENCY}"
    )
    line(
        "resources found / skipped / exit code",
        f"{len(report['resources'])} / {len(report['skipped'])} / {result['code']}",
    )
    line("requests, total", str(total))
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        line(f"  {key}", str(value))
    fl = floor(total, CONCURRENCY, LATENCY)
    wall = float(result["wall"])
    line("wall time (median of 3 runs)", f"{wall:.2f} s")
    line("floor (requests x latency / concurrency)", f"{fl:.2f} s")
    line("dependency chain (4 requests x latency)", f"{CHAIN * LATENCY:.2f} s")
    line("wall time at 0 ms latency (median of 3)", f"{float(baseline['wall']):.2f} s")
    share = wall - float(baseline["wall"])
    line("latency's share: wall - wall at 0 ms", f"{share:.2f} s (within run-to-run noise when <= 0)")
    if share > 0:
        line("  / max(floor, chain)", f"{share / max(fl, CHAIN * LATENCY):.2f}")
    line("peak memory of the scan (RSS)", f"{float(result['rss_mb']):.0f} MB")
    if result["code"] not in (0,):
        print(result["stderr"][-2000:])
    _datasets()


def _datasets() -> None:
    """BigQuery, where every dataset costs a datasets.get: the pool, not the chain, sets the pace."""
    with GcpEndpoint() as ep:
        for p in range(PROJECTS):
            project = f"bench-{p:02d}"
            ep.add_project(project)
            for d in range(DATASETS):
                ep.add_dataset(project, f"ds_{d:03d}", ("US", "EU", "europe-west3", "asia-northeast1")[d % 4])
        env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
        argv = [
            "scan", "--provider", "gcp", "--service", "bigquery-dataset", "--format", "json",
            "--concurrency", str(CONCURRENCY),
        ]  # fmt: skip
        baseline = _median_run(argv, env)
        ep.latency = LATENCY
        ep.clear_log()
        result = run_measured(argv, env)
        ep.latency = 0.0
        total = len(ep.requests)
    fl = floor(total, CONCURRENCY, LATENCY)
    wall, base = float(result["wall"]), float(baseline["wall"])
    print(f"\nGoogle Cloud BigQuery, {PROJECTS} projects x {DATASETS} datasets, {LATENCY * 1000:.0f} ms per request")
    line("resources found / exit code", f"{len(result['report']['resources'])} / {result['code']}")
    queries = PROJECTS * 4  # one SCHEMATA_REPLICAS query per project and dataset location (four locations)
    line(
        "requests, total",
        f"{total} (1 token + 1 search + {PROJECTS} lists + {PROJECTS * DATASETS} gets + {queries} replica queries)",
    )
    line("wall time / at 0 ms latency (median of 3)", f"{wall:.2f} s / {base:.2f} s")
    line("floor (requests x latency / concurrency)", f"{fl:.2f} s")
    line("latency's share / floor", f"{wall - base:.2f} s / {fl:.2f} s = {(wall - base) / fl:.2f}")


if __name__ == "__main__":
    main()
