"""The scheduled template update in CI: merge the latest release on a branch, push it, and
open (or refresh) one pull request on GitHub or merge request on GitLab.

It is one command, run by the installed mlplate, so nothing after the update depends on
files the update touched: a conflicted Makefile or workflow still gets its request,
with the conflict markers committed and the conflicted files listed.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate.errors import MlplateError
from mlplate.git import git
from mlplate.update import UpdateResult, check_updatable, update

BRANCH = "mlplate/template-update"
TITLE = "Update from the mlplate template"
TIMEOUT_SECONDS = 30


def _git(project: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return git(*args, cwd=project, env=env).strip()


def _require(env: Mapping[str, str], name: str, hint: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise MlplateError(f"{name} is not set; {hint}")
    return value


def _call(method: str, url: str, headers: dict[str, str], body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:200]
        raise MlplateError(f"{method} {url} answered {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise MlplateError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None


@dataclass(frozen=True)
class GitHub:
    """Pull requests through the GitHub REST API (GITHUB_TOKEN from the workflow)."""

    env: Mapping[str, str]
    name: str = "pull request"

    def base(self) -> str:
        return self.env.get("GITHUB_REF_NAME", "").strip()

    def check_settings(self) -> None:
        _require(self.env, "GITHUB_REPOSITORY", "run this in GitHub Actions")
        _require(self.env, "GITHUB_TOKEN", "pass github.token to this step as GITHUB_TOKEN")

    def push_url(self) -> str:
        return "origin"  # actions/checkout leaves the job's token configured for origin

    def open_or_refresh(self, base: str, body: str) -> str:
        api = self.env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        repo = _require(self.env, "GITHUB_REPOSITORY", "run this in GitHub Actions")
        token = _require(self.env, "GITHUB_TOKEN", "pass github.token to this step as GITHUB_TOKEN")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        owner = repo.split("/")[0]
        query = urllib.parse.urlencode({"head": f"{owner}:{BRANCH}", "state": "open"})
        found = _call("GET", f"{api}/repos/{repo}/pulls?{query}", headers)
        if found:
            number = found[0]["number"]
            pull = _call(
                "PATCH",
                f"{api}/repos/{repo}/pulls/{number}",
                headers,
                {"title": TITLE, "body": body},
            )
        else:
            content = {"title": TITLE, "head": BRANCH, "base": base, "body": body}
            pull = _call("POST", f"{api}/repos/{repo}/pulls", headers, content)
        return str(pull.get("html_url", ""))


@dataclass(frozen=True)
class GitLab:
    """Merge requests through the GitLab REST API (GITLAB_TOKEN: a masked project token)."""

    env: Mapping[str, str]
    name: str = "merge request"

    def base(self) -> str:
        return self.env.get("CI_DEFAULT_BRANCH", "").strip()

    def check_settings(self) -> None:
        _require(self.env, "CI_API_V4_URL", "run this in GitLab CI")
        _require(self.env, "CI_PROJECT_ID", "run this in GitLab CI")
        _require(self.env, "GITLAB_TOKEN", "add a masked, protected CI/CD variable")

    def push_url(self) -> str:
        server, path = self.env.get("CI_SERVER_URL", ""), self.env.get("CI_PROJECT_PATH", "")
        # The job's own token cannot push; the project token travels in a header (below).
        return f"{server.rstrip('/')}/{path}.git" if server and path else "origin"

    def open_or_refresh(self, base: str, body: str) -> str:
        api = _require(self.env, "CI_API_V4_URL", "run this in GitLab CI").rstrip("/")
        project = urllib.parse.quote(_require(self.env, "CI_PROJECT_ID", "run this in GitLab CI"))
        token = _require(self.env, "GITLAB_TOKEN", "add a masked, protected CI/CD variable")
        headers = {"PRIVATE-TOKEN": token}
        query = urllib.parse.urlencode({"state": "opened", "source_branch": BRANCH})
        found = _call("GET", f"{api}/projects/{project}/merge_requests?{query}", headers)
        content = {"title": TITLE, "description": body}
        if found:
            iid = found[0]["iid"]
            request = _call(
                "PUT", f"{api}/projects/{project}/merge_requests/{iid}", headers, content
            )
        else:
            content |= {"source_branch": BRANCH, "target_branch": base}
            request = _call("POST", f"{api}/projects/{project}/merge_requests", headers, content)
        return str(request.get("web_url", ""))


FORGES: dict[str, type[GitHub] | type[GitLab]] = {"github": GitHub, "gitlab": GitLab}


def request_body(result: UpdateResult) -> str:
    """The pull/merge request description: versions, conflicts to resolve, the changelog."""
    lines = [
        f"Template {result.from_version} -> {result.to_version}: {len(result.changed)} file(s)."
    ]
    if result.needs_a_person:
        notes = {item.path: item.note for item in result.kept}
        lines += [
            "",
            f"**{len(result.needs_a_person)} file(s) need a person.** Conflict markers are "
            "committed on this branch: the team's lines are between `<<<<<<<` and `=======`, the "
            "release's between `=======` and `>>>>>>>`; combine them, keeping what each side "
            "meant, and delete the markers (apply a `.rej` file's change to the file beside it, "
            "then delete it):",
            "",
            *[
                f"- `{path}`" + (f": {notes[path]}" if path in notes else "")
                for path in result.needs_a_person
            ],
        ]
    carried = [item for item in result.kept if not item.needs_a_person]
    if carried:
        lines += ["", "Changed files the release no longer renders:", ""]
        lines += [f"- `{item.path}`: {item.note}" for item in carried]
    if result.changelog:
        lines += ["", "## What changed in the template", "", result.changelog]
    return "\n".join(lines) + "\n"


def _auth_environment(forge: GitHub | GitLab) -> dict[str, str]:
    """Git configuration (in the environment, never on a command line) for the push."""
    token = forge.env.get("GITLAB_TOKEN", "") if isinstance(forge, GitLab) else ""
    if not token or forge.push_url() == "origin":
        return {}
    import base64

    basic = base64.b64encode(f"oauth2:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def update_request(project: Path, host: str, env: Mapping[str, str] | None = None) -> str:
    """Run the update on BRANCH and open or refresh its request; return what happened."""
    if host not in FORGES:
        raise MlplateError(f"--host {host!r} is unknown; use github or gitlab")
    forge = FORGES[host](env if env is not None else os.environ)
    project = Path(project)
    forge.check_settings()  # before anything is pushed
    check_updatable(project)
    base = forge.base() or _git(project, "rev-parse", "--abbrev-ref", "HEAD")
    if base == "HEAD":
        raise MlplateError("cannot tell the default branch; check out a branch first")
    _git(project, "checkout", "--quiet", "-B", BRANCH)
    result = update(project)
    if not result.changed:
        return f"the template is current ({result.to_version}): no {forge.name}"
    _git(project, "add", "--all", "--", ".")
    _git(
        project,
        "-c",
        "user.name=mlplate",
        "-c",
        "user.email=mlplate@users.noreply.localhost",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",  # the project's hooks are not what the conflicted files need now
        "-m",
        f"{TITLE} ({result.from_version} -> {result.to_version})",
    )
    _git(
        project,
        "push",
        "--force",
        "--quiet",
        forge.push_url(),
        f"HEAD:refs/heads/{BRANCH}",
        env=_auth_environment(forge),
    )
    url = forge.open_or_refresh(base, request_body(result))
    waiting = result.needs_a_person
    state = f"with {len(waiting)} file(s) for a person" if waiting else "cleanly"
    return f"{result.from_version} -> {result.to_version} {state}: {forge.name} {url}"
