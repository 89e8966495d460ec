"""The project's command line: one sub-command per pipeline stage (dvc.yaml calls these)."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from mlplate_runtime.config import Settings, load_settings
from mlplate_runtime.errors import ProjectError

app = typer.Typer(
    help="The project's pipeline stages and model operations (mlplate runtime).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ParamsOption = Annotated[Path, typer.Option("--params", help="Parameters file.")]


@app.callback()
def _logging() -> None:
    """Log records to stderr as text (MLPLATE_LOG_LEVEL, WARNING by default; see logs.py)."""
    from mlplate_runtime.logs import configure

    try:
        configure()
    except ProjectError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from None


def stage(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command with user errors printed as one line and exit code 1."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ProjectError as error:
            from mlplate_runtime.redact import redact

            typer.secho(f"error: {redact(str(error))}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _alert(settings: Settings, event: str, message: str) -> None:
    """Tell the team's chat (ALERT_WEBHOOK_URL), if alerts are on; best effort."""
    from mlplate_runtime.alerts import send_alert

    send_alert(settings.params.mlflow.registered_model, event, message)


def _settings(params: Path) -> Settings:
    image_root = os.environ.get("PIPELINE_ROOT")  # in a pipeline image: the project's folder
    if image_root and not params.is_absolute() and not params.exists():
        params = Path(image_root) / params
    if not params.exists():
        raise ProjectError(f"{params} does not exist; run from the project root")
    return load_settings(params)


@app.command("check-params")
@stage
def check_params(params: ParamsOption = Path("params.yaml")) -> None:
    """Check params.yaml and the data contract (`make repro` runs it before DVC reads them)."""
    settings = _settings(params)
    typer.echo(f"ok: {params} and {settings.params.data.contract_path}")


@app.command()
@stage
def data(params: ParamsOption = Path("params.yaml")) -> None:
    """Check the raw data against the contract and track it with DVC (the example if allowed)."""
    from mlplate_runtime.data.versioning import ensure_raw_data

    typer.echo(ensure_raw_data(_settings(params)))


