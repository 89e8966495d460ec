"""The library layer: plain functions that return results and never print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate import __version__
from mlplate.answers import derived_names, resolve_answers
from mlplate.presets import PRESET_FILE, Preset, enforce_locks
from mlplate.render import Engine, git_init, render_project
from mlplate.update import ANSWERS_FILE, TEMPLATE_URL


@dataclass(frozen=True)
class Generated:
    """What ``generate`` made."""

    path: Path
    answers: dict[str, Any]
    package_name: str


def generate(
    dest: Path,
    *,
    answers: Mapping[str, Any] | None = None,
    engine: Engine = "copier",
    git: bool = True,
    preset: Preset | None = None,
) -> Generated:
    """Generate a project at ``dest`` from validated answers (defaults for the rest).

    The project name defaults to the destination's folder name. Raises
    MlplateError on invalid answers or an unusable destination, leaving nothing on disk.
    """
    dest = Path(dest)
    given = dict(answers or {})
    layers: list[Mapping[str, Any]] = [{"project_name": dest.absolute().name}]
    if preset is not None:
        enforce_locks(preset, given, origin="the answers")
        layers += [preset.defaults, preset.locked]
    resolved = resolve_answers(*layers, given)

    def finish(project: Path) -> None:
        if engine == "copier":
            record_template_version(project)
        if preset is not None:
            (project / PRESET_FILE).write_text(preset.to_yaml())
        if git:
            git_init(
                project,
                author_name=resolved["author_name"],
                author_email=resolved["author_email"],
                message=f"Generate {resolved['project_name']} with mlplate {__version__}",
            )

    render_project(dest, resolved, engine=engine, finish=finish)
    return Generated(path=dest, answers=resolved, package_name=derived_names(resolved)[1])


def record_template_version(project: Path) -> None:
    """Point the answers file at the released template (URL and tag) so updates can find it.

    mlplate renders from its packaged folder, which copier records as a local path with no
    version; the release history bundle holds the same template under TEMPLATE_URL.
    """
    path = project / ANSWERS_FILE
    lines = path.read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("_src_path:", "_commit:"))]
    header = [line for line in kept if line.startswith("#")]
    body = [line for line in kept if not line.startswith("#")]
    path.write_text(
        "\n".join([*header, f"_commit: v{__version__}", f"_src_path: {TEMPLATE_URL}", *body]) + "\n"
    )
