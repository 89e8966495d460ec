"""Concurrent `make register` runs against one store: how often the better model ends champion.

Two processes register two candidates (a real model, and one fitted on shuffled training
labels) under one model name at the same instant, ROUNDS times, against a SQLite store and
against a local `mlflow server` (127.0.0.1). Prints the share of rounds whose champion is the
better model and whose every run was registered once (goal: all of them).
Run with the runtime's environment: runtime/.venv/bin/python benchmarks/registry_races.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).parents[1] / "runtime" / "tests" / "projects" / "classification"


def _train(settings, shuffle: bool) -> dict:
    import pandas as pd
    from mlplate_runtime.data.prepare import check_raw_data, prepare
    from mlplate_runtime.data.synthetic import synthetic_frame, write_table
    from mlplate_runtime.features.build import featurize
    from mlplate_runtime.models.evaluate import evaluate
    from mlplate_runtime.models.train import train

    write_table(
        settings.path(settings.params.data.raw_path),
        synthetic_frame(settings.contract, 400, seed=7),
    )
    check_raw_data(settings)
    prepare(settings)
    if shuffle:
        path, target = settings.prepared("train"), settings.contract.target
        frame = pd.read_csv(path)
        frame[target] = frame[target].sample(frac=1, random_state=3).to_numpy()
        frame.to_csv(path, index=False)
    featurize(settings)
    run_info = train(settings)
    evaluate(settings)
    return run_info


def _racer(settings, barrier, results, rounds: int) -> None:
    from mlplate_runtime.models.registry import register

    for index in range(rounds):
        mlflow = settings.params.mlflow.model_copy(update={"registered_model": f"race-{index}"})
        racer = settings.model_copy(
            update={"params": settings.params.model_copy(update={"mlflow": mlflow})}
        )
        barrier.wait(timeout=300)
        try:
            register(racer, allow_uncommitted=True)
            results.put((index, "ok"))
        except Exception as error:  # counted as a wrong round
            results.put((index, repr(error)))


def race(tracking_uri: str, work: Path, rounds: int) -> tuple[int, int]:
    """Rounds whose champion is the better run with each run registered once, of ``rounds``."""
    from mlflow import MlflowClient
    from mlplate_runtime.config import load_settings

    base = load_settings(PROJECT / "params.yaml").model_copy(update={"tracking_uri": tracking_uri})
    racers = []
    for name, shuffle in (("good", False), ("worse", True)):
        root = work / name
        root.mkdir()
        settings = base.model_copy(update={"root": root})
        racers.append((settings, _train(settings, shuffle)))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_racer, args=(s, barrier, results, rounds)) for s, _ in racers
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in range(2 * rounds)]
    for process in processes:
        process.join(timeout=60)
    failed = {index for index, outcome in outcomes if outcome != "ok"}
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    good_run = racers[0][1]["run_id"]
    correct = 0
    for index in range(rounds):
        versions = client.search_model_versions(f"name='race-{index}'")
        champion = client.get_model_version_by_alias(f"race-{index}", "champion")
        once = sorted(v.run_id for v in versions) == sorted(r["run_id"] for _, r in racers)
        correct += index not in failed and once and champion.run_id == good_run
    return correct, rounds


def mlflow_server(work: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{work / 'server.db'}", "--artifacts-destination", str(work / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{uri}/health", timeout=1).close()
            return server, uri
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the MLflow server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    work = Path(tempfile.mkdtemp(prefix="mlplate-races-"))
    try:
        (work / "sqlite").mkdir()
        correct, total = race(f"sqlite:///{work / 'sqlite' / 'mlflow.db'}", work / "sqlite", rounds)
        print(
            f"sqlite store:  champion correct, each run registered once, in {correct} of {total} races"
        )
        (work / "server").mkdir()
        server, uri = mlflow_server(work / "server")
        try:
            correct, total = race(uri, work / "server", rounds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(
            f"mlflow server: champion correct, each run registered once, in {correct} of {total} races"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
