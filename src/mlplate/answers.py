"""The template's questions, read from copier.yml, and validation of answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError
from mlplate.template import load_hook, template_root

TRUE_WORDS = {"true", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "off"}


@dataclass(frozen=True)
class Question:
    """One asked question of the template."""

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    when: str | bool = True

    @property
    def condition(self) -> str:
        """The answers that make copier ask this question (empty when it always asks)."""
        if not isinstance(self.when, str):
            return ""
        return self.when.strip().removeprefix("{{").removesuffix("}}").strip()

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Whether copier asks (and records) this question for these answers."""
        if isinstance(self.when, bool):
            return self.when
        import jinja2

        rendered = jinja2.Environment().from_string(self.when).render(**answers)
        return rendered.strip().lower() in TRUE_WORDS

    def parse(self, raw: Any) -> Any:
        """Convert a raw value (a ``--data`` string or a YAML scalar) to this question's type."""
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise MlplateError(f"{self.name}={raw!r} is not a yes/no value; use true or false")
        if raw is None or isinstance(raw, (list, dict, tuple, set)):
            kind = "no value" if raw is None else f"a {type(raw).__name__}"
            raise MlplateError(f"{self.name} must be one {self.type} value, not {kind}")
        value = str(raw)
        if self.choices and value not in self.choices:
            options = ", ".join(str(choice) for choice in self.choices)
            raise MlplateError(f"{self.name}={value!r} is not a choice; use one of: {options}")
        return value


def _load_yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@cache
def copier_config() -> dict[str, Any]:
    """Return copier.yml as a dictionary."""
    return _load_yaml(template_root() / "copier.yml")


@cache
def questions() -> tuple[Question, ...]:
    """Return the asked questions in copier.yml order (derived values excluded)."""
    found = []
    for name, spec in copier_config().items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        found.append(
            Question(
                name=name,
                type=spec.get("type", "str"),
                default=spec.get("default"),
                help=spec.get("help", ""),
                choices=tuple(spec.get("choices", ())),
                when=spec.get("when", True),
            )
        )
    return tuple(found)


def questions_by_name() -> dict[str, Question]:
    """Return the asked questions keyed by name."""
    return {question.name: question for question in questions()}


def default_answers() -> dict[str, Any]:
    """Return the golden-path answers: every question at its default."""
    return {question.name: question.default for question in questions()}


def parse_data_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """Turn ``KEY=VALUE`` strings from ``--data`` into a dictionary."""
    data = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise MlplateError(
                f"--data {pair!r} is not KEY=VALUE; write for example --data ci=gitlab"
            )
        data[key.strip()] = value
    return data


def read_answers_file(path: Path) -> dict[str, Any]:
    """Read a YAML (or JSON) answers file; keys starting with '_' (copier metadata) are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise MlplateError(f"cannot read answers file {path}: {reason}; check the path") from None
    return parse_answers_text(text, f"answers file {path}")


def parse_answers_text(text: str, origin: str) -> dict[str, Any]:
    """Parse YAML answers (a mapping); ``origin`` names where they came from in errors."""
    import yaml

    from mlplate.safe_yaml import load_yaml

    try:
        loaded = load_yaml(text, origin=origin, fix="fix it or pass answers with --data")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MlplateError(
            f"{origin} is not valid YAML{where}; fix it or pass answers with --data"
        ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise MlplateError(
            f"{origin} must hold a mapping of question: answer, not a {type(loaded).__name__}"
        )
    return {str(key): value for key, value in loaded.items() if not str(key).startswith("_")}


def _parse_layer(layer: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    known = questions_by_name()
    parsed = {}
    for name, raw in layer.items():
        question = known.get(name)
        if question is None:
            errors.append(f"unknown question {name!r}; run `mlplate options` to list the questions")
            continue
        try:
            parsed[name] = question.parse(raw)
        except MlplateError as error:
            errors.append(str(error))
    return parsed


def parse_answers(layer: Mapping[str, Any]) -> dict[str, Any]:
    """Convert raw answers to their questions' types; raise naming every unknown or invalid one."""
    errors: list[str] = []
    parsed = _parse_layer(layer, errors)
    if errors:
        raise MlplateError("\n".join(errors))
    return parsed


def resolve_answers(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge answer layers over the defaults (later layers win), convert and validate them.

    Raises MlplateError naming every invalid answer, one per line.
    """
    answers = default_answers()
    errors: list[str] = []
    for layer in layers:
        answers.update(_parse_layer(layer, errors))
    errors += load_hook("pre_gen_project").answer_errors(answers)
    if errors:
        raise MlplateError("\n".join(errors))
    return answers


def derived_names(answers: Mapping[str, Any]) -> tuple[str, str]:
    """Return (project_slug, package_name) for validated answers."""
    return load_hook("pre_gen_project").derive_names(answers["project_name"])
