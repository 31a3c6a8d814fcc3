"""`python -m demo` (what `make demo` runs): seed local clouds, audit them with the real CLI, write the reports.

Usage: python -m demo [--out DIR]     (default: $RESIDENCY_AUDIT_DEMO_OUT, else ./demo-out)

Exit status: 0 when everything ran as intended (the scan itself exits 1, because the estate breaks the profile on
purpose); 1 when the scan crashed or produced no report, or seeding failed; 130 on Ctrl-C, 143 on SIGTERM.
Every server the demo started is stopped in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the servers live in tests/servers, shared with the test suite
    sys.path.insert(0, str(REPO))

PROFILE = "eu-sovereign"
OUT_ENV = "RESIDENCY_AUDIT_DEMO_OUT"
FORMATS = (("html", "report.html"), ("sarif", "report.sarif"), ("markdown", "report.md"))
# scan/check exit codes that mean "ran and reported": 0 pass, 1 violations, 3 incomplete
REPORTED = (0, 1, 3)
EXIT_MEANING = {
    0: "pass: nothing violates the profile and nothing was skipped",
    1: "fail: policy violations (skips are listed too); a CI job gating on this would stop here",
    2: "usage or input error",
    3: "incomplete: nothing violates, but something could not be read",
}
# Variables of the developer's environment the scanner must never see: credentials, profiles, endpoints and CA
# bundles of real clouds. The servers' env() helpers drop their own prefixes too; this is belt and braces.
_SCRUB_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "GCE_", "RESIDENCY_AUDIT_", "MSI_", "IDENTITY_")
_SCRUB = {"STORAGE_EMULATOR_HOST", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"}


class DemoError(Exception):
    """Something the demo needs did not happen; the message says what."""


class _Terminated(SystemExit):
    """SIGTERM, turned into an exception so every `finally` and context manager runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(128 + signum)


