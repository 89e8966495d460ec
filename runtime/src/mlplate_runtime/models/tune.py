"""Hyperparameter search (`make tune`): Optuna over params.yaml's `tune.space`, scored by
cross-validation on the training split only (the holdout the gate uses is never read).

The first trial of a new study is the current params.yaml, so the search reports how much it
improves on it. Each trial is a nested MLflow run under one parent run per `make tune`. The
study is stored in `tune.storage`: the same space, folds, metric and training data make the
same study, so running again finishes an interrupted search. Bad trials are pruned after a
fold when their running mean is below the median. The best parameters reach params.yaml
only on request (`make tune APPLY=1`); `dvc repro` then trains them and the gate decides.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlplate_runtime.config import (
    ModelParams,
    SearchRange,
    Settings,
    TuneParams,
)
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import (
    feature_matrix,
    read_features,
)
from mlplate_runtime.lineage import lineage_tags
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.train import fit_model
from mlplate_runtime.params_file import set_values
from mlplate_runtime.progress import Progress
from mlplate_runtime.tracking import client, start_tracking

TYPE_KEY = "model.type"


@dataclass(frozen=True)
class TuningResult:
    """What a search found, and which training rows it used."""

    report: dict[str, Any]
    row_ids: pd.Index  # the id column's values (row positions without one): training rows only


def tune_params(settings: Settings) -> TuneParams:
    """The `tune:` section, or a one-line error naming what to add."""
    if settings.params.tune is None:
        raise ProjectError("params.yaml has no `tune:` section; copy it from the project template")
    return settings.params.tune


def type_sections(settings: Settings) -> set[str]:
    """The model section's per-estimator blocks (model.linear, model.hist_gradient_boosting)."""
    return {
        key for key, value in settings.params.model.as_dict().items() if isinstance(value, dict)
    }


def applicable(key: str, model_type: str, sections: set[str]) -> bool:
    """Whether a space key matters for ``model_type`` (model.linear.* only for linear models)."""
    parts = key.split(".")
    return len(parts) < 3 or parts[1] not in sections or parts[1] == model_type


def sample(
    trial: Any, space: dict[str, SearchRange], current_type: str, sections: set[str]
) -> dict[str, Any]:
    """One point of the space: model.type first (when searched), then its own parameters."""

    def suggest(key: str, dimension: SearchRange) -> Any:
        if dimension.choices is not None:
            return trial.suggest_categorical(key, list(dimension.choices))
        if isinstance(dimension.low, int) and isinstance(dimension.high, int):
            return trial.suggest_int(key, dimension.low, dimension.high, log=dimension.log)
        return trial.suggest_float(key, dimension.low, dimension.high, log=dimension.log)

    values = {TYPE_KEY: suggest(TYPE_KEY, space[TYPE_KEY])} if TYPE_KEY in space else {}
    model_type = values.get(TYPE_KEY, current_type)
    values |= {
        key: suggest(key, dimension)
        for key, dimension in space.items()
        if key != TYPE_KEY and applicable(key, model_type, sections)
    }
    return values


def with_values(settings: Settings, values: dict[str, Any]) -> Settings:
    """Settings whose model section holds ``values`` (dotted model.* keys)."""
    model = settings.params.model.model_dump()
    for key, value in values.items():
        *parents, leaf = key.split(".")[1:]
        node = model
        for part in parents:
            node = node[part]
        node[leaf] = value
    params = settings.params.model_copy(update={"model": ModelParams.model_validate(model)})
    return settings.model_copy(update={"params": params})


def current_values(settings: Settings, space: dict[str, SearchRange]) -> dict[str, Any]:
    """params.yaml's values of the space keys that apply to its model type."""
    model = settings.params.model.model_dump()
    values: dict[str, Any] = {}
    for key in space:
        if not applicable(key, settings.params.model.type, type_sections(settings)):
            continue
        node: Any = {"model": model}
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ProjectError(f"tune.space key {key!r} is not in params.yaml")
            node = node[part]
        values[key] = node
    return values


