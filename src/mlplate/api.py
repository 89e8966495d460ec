"""The library layer: plain functions that return results and never print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate import __version__
from mlplate.answers import derived_names, resolve_answers
from mlplate.answers_file import write_answers_file
from mlplate.presets import PRESET_FILE, Preset, enforce_locks
from mlplate.render import Engine, git_init, render_project
from mlplate.source import template_url as default_template_url


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
    engine: Engine = "cookiecutter",
    git: bool = True,
    preset: Preset | None = None,
    template_url: str | None = None,
) -> Generated:
    """Generate a project at ``dest`` from validated answers (defaults for the rest).

    The project name defaults to the destination's folder name. Either engine gives the
    same files; cookiecutter is the default because it renders in half the time. The answers
    file points at the template source (mlplate's repository, or ``template_url``: a team's
    fork or mirror, also given by the preset) and this release's tag, so `copier update` and
    `mlplate update` find the version the project came from. Raises MlplateError on invalid answers or an unusable
    destination, leaving nothing on disk.
    """
    dest = Path(dest)
    given = dict(answers or {})
    layers: list[Mapping[str, Any]] = [{"project_name": dest.absolute().name}]
    if preset is not None:
        enforce_locks(preset, given, origin="the answers")
        layers += [preset.defaults, preset.locked]
    resolved = resolve_answers(*layers, given)

    def finish(project: Path) -> None:
        source = template_url or (preset.template_url if preset else None)
        metadata = {"_commit": f"v{__version__}", "_src_path": source or default_template_url()}
        write_answers_file(project, resolved, metadata)
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
