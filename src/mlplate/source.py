"""Where generated projects say their template comes from, and how to reach it offline.

The template source is mlplate's repository, whose URL is declared once, in
pyproject.toml (``[project.urls] Repository``). A team's fork or internal mirror
replaces it with ``--template-url`` or a preset's ``template_url``. For mlplate's
own source (and the URL projects recorded before v0.2.0) git is told, for one
copier call, to read the release bundle that ships with mlplate instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError

# What projects generated before v0.2.0 recorded; that repository was never published.
LEGACY_URLS = ("https://github.com/mlplate/mlplate-template.git",)


@cache
def template_url() -> str:
    """mlplate's repository URL, from the installed package metadata (or pyproject.toml)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("mlplate").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip() == "Repository":
            return url.strip()
    import tomllib

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]


# The transports a recorded template source may use. A source is read from files a pull request
# can change (.copier-answers.yml, presets), so git must never take it as an option nor reach a
# transport that runs commands (`ext::`, remote helpers).
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"
_URL = re.compile(r"^(https?|ssh|git|file)://[^\s]+$")
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:[^\s]+$")  # git@host:org/repo.git
_SHORTCUT = re.compile(r"^(gh|gl):[\w.-]+/[\w./-]+$")  # copier's gh:org/repo, gl:org/repo


def check_source(source: str, *, origin: str, fix: str) -> str:
    """Return ``source`` if it is a git URL or path git may read; else raise MlplateError.

    Refused: values that begin with ``-`` (git would read an option), remote-helper syntax
    (``transport::address``), control characters, and URL schemes other than https, http,
    ssh, git and file. ``origin`` names the value in the message, ``fix`` ends it.
    """
    text = source.strip()
    if (
        not text
        or text.startswith("-")
        or re.match(r"^[\w+.-]+::", text)  # transport::address runs a remote helper
        or any(ord(char) < 32 for char in text)
        or ("://" in text and not _URL.match(text))
        or (
            ":" in text.split("/", 1)[0]
            and not (_SCP.match(text) or _SHORTCUT.match(text) or _URL.match(text))
            and not re.match(r"^[A-Za-z]:[\\/]", text)  # a Windows drive path
        )
    ):
        shown = text[:60].encode("unicode_escape").decode()
        raise MlplateError(
            f"{origin} {shown!r} is not a git URL or path (https://, ssh://, git@host:repo, "
            f"file:// or a folder); {fix}"
        )
    return text


def git_safety_environment() -> dict[str, str]:
    """Environment for every git call that reads a recorded source: allowed transports only."""
    return {
        "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_TERMINAL_PROMPT": "0",
    }


def is_own_source(url: str) -> bool:
    """Whether ``url`` is mlplate's own template (whose history ships with mlplate)."""
    return url in (template_url(), *LEGACY_URLS)


def offline_git_environment(answers: Mapping[str, Any]) -> dict[str, str]:
    """Git environment for a copier call: safe transports, and mlplate's URLs read from the
    local release bundle."""
    safety = git_safety_environment()
    if not is_own_source(str(answers.get("_src_path", ""))):
        return safety
    from mlplate.history import history_bundle

    bundle = history_bundle()
    urls = (template_url(), *LEGACY_URLS)
    environment = {**safety, "GIT_CONFIG_COUNT": str(len(urls))}
    for index, url in enumerate(urls):
        environment[f"GIT_CONFIG_KEY_{index}"] = f"url.{bundle}.insteadOf"
        environment[f"GIT_CONFIG_VALUE_{index}"] = url
    return environment
