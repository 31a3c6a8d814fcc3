"""`python -m build` makes a wheel and an sdist that install in a clean venv and run; the version has one home.

Slow (a build in an isolated environment, a fresh venv, the dependencies from the package index or pip's cache),
so it is one test that builds once and checks everything on that build.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from residency_audit import __version__

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str | Path, cwd: Path = ROOT) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc.stdout


def test_wheel_and_sdist_build_install_and_run(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the build frontend is a test dependency: pip install -e '.[test]'")
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, ROOT)
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    # the version comes from residency_audit/__init__.py, and only from there
    assert (
        wheel.name.startswith(f"residency_audit-{__version__}-")
        and sdist.name == f"residency_audit-{__version__}.tar.gz"
    )
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and __version__ not in pyproject

    names = set(zipfile.ZipFile(wheel).namelist())
    data = {"kb/aws.toml", "profiles/eu-gdpr.toml", "schema/report-v2.schema.json", "reporters/world.json",
            "reporters/report.js", "reporters/report.css", "permissions/aws-iam-policy.json", "py.typed"}  # fmt: skip
    assert {f"residency_audit/{d}" for d in data} <= names
    assert not any(n.startswith(("tests/", "bench/", "demo/")) for n in names)
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "residency_audit/reporters/report.js"} <= members

    env_dir = tmp_path / "clean"
    venv.create(env_dir, with_pip=True)
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "residency-audit"
    _run(python, "-m", "pip", "install", "--quiet", wheel)
    assert _run(cli, "--version").strip() == f"residency-audit {__version__}"
    probe = "import importlib.metadata as m, residency_audit as r; print(m.version('residency-audit'), r.__version__)"
    assert _run(python, "-c", probe).split() == [__version__, __version__]
    assert "knowledge base OK" in _run(cli, "kb-check")  # the data files are inside the wheel

    # the sdist builds and installs too (its dependencies are in the venv already)
    _run(python, "-m", "pip", "uninstall", "--quiet", "--yes", "residency-audit")
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", sdist)
    assert _run(cli, "--version").strip() == f"residency-audit {__version__}"
