"""The CI runner behind action.yml and ci/gitlab/residency-audit.gitlab-ci.yml: one gate, every file CI wants.

`python -m residency_audit.ci` reads its settings from RESIDENCY_AUDIT_* variables (so no CI expression is ever
pasted into a shell line), runs `plan`, `scan` or `check` once as the gate, and writes into the output folder:

  report.json                  the JSON report (docs/report-format.md)
  report.sarif                 for GitHub code scanning
  summary.md                   the Markdown summary (a job summary or a merge-request comment)
  gl-code-quality-report.json  GitLab's Code Quality format (its `artifacts:reports:codequality`)

It exits with the gate's documented code (0 pass, 1 violations, 2 usage or input error, 3 incomplete), so the CI
job fails exactly as the CLI would. A scan runs once; the other files are rendered offline from its JSON report.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

COMMANDS = ("plan", "scan", "check")
_SEVERITY = {"error": "critical", "warning": "major", "note": "info"}  # GitLab Code Quality severities


class Settings:
    """The runner's settings, read from the environment; a bad value raises ValueError naming the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        def get(name: str, default: str = "") -> str:
            return env.get(f"RESIDENCY_AUDIT_{name}", default).strip()

        self.command = get("COMMAND", "plan")
        if self.command not in COMMANDS:
            raise ValueError(f"RESIDENCY_AUDIT_COMMAND={self.command!r}: use one of {', '.join(COMMANDS)}")
        self.target = get("TARGET")
        if self.command != "scan" and not self.target:
            what = "a Terraform plan as JSON" if self.command == "plan" else "a saved JSON report"
            raise ValueError(f"RESIDENCY_AUDIT_TARGET is empty: `{self.command}` needs {what}")
        self.profile = get("PROFILE")
        self.fail_on = get("FAIL_ON", "error")
        self.allow_incomplete = get("ALLOW_INCOMPLETE", "false").lower() in ("1", "true", "yes")
        self.args = shlex.split(get("ARGS"))
        self.out = Path(get("OUTPUT_DIR", "residency-audit"))

    def gate_argv(self) -> list[str]:
        """The one command that decides the exit code, writing the JSON report."""
        argv = [self.command, *([self.target] if self.target else [])]
        argv += ["--profile", self.profile] if self.profile else []
        argv += ["--fail-on", self.fail_on]
        if self.allow_incomplete and self.command != "plan":  # plan has no such flag: an incomplete plan fails
            argv.append("--allow-incomplete")
        return [*argv, *self.args, "--format", "json", "--output", str(self.out / "report.json")]

    def render_argv(self, fmt: str, output: Path) -> list[str]:
        """A command that renders the gate's result in another format without reading any cloud again."""
        source = [self.command, self.target] if self.command == "plan" else ["check", str(self.out / "report.json")]
        argv = [*source, *(["--profile", self.profile] if self.profile else []), "--fail-on", self.fail_on]
        extra = self.args if self.command == "plan" else _viewpoint_args(self.args)
        return [*argv, *extra, "--format", fmt, "--output", str(output)]


def _viewpoint_args(args: Sequence[str]) -> list[str]:
    """Of a scan's extra arguments, those `check` understands too (the viewpoint)."""
    kept: list[str] = []
    for i, arg in enumerate(args):
        if arg.split("=", 1)[0] in ("--home", "--trust"):
            kept += [arg] if "=" in arg else [arg, *args[i + 1 : i + 2]]
    return kept


def code_quality(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """GitLab Code Quality issues for the report's unwaived findings, located in `path` (the plan or profile)."""
    issues = []
    for f in report.get("findings", []):
        if f.get("waived"):
            continue
        issues.append(
            {
                "description": f"{f.get('rule')} {f.get('provider')}:{f.get('name') or f.get('resource')}: "
                f"{f.get('message')}",
                "check_name": str(f.get("rule")),
                "fingerprint": str(f.get("fingerprint")),
                "severity": _SEVERITY.get(str(f.get("severity")), "info"),
                "location": {"path": path, "lines": {"begin": 1}},
            }
        )
    return issues


def _cli(argv: list[str]) -> int:
    print("+ residency-audit " + shlex.join(argv), file=sys.stderr, flush=True)
    return subprocess.run([sys.executable, "-m", "residency_audit", *argv], check=False).returncode


def run(env: Mapping[str, str]) -> int:
    """Run the gate and write every file; the gate's exit code."""
    try:
        settings = Settings(env)
    except ValueError as exc:
        print(f"residency-audit CI: {exc}", file=sys.stderr)
        return 2
    settings.out.mkdir(parents=True, exist_ok=True)
    code = _cli(settings.gate_argv())
    report_file = settings.out / "report.json"
    if code not in (0, 1, 3) or not report_file.exists():
        (settings.out / "summary.md").write_text(
            f"## residency-audit\n\nThe gate stopped with exit code {code} (2: usage or input error; see the log).\n",
            encoding="utf-8",
        )
        return code
    for fmt, name in (("sarif", "report.sarif"), ("markdown", "summary.md")):
        rendered = _cli(settings.render_argv(fmt, settings.out / name))
        if rendered not in (0, 1, 3):
            print(f"residency-audit CI: rendering {name} failed (exit {rendered})", file=sys.stderr)
            return rendered
    report = json.loads(report_file.read_text(encoding="utf-8"))
    located = settings.target if settings.command == "plan" else str(report_file)
    issues = code_quality(report, located)
    (settings.out / "gl-code-quality-report.json").write_text(json.dumps(issues, indent=2) + "\n", encoding="utf-8")
    return code


def main() -> None:
    """Entry point: `python -m residency_audit.ci` (settings in RESIDENCY_AUDIT_* variables)."""
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