class Clock:
    """Prints steps with the seconds since the demo started."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the demo started."""
        return time.monotonic() - self.start

    def step(self, text: str) -> None:
        """Print one step, timed."""
        print(f"  [{self.elapsed():5.1f}s] {text}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m demo", description="Seed local clouds, audit them with the real CLI, write the reports."
    )
    parser.add_argument("--out", type=Path, default=Path(os.environ.get(OUT_ENV) or "demo-out"), help="report folder")
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _demo(args.out)
    except KeyboardInterrupt:
        print("\ndemo: interrupted; every local server was stopped.", file=sys.stderr)
        return 130
    except _Terminated as exc:
        print("\ndemo: terminated; every local server was stopped.", file=sys.stderr)
        return int(exc.code or 143)
    except DemoError as exc:
        print(f"\ndemo: failed: {exc}", file=sys.stderr)
        return 1
    except Exception:  # a bug or a broken install: the traceback helps, and the servers are stopped all the same
        traceback.print_exc()
        print("\ndemo: failed (see the traceback above); every local server was stopped.", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


def _demo(out: Path) -> int:
    clock = Clock()
    tool = _installed_tool()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("report.json", "report-eusc.json", *(name for _, name in FORMATS)):
        (out / stale).unlink(missing_ok=True)
    _intro(out)

    from tests.servers.aws import AwsEndpoint
    from tests.servers.azure import AzureEndpoint
    from tests.servers.gcp import GcpEndpoint

    from . import estate

    # This process seeds through boto3 and google-cloud-storage: none of the developer's cloud settings may reach
    # them either (botocore would read AWS_PROFILE even with explicit keys), so they go for the demo's lifetime.
    for key in list(os.environ):
        if key.startswith(_SCRUB_PREFIXES) or key in _SCRUB:
            del os.environ[key]
    # loopback traffic must never go through a developer's HTTP proxy, in this process or in the scanner's
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy

    with contextlib.ExitStack() as servers:
        aws = servers.enter_context(AwsEndpoint())
        azure = servers.enter_context(AzureEndpoint())
        gcp = servers.enter_context(GcpEndpoint())
        clock.step(
            f"local endpoints up: AWS {aws.url} (moto {aws.moto_url}), Azure {azure.url}, Google Cloud {gcp.url}"
        )

        planted = {
            "aws": estate.seed_aws(aws),
            "azure": estate.seed_azure(azure),
            "gcp": estate.seed_gcp(gcp),
        }
        sovereign = estate.seed_aws_sovereign(aws)
        total = sum(p.stores for p in planted.values())
        clock.step(
            f"seeded {total} data stores: AWS {planted['aws'].stores} in an organization of 3 accounts, Azure "
            f"{planted['azure'].stores} in 3 subscriptions, Google Cloud {planted['gcp'].stores} in 3 projects "
            f"(+{sovereign.stores} in the AWS European Sovereign Cloud); planted on purpose:"
        )
        for trap in [t for p in (*planted.values(), sovereign) for t in p.traps]:
            print(f"             - {trap}", flush=True)

        env = _child_env(aws, azure, gcp)
        report = out / "report.json"
        print(
            f"\n$ residency-audit scan --provider aws --provider azure --provider gcp --org --profile {PROFILE} "
            f"--format json --output {report}",
            flush=True,
        )
        scan = _run(
            [tool, "scan", "--provider", "aws", "--provider", "azure", "--provider", "gcp", "--org",
             "--profile", PROFILE, "--format", "json", "--output", str(report)],
            env,
            stdout=False,
            stderr=False,
        )  # fmt: skip
        data = _read_report(report, scan)
        clock.step(f"scan finished with exit code {scan.returncode}; {report} written")

        # The European Sovereign Cloud is a partition of its own: its accounts, credentials and endpoints are
        # separate from the commercial partition's, so it is a scan of its own too.
        eusc_report = out / "report-eusc.json"
        print(
            f"\n$ AWS_DEFAULT_REGION=eusc-de-east-1 residency-audit scan --provider aws --profile {PROFILE} "
            f"--format json --output {eusc_report}",
            flush=True,
        )
        eusc = _run(
            [tool, "scan", "--provider", "aws", "--profile", PROFILE, "--format", "json", "--output", str(eusc_report)],
            {**env, "AWS_DEFAULT_REGION": "eusc-de-east-1"},
        )
        eusc_data = _read_report(eusc_report, eusc)
        clock.step(f"AWS European Sovereign Cloud scan finished with exit code {eusc.returncode}; {eusc_report}")
    clock.step("every local server stopped")

    # Scan once, render many: `check` re-evaluates the saved report offline, with no credentials at all.
    print(f"\n$ residency-audit check {report} --profile {PROFILE}\n", flush=True)
    offline = _offline_env()
    table = _run([tool, "check", str(report), "--profile", PROFILE], offline, stdout=False)
    if table.returncode not in REPORTED:
        raise DemoError(f"`residency-audit check {report}` exited {table.returncode}: {table.stderr.strip()}")
    for fmt, name in FORMATS:
        target = out / name
        proc = _run(
            [tool, "check", str(report), "--profile", PROFILE, "--format", fmt, "--output", str(target)], offline
        )
        if proc.returncode not in REPORTED or not target.is_file() or target.stat().st_size == 0:
            raise DemoError(f"`check --format {fmt}` exited {proc.returncode} without writing {target}: {proc.stderr}")

    _summary(out, data, eusc_data, scan.returncode, eusc.returncode, clock)
    return 0


# -- the child processes ------------------------------------------------------------------------------------------


def _installed_tool() -> str:
    """The `residency-audit` installed next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "residency-audit"
    found = str(beside) if beside.is_file() else shutil.which("residency-audit")
    if not found:
        raise DemoError("`residency-audit` is not installed; run `make demo` (it installs the project first)")
    return found


def _scrubbed(base: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in base.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB}


def _child_env(aws: Any, azure: Any, gcp: Any) -> dict[str, str]:
    """The scanner's environment: credentials and endpoints of the local servers only.

    AWS: dummy keys, AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE pointing at nothing, no instance metadata. Azure:
    a stand-in `az` first on PATH, the server's CA bundle, AzureCliCredential only. Google Cloud: a service-account
    key whose token_uri is the local server. The developer's own profiles are never read.
    """
    env = gcp.env(azure.env(aws.env(_scrubbed(os.environ))))
    env["PYTHONUNBUFFERED"] = "1"
    return dict(env)


def _offline_env() -> dict[str, str]:
    env = _scrubbed(os.environ)
    if not sys.stdout.isatty():
        env.setdefault("COLUMNS", "160")
    return env


def _run(
    argv: list[str], env: Mapping[str, str], *, stdout: bool = True, stderr: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a child and wait for it; on Ctrl-C, SIGTERM or any error stop it before the exception goes on.

    ``stdout``/``stderr``: capture that stream (else it goes to the terminal, e.g. the scan's live progress line).
    """
    proc = subprocess.Popen(
        argv,
        env=dict(env),
        stdout=subprocess.PIPE if stdout else None,
        stderr=subprocess.PIPE if stderr else None,
        text=True,
    )
    try:
        out, err = proc.communicate()
    except BaseException:
        with contextlib.suppress(OSError):
            proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out or "", err or "")