def folds(target: np.ndarray, *, classification: bool, n_folds: int, seed: int) -> list[Any]:
    """(fit rows, score rows) position pairs: stratified by class for classification."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if classification else KFold)(
        n_splits=n_folds, shuffle=True, random_state=seed
    )
    return list(splitter.split(np.zeros(len(target)), target))


def study_name(settings: Settings, tune: TuneParams, data: pd.DataFrame) -> str:
    """Same space, folds, metric, seed and training data: the same (resumable) study."""
    digest = hashlib.sha256()
    identity = {
        "space": {key: value.model_dump() for key, value in tune.space.items()},
        "folds": tune.cv_folds,
        "metric": settings.params.evaluate.primary_metric,
        "seed": settings.params.seed,
        "type": settings.params.model.type,
    }
    if settings.params.model.class_weight is not None:  # weighted trials are another study
        identity["class_weight"] = settings.params.model.class_weight
    digest.update(json.dumps(identity, sort_keys=True, default=str).encode())
    digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return f"{settings.params.mlflow.experiment}-{digest.hexdigest()[:12]}"


def storage_url(settings: Settings, storage: str) -> str:
    """A relative SQLite path is relative to the project, not the working directory."""
    prefix = "sqlite:///"
    if storage.startswith(prefix) and not Path(storage.removeprefix(prefix)).is_absolute():
        return prefix + str(settings.path(Path(storage.removeprefix(prefix))).absolute())
    return storage


class TrialLogger:
    """Each finished trial as a nested MLflow run under ``parent_id`` (thread-safe)."""

    def __init__(self, settings: Settings, parent_id: str, experiment_id: str) -> None:
        self.client, self.parent_id, self.experiment_id = client(settings), parent_id, experiment_id
        self.lock = threading.Lock()
        self.seconds: list[float] = []

    def log(self, trial: Any, metric: str) -> None:
        from mlflow.entities import Metric, Param, RunTag

        started = time.perf_counter()
        now = int(time.time() * 1000)
        with self.lock:
            run = self.client.create_run(
                self.experiment_id,
                run_name=f"trial {trial.number}",
                tags={"mlflow.parentRunId": self.parent_id, "tuning.state": trial.state.name},
            )
            metrics = (
                [Metric(f"cv_{metric}", trial.value, now, 0)] if trial.value is not None else []
            )
            metrics += [
                Metric(f"cv_{metric}_running", value, now, int(step))
                for step, value in trial.intermediate_values.items()
            ]
            self.client.log_batch(
                run.info.run_id,
                metrics=metrics,
                params=[Param(key, str(value)) for key, value in trial.params.items()],
                tags=[RunTag("tuning.trial", str(trial.number))],
            )
            status = "FINISHED" if trial.state.name in ("COMPLETE", "PRUNED") else "FAILED"
            self.client.set_terminated(run.info.run_id, status=status)
            self.seconds.append(time.perf_counter() - started)


class _Objective:
    """Cross-validated primary metric of one sampled configuration."""

    def __init__(self, settings: Settings, frame: pd.DataFrame) -> None:
        tune = tune_params(settings)
        self.settings, self.space = settings, tune.space
        self.task = task_for(settings)
        self.metric = settings.params.evaluate.primary_metric
        self.features = feature_matrix(frame, settings.contract)
        self.target = self.task.labels(frame[settings.contract.target])
        self.folds = folds(
            self.target,
            classification=settings.contract.task == "classification",
            n_folds=tune.cv_folds,
            seed=settings.params.seed,
        )

    def __call__(self, trial: Any) -> float:
        import optuna

        values = sample(
            trial, self.space, self.settings.params.model.type, type_sections(self.settings)
        )
        settings = with_values(self.settings, values)
        scores = []
        for step, (fit_rows, score_rows) in enumerate(self.folds):
            # fit_model, as training does: class weights (params.yaml) apply to every fold
            model = fit_model(settings, self.features.iloc[fit_rows], self.target[fit_rows])
            held = self.features.iloc[score_rows]
            metrics = self.task.metrics(self.target[score_rows], self.task.scores(model, held))
            scores.append(metrics[self.metric])
            trial.report(float(np.mean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))


def _row_ids(frame: pd.DataFrame, settings: Settings) -> pd.Index:
    ids = [name for name, spec in settings.contract.columns.items() if spec.role == "id"]
    return pd.Index(frame[ids[0]]) if ids and ids[0] in frame else frame.index


def _finished(study: Any) -> list[Any]:
    return [trial for trial in study.trials if trial.state.name in ("COMPLETE", "PRUNED")]


def tune(
    settings: Settings, *, apply: bool = False, params_path: Path | None = None
) -> TuningResult:
    """Run (or finish) the study, log it to MLflow, write the report; apply the best on request."""
    import optuna

    tune_settings = tune_params(settings)
    baseline = current_values(settings, tune_settings.space)  # checks the keys before any work
    task = task_for(settings)
    metric = settings.params.evaluate.primary_metric
    direction: Literal["maximize", "minimize"] = (
        "maximize" if task.higher_is_better[metric] else "minimize"
    )
    frame = read_features(settings, "train")  # the training split only
    objective = _Objective(settings, frame)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name(settings, tune_settings, frame),
        storage=storage_url(settings, tune_settings.storage),
        load_if_exists=True,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=settings.params.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    if not study.trials:  # a new study starts from params.yaml (the baseline)
        study.enqueue_trial(baseline, user_attrs={"baseline": True})
    remaining = tune_settings.n_trials - len(_finished(study))

    mlflow = start_tracking(settings)
    with mlflow.start_run(run_name=f"tune {study.study_name}") as parent:
        mlflow.set_tags(
            lineage_tags(
                settings.root,
                data_paths=[settings.params.data.features_split("train")],
                params_hash=settings.params_hash,
            )
            | {"tuning.study": study.study_name}
        )
        logger = TrialLogger(settings, parent.info.run_id, parent.info.experiment_id)
        if remaining > 0:
            _optimize(study, objective, logger, remaining, tune_settings, metric)
        report = _report(settings, study, metric, direction, frame, logger, parent.info.run_id)
        if report["best"] is not None:
            mlflow.log_params({key: str(value) for key, value in report["best"]["params"].items()})
            mlflow.log_metric(f"best_cv_{metric}", report["best"]["value"])
    if apply:
        report["applied"] = apply_best(report, params_path or settings.path(Path("params.yaml")))
    path = settings.path(tune_settings.report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return TuningResult(report, _row_ids(frame, settings))


def _optimize(
    study: Any,
    objective: _Objective,
    logger: TrialLogger,
    remaining: int,
    tune: TuneParams,
    metric: str,
) -> None:
    n_jobs = (os.cpu_count() or 1) if tune.n_jobs == -1 else tune.n_jobs
    with Progress("tuning", unit="trials", every=0.0) as progress:
        done = 0

        def finished(study: Any, trial: Any) -> None:
            nonlocal done
            logger.log(trial, metric)
            with logger.lock:
                done += 1
                best = _best(study)
                note = f"best {metric} {best.value:.4f} (trial {best.number})" if best else ""
                progress.update(done, done / remaining, note)

        study.optimize(
            objective,
            n_trials=remaining,
            timeout=tune.timeout_seconds,
            n_jobs=n_jobs,
            callbacks=[finished],
            catch=(ValueError,),  # a configuration the estimator refuses is one failed trial
        )


def _best(study: Any) -> Any:
    complete = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    return study.best_trial if complete else None


def _report(
    settings: Settings,
    study: Any,
    metric: str,
    direction: str,
    frame: pd.DataFrame,
    logger: TrialLogger,
    parent_run_id: str,
) -> dict[str, Any]:
    states = [trial.state.name for trial in study.trials]
    baseline = next((t for t in study.trials if t.user_attrs.get("baseline")), None)
    best = _best(study)
    return {
        "study": study.study_name,
        "metric": metric,
        "direction": direction,
        "cv_folds": tune_params(settings).cv_folds,
        "training_rows": len(frame),
        "trials": {state.lower(): states.count(state) for state in sorted(set(states))},
        "baseline": None
        if baseline is None or baseline.value is None
        else {"value": baseline.value, "params": baseline.params},
        "best": None
        if best is None
        else {"value": best.value, "params": best.params, "trial": best.number},
        "mlflow_parent_run": parent_run_id,
        "mlflow_seconds_per_trial": float(np.mean(logger.seconds)) if logger.seconds else None,
        "applied": False,
    }


def apply_best(report: dict[str, Any], params_path: Path) -> bool:
    """Write the best parameters into params.yaml (comments and layout kept)."""
    if report["best"] is None:
        raise ProjectError("the study has no completed trial yet; nothing to apply")
    set_values(params_path, report["best"]["params"])
    return True
