"""`python -m build` makes an sdist, and a wheel from that sdist, that installs in a clean venv and runs.

One build, checked whole. The clean venv gets the wheel and, beside it, exactly what the wheel declares: each
distribution of its `Requires-Dist` closure is linked in file by file from this venv (they are the versions pip
resolved for `make install`), and nothing else. So a module the tool imports from a test-only package, or a data file
left out of the wheel, fails here as it would for a user, without a second download and install of the dependencies
(which took most of this test's time); `pip check` then confirms the linked set satisfies every declared requirement.
"""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from residency_audit import __version__

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str | Path, cwd: Path = ROOT) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc.stdout


def _closure(requires: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions `requires` needs, transitively (markers evaluated, extras followed)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dists: dict[str, metadata.Distribution] = {}
    followed: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements are queued
    todo = [(text, "") for text in requires]
    while todo:
        text, extra = todo.pop()
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(req.name)
        dist = dists.setdefault(key, metadata.distribution(req.name))
        assert req.specifier.contains(dist.version, prereleases=True), f"{req}: {dist.version} installed"
        for wanted in ("", *req.extras):
            if (key, wanted) not in followed:
                followed.add((key, wanted))
                todo += [(r, wanted) for r in dist.requires or []]
    return dists


def _link(dists: dict[str, metadata.Distribution], site: Path) -> None:
    """Make `dists`, and no other distribution of this venv, importable from `site`, by symlinks.

    Each file of theirs is reached through the shortest path prefix that holds no other distribution's file: a whole
    package folder or dist-info at once, but inside a folder shared with an unwanted distribution (a namespace such as
    `azure/`, which the test-only `azure-mgmt-*` share) only the wanted entries.
    """
    from packaging.utils import canonicalize_name

    taken: set[tuple[str, ...]] = set()  # every prefix of every path an unwanted distribution installed
    for dist in metadata.distributions():
        if canonicalize_name(dist.metadata["Name"]) not in dists:
            for file in dist.files or []:
                taken.update(file.parts[:i] for i in range(1, len(file.parts) + 1))
    linked: set[tuple[str, ...]] = set()
    for dist in dists.values():
        for file in dist.files or []:
            if file.parts[0] == "..":
                continue  # console scripts, outside site-packages
            prefix = next(
                (file.parts[:i] for i in range(1, len(file.parts)) if file.parts[:i] not in taken), file.parts
            )
            if prefix in linked or any(prefix[:i] in linked for i in range(1, len(prefix))):
                continue
            source = Path(str(dist.locate_file(Path(*prefix))))
            if source.exists():
                (site / Path(*prefix)).parent.mkdir(parents=True, exist_ok=True)
                (site / Path(*prefix)).symlink_to(source)
                linked.add(prefix)


def test_wheel_and_sdist_build_install_and_run(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the build frontend is a test dependency: pip install -e '.[test]'")
    dist = tmp_path / "dist"
    # no --sdist/--wheel: the sdist is built, then the wheel is built from the unpacked sdist (so the sdist builds)
    _run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
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

    [meta] = [n for n in names if n.endswith(".dist-info/METADATA")]
    declared = Parser().parsestr(zipfile.ZipFile(wheel).read(meta).decode()).get_all("Requires-Dist") or []
    assert any(r.startswith("boto3") for r in declared)  # the runtime dependencies (and the [test] extra's, marked)

    env_dir = tmp_path / "clean"
    venv.create(env_dir, with_pip=False)  # pip is driven from outside (`pip --python`): no ensurepip
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "residency-audit"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    assert site != Path(sysconfig.get_path("purelib"))
    _link(_closure(declared), site)
    pip = (sys.executable, "-m", "pip", "--python", python)
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel)
    _run(*pip, "check")  # every declared requirement of everything in the clean venv is met
    # run outside the source tree, so `python -c` cannot import the package from it
    assert _run(cli, "--version", cwd=tmp_path).strip() == f"residency-audit {__version__}"
    probe = "import importlib.metadata as m, residency_audit as r; print(m.version('residency-audit'), r.__version__)"
    assert _run(python, "-c", probe, cwd=tmp_path).split() == [__version__, __version__]
    assert "knowledge base OK" in _run(cli, "kb-check", cwd=tmp_path)  # the data files are inside the wheel
    # the installed copy is what ran, and no test-only package is importable beside it
    where = "import residency_audit, importlib.util as u; print(residency_audit.__file__, u.find_spec('moto'))"
    assert _run(python, "-c", where, cwd=tmp_path).split() == [str(site / "residency_audit" / "__init__.py"), "None"]