def _read_report(path: Path, proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    if proc.returncode not in REPORTED:
        said = proc.stderr.strip()[-2000:] if proc.stderr else "see its message above"
        raise DemoError(f"the scan exited {proc.returncode}: {said or 'no message'}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoError(f"the scan exited {proc.returncode} but left no readable report at {path}: {exc}") from exc
    if not isinstance(data, dict) or not data.get("resources"):
        raise DemoError(f"{path} holds no resources")
    return data


# -- what the demo says ---------------------------------------------------------------------------------------------


def _intro(out: Path) -> None:
    print(
        f"""
residency-audit demo
====================
A fictional group, Acme, keeps data in AWS, Azure and Google Cloud. This demo starts local stand-ins for the three
clouds (in this process, on 127.0.0.1; nothing here talks to a real cloud or reads your credentials), seeds them
with Acme's estate, and audits it with the real `residency-audit` against the bundled profile `{PROFILE}`: every
copy in the EU/EEA, and no reach by a state outside it unless the keys are held outside the provider.
Reports go to {out}/.
""",
        flush=True,
    )


def _summary(out: Path, data: dict[str, Any], eusc: dict[str, Any], code: int, eusc_code: int, clock: Clock) -> None:
    resources = data["resources"]
    providers = Counter(r["provider"] for r in resources)
    accounts = {(r["provider"], r["account"]) for r in resources}
    findings = data.get("findings", [])
    rules = Counter(f["rule"] for f in findings)
    skipped = data.get("skipped", [])
    skipped_under = sorted({_top_scope(s) for s in skipped})
    print("\nWhat to look at (the table above has them all; report.html shows them on a map)")
    for line in _highlights({r["name"]: r for r in resources}, skipped_under, eusc, eusc_code):
        print(f"  - {line}")
    counts = ", ".join(f"{p} {n}" for p, n in sorted(providers.items()))
    by_rule = ", ".join(f"{n} {rule}" for rule, n in sorted(rules.items()))
    print(
        f"""
Summary
  {len(resources)} data stores ({counts}) in {len(accounts)} readable accounts, subscriptions and projects;
  {len(findings)} findings ({by_rule}); {len(skipped)} skipped scopes.
  Coverage: {(data.get("coverage") or {}).get("summary", {}).get("line", "not reported")}.
  The scan exited {code}: {EXIT_MEANING.get(code, "unexpected")}.
  Exit codes: 0 pass, 1 violations, 2 usage error, 3 incomplete. This demo exits 0: everything ran as intended.

Reports in {out}/
  report.json       the full report; gate it again offline, with no credentials, under another profile:
                      .venv/bin/residency-audit check {out}/report.json --profile eu-gdpr
  report.html       one self-contained page with a world map of where the copies sit
  report.sarif      SARIF 2.1.0 for GitHub code scanning
  report.md         Markdown for a pull-request comment
  report-eusc.json  the AWS European Sovereign Cloud account (its own partition, so its own scan)

Done in {clock.elapsed():.1f}s; every local server was stopped.""",
        flush=True,
    )


def _top_scope(skip: Mapping[str, Any]) -> str:
    parts = str(skip.get("scope", "")).split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else str(skip.get("scope", ""))


def _highlights(
    by_name: Mapping[str, dict[str, Any]], skipped_under: Sequence[str], eusc: Mapping[str, Any], eusc_code: int
) -> Iterator[str]:
    def where(name: str) -> str:
        r = by_name.get(name)
        if r is None:
            return f"{name}: not in the report"
        copies = ", ".join(f"{c['location']} ({c['role']})" for c in r["footprint"])
        countries = ", ".join(r["countries"]) or "unknown"
        return f"{name}: {copies}; countries {countries}; key {r['key_control']}; exposure {r['assessment']['level']}"

    yield "S3 replication EU → US: " + where("acme-invoices")
    yield "Azure GRS in Brazil, second copy in Texas: " + where("acmebrgrs")
    yield "GCS EUR8, Frankfurt + Zurich: " + where("acme-data-eur8")
    yield "a replica the scan cannot locate (unknown, never guessed): " + where("acme-research-share")
    yield "Frankfurt with an external key store (one step lower; still RA002 under eu-sovereign): " + where(
        "acme-sovereign-vault"
    )
    if skipped_under:
        yield f"not readable (403), so listed as skipped, never as clean: {', '.join(skipped_under)}"
    rules: dict[str, list[str]] = {}
    for f in eusc.get("findings", []):
        rules.setdefault(f["name"], []).append(f["rule"])
    for r in eusc.get("resources", []):
        verdict = ", ".join(rules[r["name"]]) if r["name"] in rules else "passes"
        yield (
            f"AWS European Sovereign Cloud (German operator, US parent; its own scan, exit {eusc_code}): {r['name']} "
            f"in {', '.join(r['countries'])}, key {r['key_control']}, exposure {r['assessment']['level']}: {verdict}"
        )


if __name__ == "__main__":
    sys.exit(main())
