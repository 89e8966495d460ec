"""Render the template with copier or cookiecutter into a folder that does not exist yet.

Rendering happens in a hidden temporary folder beside the destination; the
finished project is moved into place with one rename, so a failure half-way
leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from mlplate.errors import MlplateError
from mlplate.git import git, git_succeeds
from mlplate.template import TEMPLATE_PATHS, load_hook, template_root

Engine = Literal["copier", "cookiecutter"]


WORKSPACE_OWNER = ".mlplate-owner"  # the pid of the process rendering in a workspace


def check_destination(dest: Path) -> None:
    """Refuse a destination that holds files or whose parent cannot take a new folder."""
    if dest.is_symlink():
        raise MlplateError(f"destination {dest} is a symbolic link; choose a new folder name")
    if dest.exists() and not dest.is_dir():
        raise MlplateError(f"destination {dest} is a file; choose a new folder name")
    if dest.is_dir() and any(dest.iterdir()):
        raise MlplateError(
            f"destination {dest} is not empty; choose a new folder, "
            f"or run `mlplate update {dest}` to update a generated project"
        )
    parent = dest.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise MlplateError(f"{parent} is a file, not a folder; choose a destination in a folder")
    if not parent.is_dir():
        raise MlplateError(f"parent folder {parent} does not exist; create it first")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_abandoned_workspaces(parent: Path, name: str) -> None:
    """Delete hidden workspaces a killed `mlplate new` left beside ``name`` (owner gone)."""
    for workspace in parent.glob(f".{name}.mlplate-*"):
        owner = workspace / WORKSPACE_OWNER
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue  # not ours to judge: no owner recorded
        if not _alive(pid):
            shutil.rmtree(workspace, ignore_errors=True)


def render_copier(out: Path, answers: Mapping[str, Any]) -> None:
    """Render the template into the new folder ``out`` with copier."""
    import copier

    with tempfile.TemporaryDirectory() as work, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(_plain_template(Path(work))),
            out,
            data=dict(answers),
            defaults=True,
            quiet=True,
            unsafe=False,
        )


def _plain_template(work: Path) -> Path:
    """The template as plain files: in a git checkout copier would clone the whole repository."""
    root = template_root()
    if not (root / ".git").exists():
        return root
    for name in TEMPLATE_PATHS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, work / name)
    return work


def cookiecutter_context(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The context cookiecutter would build, with every answer kept literal.

    cookiecutter renders each context value as a Jinja template, so an answer such as
    ``{{ cycler.__init__.__globals__.os.system(...) }}`` would run code. Here only the
    template's own defaults (cookiecutter.json) are rendered; answers are data.
    """
    from cookiecutter.environment import StrictEnvironment

    defaults = json.loads((template_root() / "cookiecutter.json").read_text(encoding="utf-8"))
    environment = StrictEnvironment(context={"cookiecutter": defaults})
    values: dict[str, Any] = {}
    for key, default in defaults.items():
        if key in answers:
            values[key] = answers[key]
        elif key.startswith("_") and not key.startswith("__"):
            values[key] = default  # private: neither asked nor rendered, as cookiecutter does
        elif isinstance(default, list):
            values[key] = default[0]
        elif isinstance(default, str):
            values[key] = environment.from_string(default).render(cookiecutter=values)
        else:
            values[key] = default
    # As cookiecutter sets it: the hooks find copier.yml there.
    values["_repo_dir"] = str(template_root())
    # resolve_answers already rendered copier.yml's validators: the hook need not do it again.
    values["_validated_by"] = "mlplate"
    return {"cookiecutter": values}


def render_cookiecutter(out: Path, answers: Mapping[str, Any]) -> None:
    """Render the template into the new folder ``out`` with cookiecutter.

    The hooks' logic runs here, in this process (two fewer interpreters to start): the
    answers are already validated, and the post-generation hook's removal is called directly.
    """
    from cookiecutter.generate import generate_files

    context = cookiecutter_context(answers)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".cookiecutter-"))
    try:
        project = generate_files(
            repo_dir=str(template_root()),
            context=context,
            output_dir=str(staging),
            accept_hooks=False,
        )
        post_gen = load_hook("post_gen_project")
        post_gen.remove_paths(Path(project), post_gen.paths_to_remove(context["cookiecutter"]))
        os.rename(project, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


RENDERERS: dict[str, Callable[[Path, Mapping[str, Any]], None]] = {
    "copier": render_copier,
    "cookiecutter": render_cookiecutter,
}


def render_project(
    dest: Path,
    answers: Mapping[str, Any],
    *,
    engine: Engine = "cookiecutter",
    finish: Callable[[Path], None] | None = None,
    renderer: Callable[[Path, Mapping[str, Any]], Any] | None = None,
) -> Path:
    """Render into a temporary folder, run ``finish`` on it, then move it to ``dest``.

    ``renderer`` replaces the engine's (a past release rendered from the bundled history).
    """
    check_destination(dest)
    parent = dest.absolute().parent
    remove_abandoned_workspaces(parent, dest.name)
    try:
        workspace = Path(tempfile.mkdtemp(dir=parent, prefix=f".{dest.name}.mlplate-"))
        (workspace / WORKSPACE_OWNER).write_text(str(os.getpid()))
    except OSError as error:
        raise MlplateError(
            f"cannot write in {parent}: {error.strerror}; choose a destination in a writable folder"
        ) from None
    try:
        out = workspace / "project"
        (renderer or RENDERERS[engine])(out, answers)
        if finish is not None:
            finish(out)
        if dest.is_dir():
            dest.rmdir()
        os.rename(out, dest)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return dest


def git_init(project: Path, *, author_name: str, author_email: str, message: str) -> None:
    """Make ``project`` a git repository with one commit holding every file."""
    if shutil.which("git") is None:
        raise MlplateError("git is not installed; install git or pass --no-git")

    git("init", "--quiet", "--initial-branch=main", cwd=project)
    identity: list[str] = []
    if not git_succeeds("config", "user.email", cwd=project):
        identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
    git("add", "--all", cwd=project)
    git(*identity, "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, cwd=project)
