"""The built wheel carries the template: an installed mlplate generates with no checkout."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from mlplate import __version__
from tests.shell import run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[1]


def test_wheel_installed_mlplate_generates_a_project(tmp_path):
    run("uv", "build", "--wheel", "--out-dir", str(tmp_path / "dist"), cwd=ROOT)
    wheel = next((tmp_path / "dist").glob("mlplate-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlplate/template/copier.yml" in names
    assert "mlplate/template/hooks/pre_gen_project.py" in names
    assert "mlplate/template-history.bundle" in names
    assert any(name.endswith("{{cookiecutter.__project_slug}}/Makefile") for name in names)
    runtime_wheel = f"mlplate/runtime/mlplate_runtime-{__version__}-py3-none-any.whl"
    assert runtime_wheel in names  # what generated projects install

    venv = tmp_path / "venv"
    run("uv", "venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    run(
        "uv",
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
        str(wheel),
        cwd=tmp_path,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    run(str(venv / "bin" / "mlplate"), "new", "from-wheel", "--defaults", cwd=workdir)
    generated = workdir / "from-wheel"
    assert (generated / "src" / "from_wheel" / "__init__.py").is_file()
    vendored = generated / ".mlplate" / "wheels" / Path(runtime_wheel).name
    assert vendored.read_bytes() == zipfile.ZipFile(wheel).read(runtime_wheel)
    assert (generated / ".git").is_dir()
    answers = (generated / ".copier-answers.yml").read_text()
    assert str(ROOT) not in answers  # rendered from the installed package, not this checkout

    # Offline update from the bundled history: change an answer, files follow.
    run(str(venv / "bin" / "mlplate"), "update", "--data", "ci=gitlab", cwd=generated)
    assert (generated / ".gitlab-ci.yml").is_file()
    assert not (generated / ".github").exists()


def install(venv: Path, requirement: str, cwd: Path) -> Path:
    run("uv", "venv", "--quiet", "--python", sys.executable, str(venv), cwd=cwd)
    python = str(venv / "bin" / "python")
    run("uv", "pip", "install", "--quiet", "--python", python, requirement, cwd=cwd)
    return venv / "bin" / "mlplate"


def test_the_sdist_installs_and_updates_offline(tmp_path):
    """Built from the sdist (no .git), the wheel still carries the template and its history."""
    run("uv", "build", "--sdist", "--out-dir", str(tmp_path / "dist"), cwd=ROOT)
    sdist = next((tmp_path / "dist").glob("mlplate-*.tar.gz"))
    mlplate = install(tmp_path / "venv", str(sdist), tmp_path)
    run(str(mlplate), "new", "from-sdist", "--defaults", cwd=tmp_path)
    project = tmp_path / "from-sdist"
    assert (
        project / ".mlplate" / "wheels" / f"mlplate_runtime-{__version__}-py3-none-any.whl"
    ).is_file()
    run(str(mlplate), "update", "--data", "docs=false", cwd=project)
    assert not (project / "mkdocs.yml").exists()
    assert "CHANGELOG.md" in run("tar", "tzf", str(sdist), cwd=tmp_path).stdout


def test_pip_installs_from_a_git_url(tmp_path):
    clone = tmp_path / "mlplate"
    run("git", "clone", "--quiet", str(ROOT), str(clone), cwd=tmp_path)
    mlplate = install(tmp_path / "venv", f"mlplate @ git+file://{clone}", tmp_path)
    run(str(mlplate), "new", "from-git", "--defaults", cwd=tmp_path)
    checked = run(str(mlplate), "check", "from-git", cwd=tmp_path)
    assert "ok: the project follows the template" in checked.stdout