@app.command()
@stage
def ingest(
    source: Annotated[
        Path,
        typer.Argument(envvar="DATA_FILE", help="The new drop: same columns, CSV or Parquet."),
    ],
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Validate a new drop of the same dataset; only then replace the raw data and track it."""
    from mlplate_runtime.data.versioning import ingest_drop

    typer.echo(ingest_drop(_settings(params), source))


def _names(listed: str) -> tuple[str, ...]:
    """Comma-separated column names, as a tuple (empty entries dropped)."""
    return tuple(name.strip() for name in listed.split(",") if name.strip())


@app.command("use-data")
@stage
def use_data(
    source: Annotated[
        Path, typer.Argument(envvar="DATA_FILE", help="Your dataset: a CSV or Parquet file.")
    ],
    target: Annotated[str, typer.Option(envvar="DATA_TARGET", help="The column to predict.")],
    task: Annotated[
        str | None,
        typer.Option(envvar="DATA_TASK", help="classification or regression (guessed if omitted)."),
    ] = None,
    sensitive: Annotated[
        str,
        typer.Option(
            envvar="DATA_SENSITIVE", help="Comma-separated sensitive columns (metrics per group)."
        ),
    ] = "",
    exclude: Annotated[
        str,
        typer.Option(envvar="DATA_EXCLUDE", help="Comma-separated columns to leave out (ignored)."),
    ] = "",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Adopt a dataset: copy it to data/raw, infer data/contract.yaml, point params.yaml at it."""
    from mlplate_runtime.data.adopt import use_data as run

    task = task or None  # TASK= given empty: guessed
    if task not in (None, "classification", "regression"):
        raise ProjectError(f"TASK must be classification or regression, not {task!r}")
    adoption = run(
        _settings(params),
        source,
        target=target,
        task=task,
        sensitive=_names(sensitive),
        exclude=_names(exclude),
    )
    contract = adoption.contract
    typer.echo(
        f"adopted {adoption.raw_path} ({adoption.rows} rows) as dataset {contract.name!r}: "
        f"{contract.task}, target {contract.target!r}"
    )
    for name, spec in contract.columns.items():
        low, high = spec.observed_min, spec.observed_max
        allowed = (
            f"dates/times ({spec.format or 'ISO 8601'})"
            if spec.type == "datetime"
            else ", ".join(map(str, spec.categories))
            + (" (seen; others scored)" if spec.open else "")
            if spec.categories
            else f"seen {low:g} to {high:g}"
            if low is not None and high is not None
            else ""
        )
        nullable = ", may be missing" if spec.nullable else ""
        typer.echo(f"  {name:<28} {spec.type:<12} {spec.role:<10} {allowed[:60]}{nullable}")
    for note in adoption.notes:
        typer.echo(f"review: {note}")
    typer.echo(
        f"wrote {_settings(params).params.data.contract_path} and params.yaml (registered model "
        f"{adoption.registered_model!r}). Review the contract, commit, then run `make all`."
    )


@app.command()
@stage
def validate(params: ParamsOption = Path("params.yaml")) -> None:
    """Check the raw data against the data contract (stage `validate`)."""
    from mlplate_runtime.data.prepare import check_raw_data

    summary = check_raw_data(_settings(params))
    typer.echo(f"valid: {summary['rows']} rows, {summary['columns']} columns")


@app.command()
@stage
def prepare(params: ParamsOption = Path("params.yaml")) -> None:
    """Ingest, validate and split the raw data."""
    from mlplate_runtime.data.prepare import prepare as run

    n_train, n_test = run(_settings(params))
    typer.echo(f"prepared {n_train} training and {n_test} test rows")


@app.command()
@stage
def featurize(params: ParamsOption = Path("params.yaml")) -> None:
    """Add engineered features to both splits."""
    from mlplate_runtime.features.build import featurize as run

    run(_settings(params))


@app.command()
@stage
def train(params: ParamsOption = Path("params.yaml")) -> None:
    """Fit the model and log it to MLflow with lineage tags."""
    from mlplate_runtime.models.train import train as run

    info = run(_settings(params))
    typer.echo(f"logged run {info['run_id']}")


@app.command()
@stage
def evaluate(params: ParamsOption = Path("params.yaml")) -> None:
    """Score the holdout; write metrics, per-group metrics and plots."""
    from mlplate_runtime.models.evaluate import evaluate as run

    metrics = run(_settings(params))
    typer.echo(json.dumps(metrics, indent=2))


@app.command()
@stage
def tune(
    apply: Annotated[
        bool, typer.Option(help="Write the best parameters into params.yaml.")
    ] = False,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Search the hyperparameters in params.yaml's tune.space (cross-validation on train only)."""
    from mlplate_runtime.models.tune import tune as run

    settings = _settings(params)
    report = run(settings, apply=apply, params_path=params).report
    trials = ", ".join(f"{count} {state}" for state, count in report["trials"].items())
    typer.echo(f"study {report['study']}: {trials}")
    metric, best, baseline = report["metric"], report["best"], report["baseline"]
    if baseline is not None:
        typer.echo(f"params.yaml's values (trial 0): cv {metric} {baseline['value']:.4f}")
    if best is not None:
        typer.echo(f"best (trial {best['trial']}): cv {metric} {best['value']:.4f}")
        for key, value in best["params"].items():
            typer.echo(f"  {key}: {value}")
    typer.echo(f"report: {settings.path(settings.params.tune.report_path)}")  # type: ignore[union-attr]
    if report["applied"]:
        typer.echo(f"wrote them to {params}; `make repro` trains them, `make register` gates them")
    elif best is not None:
        typer.echo("`make tune APPLY=1` writes them to params.yaml")


@app.command()
@stage
def register(
    params: ParamsOption = Path("params.yaml"),
    allow_uncommitted: Annotated[
        bool, typer.Option(help="Promote a model trained from uncommitted changes.")
    ] = False,
) -> None:
    """Register the model; move `champion` only if it beats the champion by min_delta."""
    from mlplate_runtime.models.registry import register as run

    settings = _settings(params)
    report = run(settings, allow_uncommitted=allow_uncommitted)
    verdict = "promoted to champion" if report["promote"] else "kept as challenger"
    message = f"version {report['candidate_version']} {verdict}: {report['reason']}"
    typer.echo(message)
    if not report["promote"]:
        _alert(settings, "promotion gate: candidate not promoted", message)


@app.command()
@stage
def lineage(params: ParamsOption = Path("params.yaml")) -> None:
    """Print which commit, data and parameters produced the champion."""
    from mlplate_runtime.models.registry import champion_lineage

    for key, value in champion_lineage(_settings(params)).items():
        typer.echo(f"{key:<40} {value}")


@app.command()
@stage
def rollback(
    to: Annotated[
        str | None,
        typer.Option(
            envvar="ROLLBACK_VERSION", help="Version to make champion (default: the previous one)."
        ),
    ] = None,
    reason: Annotated[
        str, typer.Option(envvar="ROLLBACK_REASON", help="Why (tagged on the version).")
    ] = "",
    by: Annotated[
        str,
        typer.Option(
            envvar="ROLLBACK_BY", help="Who (default: git config user.name, else the login name)."
        ),
    ] = "",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Move `champion` back to the previous champion (or --to VERSION); record who and why."""
    from mlplate_runtime.models.rollback import rollback as run

    settings = _settings(params)
    done = run(settings, version=to or None, reason=reason, by=by)
    message = (
        f"champion of {done.model!r} rolled back from version {done.from_version} to "
        f"{done.to_version} ({done.chosen_by}) by {done.by}: {done.reason}"
    )
    typer.echo(message)
    if done.gate_reason is not None:
        typer.secho(
            f"warning: version {done.to_version} failed the promotion gate ({done.gate_reason})",
            fg="yellow",
            err=True,
        )
    typer.echo(
        "serving apps load it at their next registry check (MODEL_RELOAD_SECONDS); "
        "`make lineage` shows what produced it"
    )
    _alert(settings, "champion rolled back", message)


@app.command()
@stage
def report(
    base: Annotated[
        str, typer.Option(envvar="REPORT_BASE", help="Branch or commit to compare with.")
    ] = "origin/main",
    output: Annotated[Path, typer.Option(help="Where to write the Markdown.")] = Path(
        "reports/pr_report.md"
    ),
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Compare metrics and params with BASE; exit 1 if the primary metric regressed too much."""
    from mlplate_runtime.report import pull_request_report

    settings = _settings(params)
    result = pull_request_report(settings, base=base, output=output)
    typer.echo(result.markdown)
    if result.regressed:
        message = "the primary metric regressed past promotion.max_regression"
        typer.secho(f"error: {message}", fg="red", err=True)
        _alert(settings, f"pull-request gate failed against {base}", message)
        raise typer.Exit(1)


@stage
def comment_mr(
    report_path: Annotated[Path, typer.Argument(help="Markdown report to post.")],
    api_url: Annotated[str, typer.Option(envvar="CI_API_V4_URL")] = "",
    project_id: Annotated[str, typer.Option(envvar="CI_PROJECT_ID")] = "",
    mr_iid: Annotated[str, typer.Option(envvar="CI_MERGE_REQUEST_IID")] = "",
    token: Annotated[str, typer.Option(envvar="GITLAB_TOKEN", show_default=False)] = "",
) -> None:
    """Post the report on the merge request as one note (GitLab CI variables)."""
    from mlplate_runtime.gitlab import upsert_note

    if not report_path.exists():
        raise ProjectError(f"{report_path} does not exist; run `make train-report` first")
    if not (api_url and project_id and mr_iid and token):
        typer.echo("not in a GitLab merge-request pipeline with GITLAB_TOKEN set: not posting")
        return
    action = upsert_note(
        api_url=api_url,
        project_id=project_id,
        mr_iid=mr_iid,
        token=token,
        body=report_path.read_text(),
    )
    typer.echo(f"{action} the model report note")


@app.command("predict-batch")
@stage
def predict_batch(
    source: Annotated[
        str,
        typer.Option(
            "--input",
            envvar="BATCH_INPUT",
            help="CSV or Parquet file to score (Spark: also a folder of parts, or a URI).",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            envvar="BATCH_OUTPUT",
            help="Predictions to write (.csv or .parquet; Spark writes a folder of parts).",
        ),
    ],
    model_uri: Annotated[
        str | None, typer.Option(envvar="MODEL_URI", help="Model to use (default: champion).")
    ] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows held in memory at once.")] = 100_000,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing OUTPUT.")] = False,
    engine: Annotated[
        str,
        typer.Option(envvar="BATCH_ENGINE", help="local (pandas, in chunks) or spark."),
    ] = "local",
    spark_master: Annotated[
        str,
        typer.Option(envvar="SPARK_MASTER", help="Spark's master with --engine spark."),
    ] = "local[*]",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Score a file with the champion in chunks; rows breaking the contract go to a side file."""
    engine = (engine or "local").strip().lower()
    if engine not in ("local", "spark"):
        raise ProjectError(f"unknown engine {engine!r}: ENGINE is local or spark")
    settings = _settings(params)
    result: Any
    if engine == "spark":
        from mlplate_runtime.models.spark_batch import predict_batch_spark, spark_session

        result = predict_batch_spark(
            settings,
            source,
            output,
            spark=spark_session(spark_master or "local[*]"),
            model_uri=model_uri,
            overwrite=overwrite,
            chunk_rows=chunk_rows,
        )
    else:
        from mlplate_runtime.models.batch import predict_batch as run

        result = run(
            settings,
            Path(source),
            Path(output),
            model_uri=model_uri,
            chunk_rows=chunk_rows,
            overwrite=overwrite,
        )
    typer.echo(
        f"scored {result.scored:,} of {result.rows:,} rows with model {result.model_version} "
        f"in {result.seconds:.1f} s ({result.rows / max(result.seconds, 1e-9):,.0f} rows/s): "
        f"{result.output}"
    )
    if result.unusual:
        counts = ", ".join(f"{name} {count:,}" for name, count in result.unusual.items())
        typer.echo(
            f"scored values outside what training data held (observed range or categories): "
            f"{counts}"
        )
    if result.rejected_path is not None:
        typer.secho(
            f"warning: {result.rejected:,} rows break the data contract or cannot be scored; "
            f"they and the reasons are in {result.rejected_path}",
            fg="yellow",
            err=True,
        )


@app.command()
def monitor(
    current: Annotated[
        Path | None,
        typer.Option(
            envvar="MONITOR_CURRENT",
            help="CSV or Parquet batch to check, e.g. batch predictions (default: params.yaml).",
        ),
    ] = None,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Check current data for drift and quality problems.

    Exit 0: no drift alarm; 1: drift alarm; 2: monitoring could not run (the message says why).
    """
    from mlplate_runtime.monitoring.job import run_monitoring

    try:
        settings = _settings(params)
        summary = run_monitoring(settings, current=current)
    except ProjectError as error:
        typer.secho(f"error: monitoring could not run: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    report_dir = settings.path(settings.params.monitoring.report_dir)
    typer.echo(
        f"{len(summary['drifted_features'])}/{summary['n_features']} features drifted "
        f"(share {summary['drift_share']:.2f}, threshold {summary['threshold']}) in "
        f"{summary['current_source']}; report: {report_dir / 'drift.html'}"
    )
    for warning in summary["warnings"]:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)
    for check in summary.get("checks", []):
        typer.echo(
            f"check {check['name']}: {check['value']:.4g}{' (alarm)' if check['alarm'] else ''}"
        )
    if summary["alarm"]:
        drifted = ", ".join(summary["drifted_features"] + summary.get("failed_checks", []))
        typer.secho(f"drift alarm: {drifted}", fg="red", err=True)
        _alert(
            settings,
            "drift alarm",
            f"{len(summary['drifted_features'])}/{summary['n_features']} features drifted "
            f"in {summary['current_source']}: {drifted}",
        )
        raise typer.Exit(1)


@app.command()
@stage
def alert(
    event: Annotated[
        str,
        typer.Argument(envvar="ALERT_EVENT", help="What happened: 'scheduled training failed'."),
    ],
    message: Annotated[
        str, typer.Argument(envvar="ALERT_MESSAGE", help="Details, e.g. the CI run's address.")
    ] = "",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Send an alert to ALERT_WEBHOOK_URL (CI calls it when a scheduled run fails); off if unset."""
    from mlplate_runtime.alerts import WEBHOOK_ENV, send_alert

    settings = _settings(params)
    if send_alert(settings.params.mlflow.registered_model, event, message):
        typer.echo("alert sent")
    else:
        typer.echo(f"no alert sent ({WEBHOOK_ENV} unset, or the webhook failed: see above)")


@app.command("drift-alarm")
@stage
def drift_alarm(params: ParamsOption = Path("params.yaml")) -> None:
    """Exit 0 only if the last `monitor` run raised the drift alarm (CI retrains on it).

    `make` turns every failure into exit 2, so CI asks the report instead of the exit code.
    """
    settings = _settings(params)
    report = settings.path(settings.params.monitoring.report_dir) / "drift.json"
    if not report.is_file():
        raise ProjectError(f"there is no {report}: monitoring could not run (see its output)")
    try:
        summary = json.loads(report.read_text(encoding="utf-8"))
        alarm, drifted = summary["alarm"], summary["drifted_features"]
    except (ValueError, KeyError, TypeError):
        raise ProjectError(f"{report} is not a drift report; run `make monitor` again") from None
    if not alarm:
        raise ProjectError(f"{report} raised no drift alarm")
    typer.echo(f"drift alarm: {', '.join(drifted)}")


@app.command("simulate-drift")
@stage
def simulate_drift(params: ParamsOption = Path("params.yaml")) -> None:
    """Write a drifted batch where `monitor` reads its current data."""
    from mlplate_runtime.monitoring.job import simulate_drift as run

    batch = run(_settings(params))
    if isinstance(batch, Path):  # an ejected monitoring part of v0.2.43 and before: the path
        typer.echo(f"wrote a drifted batch to {batch}; `make monitor` now raises the alarm")
        return
    resampled = (
        f", resampled from the {batch.holdout_rows}-row holdout"
        if batch.rows != batch.holdout_rows
        else ""
    )
    typer.echo(
        f"wrote a drifted batch of {batch.rows} rows{resampled} to {batch.path}; "
        "`make monitor` now raises the alarm"
    )


@stage
def compare_models(params: ParamsOption = Path("params.yaml")) -> None:
    """Champion vs challenger on logged traffic that has labels (the feedback file)."""
    from mlplate_runtime.monitoring.compare import compare_models as run

    result = run(_settings(params))
    metric = result["primary_metric"]
    for role, values in result["models"].items():
        typer.echo(
            f"{role:<12} version {values['version']}: {metric} {values[metric]:.4f} "
            f"on {values['n_labeled']} labeled predictions"
        )


ImageOption = Annotated[str, typer.Option(help="Container image every step runs in.")]
BatchOutputOption = Annotated[
    Path | None, typer.Option(help="Also write the batch-predictions job's definition here.")
]


@stage
def kfp_compile(
    image: ImageOption,
    output: Annotated[Path, typer.Option(help="Where to write the pipeline YAML.")] = Path(
        "pipeline.yaml"
    ),
    batch_output: BatchOutputOption = None,
) -> None:
    """Compile dvc.yaml into a Kubeflow pipeline (one step per stage), and the batch job."""
    from mlplate_runtime.orchestration.kfp_pipeline import (
        compile_batch_pipeline,
        compile_pipeline,
    )

    typer.echo(f"wrote {compile_pipeline(Path('.'), image, output)}")
    if batch_output is not None:
        typer.echo(f"wrote {compile_batch_pipeline(image, batch_output)}")


@stage
def azureml_compile(
    image: ImageOption,
    output: Annotated[Path, typer.Option(help="Where to write the pipeline job YAML.")] = Path(
        "azureml-pipeline.yml"
    ),
    compute: Annotated[
        str | None, typer.Option(help="Compute target (default azureml:cpu-cluster).")
    ] = None,
    batch_output: BatchOutputOption = None,
) -> None:
    """Compile dvc.yaml into an Azure ML pipeline job (one command job per stage), and the
    batch job."""
    from mlplate_runtime.orchestration.azureml_pipeline import (
        DEFAULT_COMPUTE,
        compile_batch_job,
        compile_job,
    )

    target = compute or DEFAULT_COMPUTE
    typer.echo(f"wrote {compile_job(Path('.'), image, output, target)}")
    if batch_output is not None:
        typer.echo(f"wrote {compile_batch_job(Path('.'), image, batch_output, target)}")


@stage
def sagemaker_compile(
    image: ImageOption,
    output: Annotated[Path, typer.Option(help="Where to write the definition JSON.")] = Path(
        "sagemaker-pipeline.json"
    ),
    batch_output: BatchOutputOption = None,
) -> None:
    """Compile dvc.yaml into a SageMaker pipeline (one processing step per stage), and the
    batch job."""
    from mlplate_runtime.orchestration.sagemaker_pipeline import (
        compile_batch_pipeline,
        compile_pipeline,
    )

    typer.echo(f"wrote {compile_pipeline(Path('.'), image, output)}")
    if batch_output is not None:
        typer.echo(f"wrote {compile_batch_pipeline(image, batch_output)}")


def _pairs(items: list[str] | None, option: str, example: str) -> dict[str, str]:
    """KEY=VALUE option values as a dict; a malformed one is a one-line error."""
    malformed = [item for item in items or [] if "=" not in item]
    if malformed:
        raise ProjectError(f"{option} {malformed[0]!r} is not KEY=VALUE, e.g. {option} {example}")
    return dict(item.split("=", 1) for item in items or [])


@stage
def pipeline_step(
    name: Annotated[str, typer.Argument(help="The dvc.yaml stage to run.")],
    output: Annotated[Path, typer.Option(help="Folder receiving the stage's outputs.")],
    inputs: Annotated[
        list[Path] | None, typer.Option("--input", help="Outputs of an upstream step.")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", help="PATH=SOURCE: a dvc.yaml data path the platform mounted."),
    ] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=VALUE parameter override.")
    ] = None,
) -> None:
    """Run one stage inside a pipeline step (what each orchestrator's step calls)."""
    from mlplate_runtime.orchestration.stages import run_step, step_root

    overrides = _pairs(settings, "--set", "seed=7")
    mounted = {
        path: Path(source) for path, source in _pairs(data, "--data", "x.csv=/in/x.csv").items()
    }
    run_step(
        name,
        root=step_root(),
        inputs=inputs or [],
        output=output,
        overrides=overrides,
        data=mounted,
    )


@stage
def features(params: ParamsOption = Path("params.yaml")) -> None:
    """Build the feature store: feature table, `feast apply`, materialize the online store."""
    from mlplate_runtime.features.store import build_store

    rows = build_store(_settings(params))
    typer.echo(f"feature store: {rows} rows registered and materialized")


@stage
def model_card(params: ParamsOption = Path("params.yaml")) -> None:
    """Regenerate docs/model-card.md, docs/data-card.md and docs/pipeline.md."""
    from mlplate_runtime.model_card import write_docs_pages

    for path in write_docs_pages(_settings(params)):
        typer.echo(f"wrote {path}")


# Commands of optional parts, registered only when the project installed what they need
# (its answers choose the runtime's extras: mlplate-runtime[kubeflow], [feast], ...).
OPTIONAL_COMMANDS: dict[str, tuple[str | None, Callable[..., Any]]] = {
    "comment-mr": (None, comment_mr),
    "compare-models": ("fastapi", compare_models),
    "features": ("feast", features),
    "azureml-compile": (None, azureml_compile),
    "kfp-compile": ("kfp", kfp_compile),
    "pipeline-step": (None, pipeline_step),
    "sagemaker-compile": ("sagemaker", sagemaker_compile),
    "model-card": (None, model_card),
}


def installed(module: str | None) -> bool:
    """Whether the third-party ``module`` an optional command needs can be imported."""
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


for name, (needs, command) in OPTIONAL_COMMANDS.items():
    if installed(needs):
        app.command(name)(command)
# The step command's name in Kubeflow pipelines compiled before 0.2.16.
app.command("kfp-step", hidden=True)(pipeline_step)


def main() -> None:
    """Console-script entry point."""
    app()
