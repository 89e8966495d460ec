"""The `mlplate` command line: maps flags onto mlplate.api and prints results."""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from mlplate import __version__
from mlplate.errors import MlplateError

app = typer.Typer(
    help="Generate ML repositories with DVC, MLflow, CI, serving and monitoring wired in.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click output: a usage error is one "Error:" line, and no rich import at start-up.
    rich_markup_mode=None,
)
state = {"debug": False}


class EngineName(str, Enum):
    """Rendering engines (same files)."""

    cookiecutter = "cookiecutter"
    copier = "copier"


class ReportFormat(str, Enum):
    """Output of `mlplate check`."""

    text = "text"
    json = "json"


class Host(str, Enum):
    """Where `mlplate update-request` opens its request."""

    github = "github"
    gitlab = "gitlab"


def _print_error(message: str) -> None:
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in message.splitlines():
        console.print(f"[bold red]error:[/] {line}", markup=True)


def _silence_stdout() -> None:
    """The reader of stdout went away: later writes, and the flush at exit, go nowhere."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def echo(text: str = "", *, nl: bool = True) -> None:
    """Print to stdout; a reader that went away (`mlplate new x | head -0`) is not an error."""
    try:
        typer.echo(text, nl=nl)
    except BrokenPipeError:
        _silence_stdout()


@contextmanager
def user_errors(exit_code: int = 1) -> Iterator[None]:
    """Turn MlplateError into one red line per problem and ``exit_code``; Ctrl-C into exit 130."""
    try:
        yield
    except MlplateError as error:
        _print_error(str(error))
        raise typer.Exit(exit_code) from None
    except BrokenPipeError:  # the reader of stdout went away: nothing left to say
        _silence_stdout()
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        _print_error("interrupted")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception:
        if state["debug"]:
            raise
        _print_error("internal error, rerun with --debug to see the traceback")
        raise typer.Exit(2) from None


def _version(value: bool) -> None:
    if value:
        echo(f"mlplate {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """Generate ML repositories with DVC, MLflow, CI, serving and monitoring wired in."""
    state["debug"] = debug


def _prompt_missing(given: dict[str, Any], dest: Path) -> dict[str, Any]:
    """Ask every question not answered yet that applies (interactive terminals only)."""
    from mlplate.answers import default_answers, questions

    answers = dict(given)
    for question in questions():
        if question.name in answers or not question.applies({**default_answers(), **answers}):
            continue
        default = dest.name if question.name == "project_name" else question.default
        label = question.help or question.name
        if question.choices:
            label += f" ({'/'.join(map(str, question.choices))})"
        while True:
            raw = typer.prompt(f"{question.name}: {label}", default=default)
            try:
                answers[question.name] = question.parse(raw)
                break
            except MlplateError as error:
                _print_error(str(error))
    return answers


@app.command()
def new(
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="Folder to create (must not exist or be empty).")
    ],
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Answer every question with its default.")
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question."),
    ] = None,
    answers_file: Annotated[
        Path | None, typer.Option("--answers", help="YAML file of answers.")
    ] = None,
    preset_file: Annotated[
        Path | None,
        typer.Option("--preset", help="Team preset: default answers, and locked ones."),
    ] = None,
    engine: Annotated[
        EngineName, typer.Option(help="Rendering engine (both write the same files).")
    ] = EngineName.cookiecutter,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Run git init and an initial commit.")
    ] = True,
    template_url: Annotated[
        str | None,
        typer.Option(
            "--template-url",
            help="Template source the project records for updates (a team's fork or mirror).",
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option("--vcs-ref", help="Render a past release (vX.Y.Z) from the bundled history."),
    ] = None,
) -> None:
    """Generate a new ML project at DEST."""
    with user_errors():
        from mlplate.answers import parse_data_pairs
        from mlplate.api import generate, load_preset

        preset = load_preset(preset_file) if preset_file is not None else None
        given: dict[str, Any] = parse_data_pairs(data or [])
        if not defaults and sys.stdin.isatty():
            fixed = {**preset.locked} if preset is not None else {}
            given = _prompt_missing({**fixed, **given}, dest)
        started = time.perf_counter()
        result = generate(
            dest,
            answers=given,
            answers_file=answers_file,
            engine=engine.value,
            git=git,
            preset=preset,
            template_url=template_url,
            vcs_ref=vcs_ref,
        )
        elapsed = time.perf_counter() - started
        echo(f"Created {result.path} with {engine.value} in {elapsed:.2f} s. Next:")
        echo(f"  cd {shlex.quote(str(result.path))} && make setup")
        echo("  make all")


@app.command()
def update(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The project to update.")] = Path(
        "."
    ),
    to: Annotated[
        str | None, typer.Option("--to", help="Template version (vX.Y.Z); default: latest.")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Change an answer."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the changes; write nothing.")
    ] = False,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust", help="Run the migrations of a template source other than mlplate's own."
        ),
    ] = False,
) -> None:
    """Merge template improvements into a generated project, offline; exit 1 on conflicts."""
    with user_errors():
        from mlplate.answers import parse_answers, parse_data_pairs
        from mlplate.api import update as run_update
        from mlplate.update import describe_conflicts, describe_kept

        values = parse_answers(parse_data_pairs(data or []))
        result = run_update(path, to=to, data=values, dry_run=dry_run, trust=trust)
        if dry_run:
            echo(result.diff or "no changes")
        if result.changelog:
            echo(f"What changed in the template:\n\n{result.changelog}\n")
        verb = "would change" if dry_run else "changed"
        echo(f"{result.from_version} -> {result.to_version}: {verb} {len(result.changed)} file(s)")
        if kept := describe_kept(result):
            echo(kept)
        if result.needs_a_person:
            raise MlplateError(describe_conflicts(result))


@app.command("update-request")
def update_request(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The project (a clean checkout).")
    ] = Path("."),
    host: Annotated[
        Host, typer.Option("--host", help="Where the project is hosted.")
    ] = Host.github,
) -> None:
    """In CI: merge the latest template release on a branch and open or refresh its request.

    Conflicts are committed as markers and listed in the request.
    """
    with user_errors():
        from mlplate.update_request import update_request as run_request

        echo(run_request(path, host.value))


@app.command()
def check(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The project to check.")] = Path("."),
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Report as text or JSON.")
    ] = ReportFormat.text,
    preset_location: Annotated[
        str | None,
        typer.Option("--preset", help="The team's central preset (file or http(s) URL)."),
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Show the changed lines of each changed file.")
    ] = False,
) -> None:
    """Report drift from the template and the team preset.

    Exit 0: clean; 1: violations; 2: the project could not be checked.
    """
    import json

    as_json = output_format is ReportFormat.json
    with user_errors(exit_code=2):
        from mlplate.api import check as run_check

        try:
            report = run_check(path, preset=preset_location)
        except MlplateError as error:
            if not as_json:
                raise
            echo(json.dumps({"error": str(error), "violations": None}, indent=2))
            raise typer.Exit(2) from None
    if as_json:
        echo(json.dumps(report.as_dict(with_diff=diff), indent=2))
    else:
        echo(report.as_text(with_diff=diff))
    if report.violations:
        raise typer.Exit(1)


@app.command()
def eject(
    part: Annotated[str, typer.Argument(help="The runtime part to take over (see --help).")],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The project.")] = Path("."),
) -> None:
    """Copy one part of mlplate-runtime into the project, which then owns it.

    Parts: serving, monitoring, alerts, report, model_card.
    """
    with user_errors():
        from mlplate.eject import PARTS
        from mlplate.eject import eject as run_eject

        result = run_eject(path, part)
        echo(f"ejected {part} ({PARTS[part]}) into src/{result.package}/{part}:")
        for name in result.files:
            echo(f"  {name}")
        echo("the project owns these now: the runtime imports them in place of its own, and")
        echo("updates leave them alone. Run `make setup` so the installed project declares them.")


@app.command()
def options() -> None:
    """List every question with its type, choices, default and help."""
    with user_errors():
        import shutil
        import textwrap

        from mlplate.answers import questions

        width = max(shutil.get_terminal_size((100, 24)).columns, 40)
        for question in questions():
            kind = question.type
            if question.choices:
                kind += ": " + " | ".join(map(str, question.choices))
            default = str(question.default) if question.default != "" else '""'
            echo(f"{question.name}  ({kind}; default {default})")
            text = question.help + (
                f" (asked when {question.condition})" if question.condition else ""
            )
            echo(textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    "))


preset_app = typer.Typer(help="Team presets of answers.", no_args_is_help=True)
app.add_typer(preset_app, name="preset")


@preset_app.command("export")
def preset_export(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A generated project.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) the preset of an existing project: its team-wide answers, locked."""
    with user_errors():
        from mlplate.api import export_preset

        text = export_preset(path).to_yaml()
        if output is None:
            echo(text, nl=False)
        else:
            if output.exists() or output.is_symlink():
                raise MlplateError(f"{output} exists; choose another file or delete it first")
            if not output.absolute().parent.is_dir():
                raise MlplateError(
                    f"folder {output.absolute().parent} does not exist; create it first"
                )
            try:
                output.write_text(text)
            except OSError as error:
                raise MlplateError(f"cannot write {output}: {error.strerror}") from None
            echo(f"wrote {output}")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so a half-rendered project is removed before exit."""
    raise KeyboardInterrupt


def run() -> None:
    """Console-script entry point."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app()
