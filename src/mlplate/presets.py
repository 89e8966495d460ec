"""Team presets: answers a team standardises on, some of them locked.

A preset is a YAML mapping of answers (defaults the user may override) with an
optional ``locked:`` mapping of answers nobody may change. `mlplate new --preset`
records it in the project as PRESET_FILE, which `update` and `check` respect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError

PRESET_FILE = ".mlplate-preset.yml"
# Answers that describe one project, not a team standard: never exported.
PROJECT_SPECIFIC = ("project_name", "description")


@dataclass(frozen=True)
class Preset:
    """Default answers and locked answers, with where they came from."""

    source: str
    defaults: dict[str, Any] = field(default_factory=dict)
    locked: dict[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        import yaml

        content: dict[str, Any] = dict(self.defaults)
        if self.locked:
            content["locked"] = dict(self.locked)
        header = f"# mlplate preset (from {self.source}); answers under locked: cannot be changed\n"
        return header + yaml.safe_dump(content, sort_keys=False)

    def violations(self, answers: Mapping[str, Any]) -> list[str]:
        """Locked answers that ``answers`` contradict."""
        return [
            f"answer {key!r} is {answers.get(key)!r}, but preset {self.source} locks it to {value!r}"
            for key, value in self.locked.items()
            if key in answers and str(answers[key]).lower() != str(value).lower()
        ]


def read_preset(path: Path) -> Preset:
    """Load and validate a preset file."""
    from mlplate.answers import questions_by_name, read_answers_file

    raw = read_answers_file(path)
    locked = raw.pop("locked", None) or {}
    if not isinstance(locked, dict):
        raise MlplateError(f"preset {path}: 'locked' must be a mapping of question: answer")
    known = questions_by_name()
    for key in [*raw, *locked]:
        if key not in known:
            raise MlplateError(f"preset {path}: unknown question {key!r}; run `mlplate options`")
    parse = {key: known[key].parse(value) for key, value in raw.items()}
    fixed = {key: known[key].parse(value) for key, value in locked.items()}
    return Preset(source=path.name, defaults=parse, locked=fixed)


def enforce_locks(preset: Preset, overrides: Mapping[str, Any], *, origin: str) -> None:
    """Refuse overrides of locked answers, naming the key and the preset."""
    for key, value in overrides.items():
        if key in preset.locked and str(value).lower() != str(preset.locked[key]).lower():
            raise MlplateError(
                f"answer {key!r} is locked to {preset.locked[key]!r} by preset {preset.source}; "
                f"remove it from {origin} or change the preset"
            )


def project_preset(project: Path) -> Preset | None:
    """The preset recorded in a generated project, if any."""
    path = project / PRESET_FILE
    return read_preset(path) if path.exists() else None


def export_preset(project: Path) -> Preset:
    """The team standard of an existing project: its recorded preset, or its answers locked."""
    import yaml

    recorded = project_preset(project)
    if recorded is not None:
        return recorded
    answers_file = project / ".copier-answers.yml"
    if not answers_file.exists():
        raise MlplateError(f"{project} has no .copier-answers.yml; is it a generated project?")
    answers = yaml.safe_load(answers_file.read_text()) or {}
    from mlplate.answers import questions

    choice_like = {q.name for q in questions() if q.choices or q.type == "bool"}
    picked = {
        k: v for k, v in answers.items() if not k.startswith("_") and k not in PROJECT_SPECIFIC
    }
    return Preset(
        source=project.name,
        defaults={k: v for k, v in picked.items() if k not in choice_like},
        locked={k: v for k, v in picked.items() if k in choice_like},
    )
