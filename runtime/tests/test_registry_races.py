"""Concurrent `make register` runs against one store: the better model ends champion, each run
is registered once, and every promotion report tells what really happened."""

from __future__ import annotations

import multiprocessing
import shutil

import pandas as pd
import pytest
from mlflow import MlflowClient

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.lock import gate_lock, lock_name
from mlplate_runtime.models.registry import register
from test_pipeline import run_pipeline

ROUNDS = 3


def _register_in_rounds(settings, barrier, results, rounds):
    """In a separate process: at each round, register under that round's model name at once."""
    for round_ in range(rounds):
        mlflow = settings.params.mlflow.model_copy(
            update={"registered_model": f"{settings.params.mlflow.registered_model}-{round_}"}
        )
        racer = settings.model_copy(
            update={"params": settings.params.model_copy(update={"mlflow": mlflow})}
        )
        barrier.wait(timeout=120)
        try:
            results.put((round_, str(settings.root), register(racer, allow_uncommitted=True)))
        except Exception as error:  # reported to the test, which fails on it
            results.put((round_, str(settings.root), repr(error)))


def _shuffle_training_labels(settings):
    """Make the training split's labels noise (the holdout stays true): a worse model."""
    path, target = settings.prepared("train"), settings.contract.target
    frame = pd.read_csv(path)
    frame[target] = frame[target].sample(frac=1, random_state=3).to_numpy()
    frame.to_csv(path, index=False)


@pytest.fixture
def rivals(settings, sample, tmp_path_factory):
    """Two trained projects sharing one registry: a real model and one fitted on shuffled labels."""
    worse_root = tmp_path_factory.mktemp("worse")
    if settings.path("feature_repo").is_dir():
        shutil.copytree(settings.path("feature_repo"), worse_root / "feature_repo")
    worse = settings.model_copy(update={"root": worse_root})
    good_run, good_metrics = run_pipeline(settings, sample)
    worse_run, worse_metrics = run_pipeline(worse, sample, _shuffle_training_labels)
    metric = settings.params.evaluate.primary_metric
    assert abs(good_metrics[metric] - worse_metrics[metric]) > settings.params.promotion.min_delta
    return settings, good_run, worse, worse_run


def test_concurrent_registrations_leave_the_better_model_champion(rivals):
    good, good_run, worse, worse_run = rivals
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    # Two gates for the worse run's rival, and a second gate of the good run (same run twice).
    racers = [
        context.Process(target=_register_in_rounds, args=(s, barrier, results, ROUNDS))
        for s in (good, worse, good)
    ]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=300) for _ in range(3 * ROUNDS)]
    for racer in racers:
        racer.join(timeout=60)
    client = MlflowClient(good.tracking_uri, registry_uri=good.tracking_uri)
    for round_ in range(ROUNDS):
        name = f"{good.params.mlflow.registered_model}-{round_}"
        reports = [report for r, _, report in outcomes if r == round_]
        assert all(isinstance(report, dict) for report in reports), [
            report for report in reports if not isinstance(report, dict)
        ]
        versions = client.search_model_versions(f"name='{name}'")
        assert sorted(v.run_id for v in versions) == sorted(
            [good_run["run_id"], worse_run["run_id"]]
        )
        champion = client.get_model_version_by_alias(name, "champion")
        assert champion.run_id == good_run["run_id"], reports
        good_version = int(champion.version)
        for report in reports:
            if report["candidate_version"] != good_version and report["alias_set"] == "champion":
                # the worse model was champion only while nothing else was: it came first
                assert report["champion_version"] is None
        assert not client.search_registered_models(f"name='{lock_name(name)}'")


def test_a_gate_waits_for_the_lock_and_names_it_when_it_waits_too_long(settings):
    client = MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    name = settings.params.mlflow.registered_model
    held_too_long = rf"delete the registered model '{name}.gate-lock'"
    with gate_lock(client, name), pytest.raises(ProjectError, match=held_too_long):  # noqa: SIM117
        with gate_lock(client, name, wait_seconds=0.3):
            pass  # pragma: no cover - never entered
    with gate_lock(client, name, wait_seconds=0.3):  # released: taken at once
        pass


def test_a_lock_left_by_a_gate_that_died_is_taken_over_once_stale(settings):
    client = MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    name = settings.params.mlflow.registered_model
    client.create_registered_model(lock_name(name))  # what a killed gate leaves behind
    with gate_lock(client, name, wait_seconds=5, stale_seconds=0.0):
        pass
    assert not client.search_registered_models(f"name='{lock_name(name)}'")
