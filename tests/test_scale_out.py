"""Scale out by answers and configuration: S3 remote, shared MLflow server, Kubeflow.

Starts a real S3-protocol server (moto) and a real `mlflow server` (via the project's
`make mlflow-server`, artifacts in the moto bucket) on 127.0.0.1 ports, stopped at the end.
Slow; run alone with `pytest -m servers`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.projects import (
    PACKAGE,
    SharedEnvironments,
    commit_all,
    free_port,
    new_project,
    project_python,
)
from tests.shell import project_env, run
from tests.test_project_pipeline import serve_and_predict

pytestmark = [pytest.mark.slow, pytest.mark.servers]

BUCKET = "team-ml-data"
# Credentials come only from the environment, as in CI; moto accepts any.
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

SERVER_QUERY = """
import json
from mlflow import MlflowClient
from mlplate_runtime.config import load_settings
s = load_settings()
c = MlflowClient(s.tracking_uri)
name = s.params.mlflow.registered_model
v = c.get_model_version_by_alias(name, "champion")
run = c.get_run(v.run_id)
print(json.dumps({"uri": s.tracking_uri, "version": str(v.version), "run_tags": run.data.tags,
                  "version_tags": v.tags, "artifact_uri": run.info.artifact_uri}))
"""


def wait_until(check, what: str, seconds: float, process: subprocess.Popen) -> None:
    """Poll ``check`` until it is true; fail if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        assert process.poll() is None, f"{what} exited with {process.returncode}"
        time.sleep(0.3)
    raise AssertionError(f"{what} not ready within {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a server started in its own session, children included."""
    with_group = os.getpgid(process.pid) if process.poll() is None else None
    if with_group:
        os.killpg(with_group, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            process.wait(timeout=10)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server with the team bucket."""
    import boto3

    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    server = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: port_open(port), "moto_server", 20, server)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, **_boto_credentials()).create_bucket(
            Bucket=BUCKET
        )
        yield endpoint
    finally:
        stop(server)


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS["AWS_DEFAULT_REGION"],
    }


@pytest.fixture(scope="module")
def environments() -> SharedEnvironments:
    return SharedEnvironments()


@pytest.fixture(scope="module")
def mlflow_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def project(tmp_path_factory, environments, s3_endpoint, mlflow_port) -> Path:
    """A project answering s3 + server + kubeflow, set up (no MLflow server yet)."""
    project = new_project(
        tmp_path_factory.mktemp("scale"),
        dvc_remote="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=s3_endpoint,
        mlflow_tracking="server",
        mlflow_tracking_uri=f"http://127.0.0.1:{mlflow_port}",
        orchestrator="kubeflow",
    )
    environments.setup(project)
    return project


@pytest.fixture(scope="module")
def mlflow_server(project, mlflow_port) -> Iterator[str]:
    """`make mlflow-server` of the project: SQLite metadata, artifacts in the moto bucket."""
    server = subprocess.Popen(
        ["make", "mlflow-server", f"MLFLOW_PORT={mlflow_port}"],
        cwd=project,
        env=project_env(**AWS),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{mlflow_port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, "mlflow server", 90, server)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def trained(project, mlflow_server) -> Path:
    """`make all` against the server (no MLFLOW_TRACKING_URI: the project's default)."""
    run("make", "all", cwd=project, **AWS)
    commit_all(project, "Run the pipeline")
    return project


def test_runs_lineage_and_champion_live_on_the_server(trained, mlflow_server):
    found = project_python(trained, SERVER_QUERY)
    assert found["uri"] == mlflow_server
    assert found["version"] == "1"
    for tags in (found["run_tags"], found["version_tags"]):
        assert len(tags["lineage.git_commit"]) == 40
        assert len(tags["lineage.data.data/raw/customers.csv"]) == 32
    assert found["artifact_uri"].startswith("mlflow-artifacts:")  # proxied by the server
    assert not (trained / "mlflow.db").exists()
    assert not (trained / "mlartifacts").exists()


def test_server_keeps_model_artifacts_in_the_s3_bucket(trained, s3_endpoint):
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **_boto_credentials())
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="demo-model/mlflow/")
    keys = [item["Key"] for item in listing.get("Contents", [])]
    assert any(key.endswith("/MLmodel") for key in keys), keys


def test_serving_loads_the_champion_through_the_server(trained, mlflow_server):
    metadata = serve_and_predict(trained, **AWS)
    assert metadata["champion"]["version"] == "1"


def test_data_and_models_round_trip_through_the_s3_remote(trained, environments, tmp_path):
    run("make", "push", cwd=trained, **AWS)
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", str(trained), str(clone), cwd=tmp_path)
    environments.setup(clone)
    run("make", "pull", cwd=clone, **AWS)
    assert (clone / "data" / "raw" / "customers.csv").read_bytes() == (
        trained / "data" / "raw" / "customers.csv"
    ).read_bytes()
    assert (clone / "models" / "model.skops").is_file()
    status = run(str(clone / ".venv" / "bin" / "dvc"), "status", "--cloud", cwd=clone, **AWS)
    assert "in sync" in status.stdout


def test_unreachable_s3_endpoint_fails_with_one_clear_error(trained, tmp_path):
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", str(trained), str(clone), cwd=tmp_path)
    os.symlink(trained / ".venv", clone / ".venv")
    dvc = str(clone / ".venv" / "bin" / "dvc")
    closed = f"http://127.0.0.1:{free_port()}"
    run(dvc, "remote", "modify", "--local", "storage", "endpointurl", closed, cwd=clone)
    # One attempt: botocore's retries would add ~25 s a file and change nothing in the message.
    result = run("make", "pull", cwd=clone, check=False, timeout=120, AWS_MAX_ATTEMPTS="1", **AWS)
    assert result.returncode != 0
    assert f'Could not connect to the endpoint URL: "{closed}' in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreachable_mlflow_server_fails_fast_in_one_line(trained):
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run(
        str(trained / ".venv" / "bin" / PACKAGE),
        "register",
        cwd=trained,
        check=False,
        MLFLOW_TRACKING_URI=closed,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: MLflow server {closed} is not reachable ([Errno 111] Connection refused); "
        "start it (`make mlflow-server`) or point MLFLOW_TRACKING_URI at a running one"
    )
    assert time.monotonic() - started < 30  # not MLflow's minutes of retries


def test_pipeline_step_pulls_its_input_from_s3_in_a_bare_container(trained, tmp_path):
    """The files pipeline.Dockerfile copies, no git, no data: the prepare step still runs."""
    run("make", "push", cwd=trained, **AWS)
    container = tmp_path / "container"
    for relative in (
        "dvc.yaml",
        "params.yaml",
        ".dvc/config",
        "data/raw.dvc",
        "data/contract.yaml",
    ):
        (container / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained / relative, container / relative)
    bin_dir = trained / ".venv" / "bin"
    run(
        str(bin_dir / PACKAGE),
        "pipeline-step",
        "prepare",
        "--output",
        str(tmp_path / "out"),
        "--set",
        "data.test_size=0.25",
        cwd=container,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        **AWS,
    )
    train = (tmp_path / "out" / "data" / "prepared" / "train.csv").read_text().splitlines()
    test = (tmp_path / "out" / "data" / "prepared" / "test.csv").read_text().splitlines()
    assert round((len(test) - 1) / (len(train) + len(test) - 2), 2) == 0.25


def test_kfp_compile_writes_one_step_per_stage(trained):
    """The target's name and variable before `make pipeline` still work."""
    run("make", "kfp-compile", "KFP_IMAGE=registry.example.com/demo:1", cwd=trained)
    compiled = yaml.safe_load((trained / "pipeline.yaml").read_text())
    stages = yaml.safe_load((trained / "dvc.yaml").read_text())["stages"]
    assert set(compiled["root"]["dag"]["tasks"]) == set(stages)
    images = {
        executor["container"]["image"]
        for executor in compiled["deploymentSpec"]["executors"].values()
    }
    assert images == {"registry.example.com/demo:1"}
