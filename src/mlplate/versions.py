"""The template releases a project can move between, and checks on the versions users name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlplate.errors import MlplateError
from mlplate.git import git
from mlplate.release_tags import RELEASE, version_key
from mlplate.source import check_source, git_safety_environment, is_own_source


def available_versions(answers: Mapping[str, Any]) -> list[str]:
    """Release tags of the project's template source, oldest first.

    mlplate's own source is read from the bundled history (offline); any other source
    (a team's fork) is asked with `git ls-remote`.
    """
    source = str(answers["_src_path"])
    if is_own_source(source):
        from mlplate.history import bundle_tags, history_bundle

        return bundle_tags(history_bundle())
    check_source(source, origin="the template source", fix="record the template's git URL")
    try:
        listing = git(
            "ls-remote",
            "--tags",
            "--refs",
            "--",  # the source is an operand, never an option
            source,
            env=git_safety_environment(),
        )
    except MlplateError as error:
        reason = str(error).rsplit(": ", 1)[-1]
        raise MlplateError(f"cannot read the template source {source}: {reason}") from None
    tags = [line.rsplit("/", 1)[-1] for line in listing.splitlines()]
    return sorted((tag for tag in tags if RELEASE.match(tag)), key=version_key)


def check_version(version: str, versions: list[str], *, role: str, own: bool = True) -> None:
    """Refuse a version that is not a release of the source, listing the ones that exist.

    A fork (``own`` False) may record a commit rather than a release; git resolves it.
    """
    if version in versions or (not own and not RELEASE.match(version)):
        return
    listed = ", ".join(versions) if versions else "none"
    if role == "recorded":
        raise MlplateError(
            f"the project records template version {version!r}, which is not a release of its "
            f"template source (releases: {listed}); set _commit in .copier-answers.yml to the "
            "release it was generated from"
        )
    raise MlplateError(f"template version {version!r} does not exist; releases: {listed}")


def versions_behind(version: str, versions: list[str]) -> int:
    """How many releases came after ``version``."""
    return len(versions) - 1 - versions.index(version) if version in versions else 0
