"""`make demo` end to end: `python -m demo` as a subprocess, as make runs it (the real installed CLI inside)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PORT = re.compile(r"(?:https?://)?127\.0\.0\.1:(\d+)")


def _env(out: Path) -> dict[str, str]:
    return {**os.environ, "RESIDENCY_AUDIT_DEMO_OUT": str(out), "COLUMNS": "160", "PYTHONUNBUFFERED": "1"}


def _closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _children(pid: int) -> set[int]:
    """The pids of a process's children (Linux /proc; empty elsewhere)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.alone  # timed: run by itself (pyproject.toml)
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "demo"], cwd=REPO, env=_env(out), capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert elapsed < 60, f"the demo took {elapsed:.1f}s"

    report = json.loads((out / "report.json").read_text())
    providers = Counter(r["provider"] for r in report["resources"])
    assert set(providers) == {"aws", "azure", "gcp"} and sum(providers.values()) >= 60, providers
    assert len({(r["provider"], r["account"]) for r in report["resources"]}) >= 8  # 3 AWS, 2 Azure, 3 GCP
    assert report["skipped"] and report["complete"] is False
    assert report["profile"]["name"] == "eu-sovereign" and report["summary"]["verdict"] == "fail"
    by_name = {r["name"]: r for r in report["resources"]}
    assert [c["location"] for c in by_name["acmebrgrs"]["footprint"]] == ["brazilsouth", "southcentralus"]
    # the copies that hide (issue 13): geo-redundant backup vaults and Key Vault's paired-region copy
    assert [c["location"] for c in by_name["acme-backup-weu"]["footprint"]] == ["westeurope", "northeurope"]
    assert [c["location"] for c in by_name["acme-backup-br"]["footprint"]] == ["brazilsouth", "southcentralus"]
    assert [c["location"] for c in by_name["acme-lake-kv"]["footprint"]] == ["westeurope", "northeurope"]
    assert [c["location"] for c in by_name["acmeimages"]["footprint"]] == ["westeurope", "australiaeast"]
    # blob object replication to the US, and one skip for the denied subscription (not one per type)
    assert [c["location"] for c in by_name["acmegwcgrs"]["footprint"]] == [
        "germanywestcentral",
        "germanynorth",
        "eastus",
    ]
    assert [s["scope"] for s in report["skipped"] if s["provider"] == "azure"] == [
        "subscription/0a1c3e5f-3333-4333-8333-acme00000003"
    ]
    assert by_name["acme-sovereign-vault"]["key_control"] == "external"
    assert {"DE", "CH"} <= set(by_name["acme-data-de-ch"]["countries"])
    # the Google Cloud copies that hide: each assessed where it really is
    assert [c["location"] for c in by_name["orders-disk-nightly"]["footprint"]] == ["EU"]
    assert [c["location"] for c in by_name["stripe-api-key"]["footprint"]] == ["global"]
    assert {"US", "BE", "TW"} <= set(by_name["acme-ledger-global"]["countries"])
    assert by_name["clickstream"]["assessment"]["level"] == "unknown"
    assert {c["location"] for r in report["resources"] if r["name"] == "_Default" for c in r["footprint"]} == {"global"}
    for name in ("report.json", "report.html", "report.sarif", "report.md", "report-eusc.json"):
        assert (out / name).stat().st_size > 0, name
    eusc = json.loads((out / "report-eusc.json").read_text())
    assert {c["location"] for r in eusc["resources"] for c in r["footprint"]} == {"eusc-de-east-1"}

    assert "Summary" in proc.stdout and "The scan exited 1" in proc.stdout
    coverage = {(t["type"].lower(), t["category"]) for t in report["coverage"]["types"]}
    assert ("microsoft.keyvault/vaults", "key-or-secret") in coverage
    assert ("microsoft.digitaltwins/digitaltwinsinstances", "unknown-type") in coverage
    assert "data-bearing types not assessed" in proc.stdout and "unknown types" in proc.stdout
    ports = {int(p) for p in PORT.findall(proc.stdout)}
    assert len(ports) >= 4, proc.stdout[:2000]  # AWS proxy, moto, Azure, Google Cloud
    assert all(_closed(p) for p in ports), ports


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_demo_stops_everything_when_interrupted(tmp_path: Path, signum: int) -> None:
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc to see the demo's child processes")
    demo = subprocess.Popen(
        [sys.executable, "-m", "demo"],
        cwd=REPO,
        env=_env(tmp_path / "out"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    seen = ""
    try:
        # interrupt while the scanner runs: the servers are up and the demo has a child process
        for line in demo.stdout:
            seen += line
            if line.startswith("$ residency-audit scan"):
                break
        deadline = time.monotonic() + 10
        while not (children := _children(demo.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        demo.send_signal(signum)
        rest, err = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == (143 if signum == signal.SIGTERM else 130), seen + rest + err
    assert "every local server was stopped" in err
    ports = {int(p) for p in PORT.findall(seen)}
    assert len(ports) >= 4 and all(_closed(p) for p in ports), ports
    time.sleep(0.2)
    assert children and not any(_alive(c) for c in children), children  # the scanner was stopped too
