"""The library layer: plain functions that return results and never print.

generate, update, check and export_preset are the operations the CLI maps its commands onto.

Every policy lives here or below (validation, preset locks, refusal to overwrite): the CLI
only maps flags to these calls and results to text and exit codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate import __version__
from mlplate.answers import derived_names, resolve_answers
from mlplate.answers_file import write_answers_file
from mlplate.check import CheckReport
from mlplate.check import check as check_project
from mlplate.errors import MlplateError
from mlplate.presets import PRESET_FILE, Preset, enforce_locks, fetch_preset, read_preset
from mlplate.presets import export_preset as preset_of
from mlplate.render import Engine, git_init, render_project
from mlplate.runtime_wheel import vendor_runtime
from mlplate.source import check_source
from mlplate.source import template_url as default_template_url
from mlplate.update import update  # merges template changes; refuses answers a preset locks


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
    answers_file: Path | None = None,
    engine: Engine = "cookiecutter",
    git: bool = True,
    preset: Preset | None = None,
    template_url: str | None = None,
    vcs_ref: str | None = None,
) -> Generated:
    """Generate a project at ``dest`` from validated answers (defaults for the rest).

    The project name defaults to the destination's folder name. Either engine gives the
    same files; cookiecutter is the default because it renders in half the time. The answers
    file points at the template source (mlplate's repository, or ``template_url``: a team's
    fork or mirror, also given by the preset) and this release's tag, so `copier update` and
    `mlplate update` find the version the project came from. Raises MlplateError on invalid answers or an unusable
    destination, leaving nothing on disk. ``vcs_ref`` renders a past release of mlplate's
    template from the bundled history instead (offline), and records it.
    """
    dest = Path(dest)
    given = dict(answers or {})
    layers: list[Mapping[str, Any]] = [{"project_name": dest.absolute().name}]
    if answers_file is not None:
        from mlplate.answers import read_answers_file

        from_file = read_answers_file(answers_file)
        if preset is not None:
            enforce_locks(preset, from_file, origin=f"answers file {answers_file}")
        layers.append(from_file)
    if preset is not None:
        enforce_locks(preset, given, origin="the answers (--data)")
        layers += [preset.defaults, preset.locked]
    resolved = resolve_answers(*layers, given)
    if template_url is not None:
        check_source(template_url, origin="--template-url", fix="give the fork's git URL")

    source = template_url or (preset.template_url if preset else None)
    past = _past_release(vcs_ref, source)
    version = past or f"v{__version__}"

    def finish(project: Path) -> None:
        if past is None:  # a past release's render keeps the answers file copier wrote
            metadata = {"_commit": version, "_src_path": source or default_template_url()}
            write_answers_file(project, resolved, metadata)
            vendor_runtime(project)
        if preset is not None:
            (project / PRESET_FILE).write_text(preset.to_yaml())
        if git:
            git_init(
                project,
                author_name=resolved["author_name"],
                author_email=resolved["author_email"],
                message=f"Generate {resolved['project_name']} with mlplate {version[1:]}",
            )

    renderer = _past_renderer(past) if past is not None else None
    render_project(dest, resolved, engine=engine, finish=finish, renderer=renderer)
    return Generated(path=dest, answers=resolved, package_name=derived_names(resolved)[1])


def _past_renderer(version: str) -> Callable[[Path, Mapping[str, Any]], Path]:
    """Render mlplate's template at ``version`` from the bundled history."""
    from mlplate.reference import render_release

    def render(out: Path, answers: Mapping[str, Any]) -> Path:
        return render_release({"_src_path": default_template_url()}, answers, version, out)

    return render


def _past_release(vcs_ref: str | None, source: str | None) -> str | None:
    """The past release to render, checked against the bundled history (None: this one)."""
    if vcs_ref is None or vcs_ref == f"v{__version__}":
        return None
    if source is not None:
        raise MlplateError("--vcs-ref renders mlplate's own releases; drop --template-url")
    from mlplate.history import bundle_tags, history_bundle

    releases = bundle_tags(history_bundle())
    if vcs_ref not in releases:
        raise MlplateError(
            f"release {vcs_ref!r} is not in mlplate's history; releases: {', '.join(releases)}"
        )
    return vcs_ref


def check(project: Path, *, preset: str | None = None) -> CheckReport:
    """Drift of ``project`` from the template and from the team preset (a file or URL)."""
    return check_project(Path(project), central=fetch_preset(preset) if preset else None)


def export_preset(project: Path) -> Preset:
    """The team standard of an existing project: its recorded preset, or its answers locked."""
    return preset_of(Path(project))


def load_preset(path: Path) -> Preset:
    """A preset file (defaults and locked answers)."""
    return read_preset(path)


__all__ = ["Generated", "check", "export_preset", "generate", "load_preset", "update"]
