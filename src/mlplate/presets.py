"""Team presets: answers a team standardises on, some of them locked.

A preset is a YAML mapping of answers (defaults the user may override) with an
optional ``locked:`` mapping of answers nobody may change, and an optional
``template_url:`` (the team's fork or mirror of the template). `mlplate new --preset`
records it in the project as PRESET_FILE, which `update` and `check` respect;
`check --preset FILE|URL` checks against the team's central copy instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError
from mlplate.source import check_source

PRESET_FILE = ".mlplate-preset.yml"
# Answers that describe one project, not a team standard: never exported.
PROJECT_SPECIFIC = ("project_name", "description")
FETCH_TIMEOUT_SECONDS = 10  # in all, not per read
MAX_PRESET_BYTES = 1_000_000


@dataclass(frozen=True)
class Preset:
    """Default answers and locked answers, with where they came from."""

    source: str
    defaults: dict[str, Any] = field(default_factory=dict)
    locked: dict[str, Any] = field(default_factory=dict)
    template_url: str | None = None

    def to_yaml(self) -> str:
        import yaml

        content: dict[str, Any] = dict(self.defaults)
        if self.locked:
            content["locked"] = dict(self.locked)
        if self.template_url:
            content["template_url"] = self.template_url
        header = f"# mlplate preset (from {self.source}); answers under locked: cannot be changed\n"
        return header + yaml.safe_dump(content, sort_keys=False)

    def violations(self, answers: Mapping[str, Any]) -> list[str]:
        """Locked answers that ``answers`` contradict."""
        return [
            f"answer {key!r} is {answers.get(key)!r}, but preset {self.source} locks it to {value!r}"
            for key, value in self.locked.items()
            if key in answers and str(answers[key]).lower() != str(value).lower()
        ]


def parse_preset(text: str, source: str) -> Preset:
    """Validate preset YAML text; ``source`` names it in errors."""
    from mlplate.answers import parse_answers_text, questions_by_name

    raw = parse_answers_text(text, f"preset {source}")
    locked = raw.pop("locked", None) or {}
    if not isinstance(locked, dict):
        raise MlplateError(f"preset {source}: 'locked' must be a mapping of question: answer")
    url = raw.pop("template_url", None)
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise MlplateError(f"preset {source}: 'template_url' must be a git URL or path")
    if url is not None:
        check_source(url, origin=f"preset {source}: template_url", fix="fix the preset")
    known = questions_by_name()
    for key in [*raw, *locked]:
        if key not in known:
            raise MlplateError(f"preset {source}: unknown question {key!r}; run `mlplate options`")
    parse = {key: known[key].parse(value) for key, value in raw.items()}
    fixed = {key: known[key].parse(value) for key, value in locked.items()}
    return Preset(source=source, defaults=parse, locked=fixed, template_url=url)


def read_preset(path: Path) -> Preset:
    """Load and validate a preset file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise MlplateError(f"cannot read preset {path}: {reason}; check the path") from None
    return parse_preset(text, Path(path).name)


def fetch_preset(location: str) -> Preset:
    """Load a preset from a file path or an http(s) URL (the team's central copy)."""
    if not location.startswith(("http://", "https://")):
        return read_preset(Path(location))
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(location, timeout=FETCH_TIMEOUT_SECONDS) as response:
            text = _read_bounded(response, location).decode("utf-8")
    except (urllib.error.URLError, OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "reason", None) or error
        raise MlplateError(f"cannot fetch preset {location}: {reason}") from None
    return parse_preset(text, location)


def _read_bounded(response: Any, location: str) -> bytes:
    """The body, read within FETCH_TIMEOUT_SECONDS in all and up to MAX_PRESET_BYTES: a server
    that trickles or floods is refused in one line rather than waited on."""
    deadline = time.monotonic() + FETCH_TIMEOUT_SECONDS
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_PRESET_BYTES:
        raise MlplateError(
            f"cannot fetch preset {location}: it is {int(declared):,} bytes; a preset is at "
            f"most {MAX_PRESET_BYTES:,}"
        )
    body = bytearray()
    while chunk := response.read1(65536):
        body += chunk
        if len(body) > MAX_PRESET_BYTES:
            raise MlplateError(
                f"cannot fetch preset {location}: more than {MAX_PRESET_BYTES:,} bytes; a preset "
                "is a few lines of YAML"
            )
        if time.monotonic() > deadline:
            raise MlplateError(
                f"cannot fetch preset {location}: not complete after {FETCH_TIMEOUT_SECONDS} s"
            )
    return bytes(body)


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
    from mlplate.answers import questions
    from mlplate.answers_file import read_project_answers, recorded_answers

    recorded = project_preset(project)
    if recorded is not None:
        return recorded
    answers = recorded_answers(read_project_answers(project))
    choice_like = {q.name for q in questions() if q.choices or q.type == "bool"}
    picked = {k: v for k, v in answers.items() if k not in PROJECT_SPECIFIC}
    return Preset(
        source=project.name,
        defaults={k: v for k, v in picked.items() if k not in choice_like},
        locked={k: v for k, v in picked.items() if k in choice_like},
    )
