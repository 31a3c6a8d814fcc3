"""The CI integrations as a user copies them: action.yml's steps and the GitLab template's script, run here.

The action's `run:` steps are executed by bash with the env its `${{ … }}` expressions give for chosen inputs
(setup-python and the SARIF upload are GitHub's own actions: their inputs are checked, not run; the install step
is not run either, as it would replace this venv's editable install). The GitLab template's jobs are resolved
through `extends` and their scripts run the same way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from residency_audit.ci import Settings, code_quality

from .test_reporters import make_report

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "plans"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
GITLAB = yaml.safe_load((ROOT / "ci" / "gitlab" / "residency-audit.gitlab-ci.yml").read_text(encoding="utf-8"))
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
VENV_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"


def _eval(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps.gate.outputs."):
            return outputs[expr.removeprefix("steps.gate.outputs.")]
        raise AssertionError(f"unexpected expression {expr!r}")

    return EXPR.sub(one, text)


def run_action(tmp: Path, **given: str) -> dict[str, Any]:
    """Run the action's steps for `given` inputs (names with _ for -); what a job would see."""
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    for key, value in given.items():
        assert key.replace("_", "-") in inputs, f"no input {key}"
        inputs[key.replace("_", "-")] = value
    inputs["output-dir"] = str(tmp / "out")
    tmp.mkdir(parents=True, exist_ok=True)
    github_output, summary = tmp / "github_output", tmp / "step_summary"
    github_output.touch()
    summary.touch()
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    uploaded: str | None = None
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            if "upload-sarif" in step["uses"]:
                uploaded = _eval(step["with"]["sarif_file"], inputs, outputs)
            continue
        if step["name"].startswith("Install"):
            assert "pip install" in step["run"] and "residency-audit --version" in step["run"]
            continue
        env = {**os.environ, "PATH": VENV_PATH, "GITHUB_OUTPUT": str(github_output),
               "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
        env |= {k: _eval(str(v), inputs, outputs) for k, v in step.get("env", {}).items()}
        assert "${{" not in step["run"]  # no expression pasted into a shell line
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=ROOT, env=env, capture_output=True, text=True)
        codes[step.get("id", step["name"])] = proc.returncode
        outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if "=" in line)
    out = Path(inputs["output-dir"])
    return {
        "gate": int(outputs["exit-code"]),
        "job": codes["Fail by the documented exit code"],
        "uploaded": uploaded,
        "summary": summary.read_text(encoding="utf-8"),
        "report": json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else None,
        "out": out,
        "outputs": outputs,
    }


def test_action_declares_what_it_uses() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used == set(ACTION["inputs"]), used ^ set(ACTION["inputs"])
    assert ACTION["runs"]["using"] == "composite"
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"] if "run" in step)
    assert {"exit-code", "report", "sarif"} <= set(ACTION["outputs"])


def test_plan_gate_uploads_sarif_writes_summary_and_fails_on_violations(tmp_path: Path) -> None:
    result = run_action(tmp_path, target=str(PLANS / "aws.json"), profile="eu-sovereign")
    assert result["gate"] == 1 and result["job"] == 1
    assert result["report"]["profile"]["name"] == "eu-sovereign" and result["report"]["source"]["kind"] == "plan"
    sarif = json.loads(Path(result["uploaded"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert result["summary"].startswith("### ❌ fail") and "eu-sovereign" in result["summary"]
    assert result["outputs"]["report"] == str(result["out"] / "report.json")
    issues = json.loads((result["out"] / "gl-code-quality-report.json").read_text())
    assert issues and all(i["location"]["path"] == str(PLANS / "aws.json") for i in issues)


def test_fail_on_maps_to_the_flag(tmp_path: Path) -> None:
    relaxed = run_action(tmp_path / "a", target=str(PLANS / "azure.json"), profile="eu-gdpr")
    assert relaxed["gate"] == 0 and relaxed["job"] == 0
    assert relaxed["report"]["summary"]["findings"]["warning"] > 0
    strict = run_action(tmp_path / "b", target=str(PLANS / "azure.json"), profile="eu-gdpr", fail_on="warning")
    assert strict["gate"] == 1 and strict["job"] == 1


def test_args_and_allow_incomplete_map_to_the_flags(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(make_report()), encoding="utf-8")  # holds one skip: incomplete
    base = {"command": "check", "target": str(saved), "profile": "", "args": "--home US"}
    incomplete = run_action(tmp_path / "a", **base)
    assert incomplete["gate"] == 3 and incomplete["job"] == 3
    assert incomplete["report"]["viewpoint"]["label"] == "US"  # --home US reached the CLI
    allowed = run_action(tmp_path / "b", **base, allow_incomplete="true")
    assert allowed["gate"] == 0 and allowed["job"] == 0


def test_bad_input_is_exit_2_with_a_summary(tmp_path: Path) -> None:
    result = run_action(tmp_path, target=str(tmp_path / "missing-plan.json"))
    assert result["gate"] == 2 and result["job"] == 2 and result["uploaded"] and not Path(result["uploaded"]).exists()
    assert "exit code 2" in result["summary"]


def _gitlab_job(name: str) -> dict[str, Any]:
    """A job with its `extends` chain merged (variables deeply, other keys by override), as GitLab does."""
    job = GITLAB[name]
    parent = _gitlab_job(job["extends"]) if "extends" in job else {}
    merged = {**parent, **job}
    merged["variables"] = {**parent.get("variables", {}), **job.get("variables", {})}
    return merged


def test_gitlab_template_jobs(tmp_path: Path) -> None:
    assert {".residency-audit", ".residency-audit-plan", ".residency-audit-scan", ".residency-audit-check"} <= set(
        GITLAB
    )
    for name in (".residency-audit-plan", ".residency-audit-scan", ".residency-audit-check"):
        job = _gitlab_job(name)
        assert job["artifacts"]["reports"]["codequality"] == "residency-audit/gl-code-quality-report.json"
        assert job["artifacts"]["when"] == "always" and job["variables"]["RESIDENCY_AUDIT_COMMAND"] in name
    job = _gitlab_job(".residency-audit-plan")
    (tmp_path / "plan.json").write_bytes((PLANS / "gcp.json").read_bytes())
    env = {**os.environ, "PATH": VENV_PATH, **{k: str(v) for k, v in job["variables"].items()}}
    env["RESIDENCY_AUDIT_PROFILE"] = "eu-sovereign"
    assert "pip install" in " ".join(job["before_script"])
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(job["script"])], cwd=tmp_path, env=env, capture_output=True)
    assert proc.returncode == 1, proc.stderr  # the job fails: the plan violates eu-sovereign
    issues = json.loads((tmp_path / "residency-audit" / "gl-code-quality-report.json").read_text())
    assert issues and {"description", "check_name", "fingerprint", "severity", "location"} <= set(issues[0])
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for name in ("report.json", "report.sarif", "summary.md"):
        assert (tmp_path / "residency-audit" / name).stat().st_size > 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RESIDENCY_AUDIT_COMMAND": "deploy"}, "use one of plan, scan, check"),
        ({"RESIDENCY_AUDIT_COMMAND": "plan"}, "`plan` needs a Terraform plan as JSON"),
        ({"RESIDENCY_AUDIT_COMMAND": "check"}, "`check` needs a saved JSON report"),
    ],
)
def test_settings_refuse_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings(env)


def test_code_quality_leaves_waived_findings_out() -> None:
    report = make_report()
    issues = code_quality(report, "plan.json")
    assert len(issues) == sum(1 for f in report["findings"] if not f["waived"])
    assert {i["severity"] for i in issues} == {"critical", "major", "info"}
