"""Time the scale-out configuration: S3 remote (moto), a shared MLflow server, Kubeflow compile.

Generates a project answering dvc_remote=s3, mlflow_tracking=server, orchestrator=kubeflow,
starts moto_server and the project's `make mlflow-server` on 127.0.0.1, then prints:
server start-up, `make all` over HTTP, `make push` / `make pull` through S3, `make kfp-compile`.
Usage: python benchmarks/scale_out.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import summary

from mlplate.api import generate

AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(project: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", **AWS)
    tools = [Path(sys.executable).parent] + ([project / ".venv" / "bin"] if project else [])
    env["PATH"] = os.pathsep.join([*map(str, tools), env["PATH"]])
    return env


def timed(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(list(args), cwd=cwd, env=environment(cwd), check=True, capture_output=True)
    return time.perf_counter() - started


def start(args: list[str], cwd: Path, ready_url: str) -> tuple[subprocess.Popen, float]:
    """Start a server in its own session; return it and the seconds until ``ready_url`` answers."""
    started = time.perf_counter()
    server = subprocess.Popen(
        args,
        cwd=cwd,
        env=environment(cwd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = started + 120
    while time.perf_counter() < deadline:
        try:
            urllib.request.urlopen(ready_url, timeout=1).close()
            return server, time.perf_counter() - started
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"{args[0]} exited with {server.returncode}") from None
            time.sleep(0.1)
    raise SystemExit(f"{args[0]} did not answer {ready_url} within 120 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def run_once(work: Path, results: dict[str, list[float]]) -> None:
    import boto3

    s3_port, mlflow_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{s3_port}"
    moto, moto_seconds = start(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(s3_port)],
        work,
        f"{endpoint}/",
    )
    servers = [moto]
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket="bench")
        project = generate(
            work / "bench-model",
            answers={
                "project_name": "bench-model",
                "dvc_remote": "s3",
                "s3_bucket": "bench",
                "s3_endpoint_url": endpoint,
                "mlflow_tracking": "server",
                "mlflow_tracking_uri": f"http://127.0.0.1:{mlflow_port}",
                "orchestrator": "kubeflow",
            },
        ).path
        timed("make", "setup", cwd=project)
        mlflow, mlflow_seconds = start(
            ["make", "mlflow-server", f"MLFLOW_PORT={mlflow_port}"],
            project,
            f"http://127.0.0.1:{mlflow_port}/health",
        )
        servers.append(mlflow)
        steps = {
            "moto_server ready": moto_seconds,
            "make mlflow-server ready (/health)": mlflow_seconds,
            "make all against the MLflow server": timed("make", "all", cwd=project),
            "make push (S3 via moto)": timed("make", "push", cwd=project),
        }
        subprocess.run(["git", "add", "--all"], cwd=project, check=True)
        subprocess.run(["git", "commit", "-qm", "trained"], cwd=project, check=True)
        clone = work / "clone"
        subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
        os.symlink(project / ".venv", clone / ".venv")
        steps["make pull in a fresh clone (S3 via moto)"] = timed("make", "pull", cwd=clone)
        steps["make kfp-compile"] = timed("make", "kfp-compile", cwd=project)
        for label, seconds in steps.items():
            results.setdefault(label, []).append(seconds)
    finally:
        for server in reversed(servers):
            stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    results: dict[str, list[float]] = {}
    for index in range(repeat):
        work = Path(tempfile.mkdtemp(prefix=f"mlplate-scale-bench-{index}-"))
        try:
            run_once(work, results)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for label, durations in results.items():
        print(summary(label, durations))


if __name__ == "__main__":
    main()
