"""Load-test the generated serving app against `mlflow models serve` with the same model.

Generates a project, trains and registers its model, then for each server sends N
single-record requests at concurrency C from this (separate) process and prints
p50/p99 latency, throughput, errors and the ratio to MLflow's server.
Usage: python benchmarks/serving.py [--requests 10000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from mlplate.api import generate

RECORD = {
    "age": 41,
    "tenure_months": 12,
    "contract": "month-to-month",
    "payment_method": "electronic-check",
    "monthly_charges": 70.5,
    "total_charges": 850.0,
    "support_calls": 2,
}
# MLflow's server takes the model's own inputs: the engineered feature columns.
FEATURES = {
    **{k: float(v) for k, v in RECORD.items() if not isinstance(v, str)},
    "contract": "month-to-month",
    "payment_method": "electronic-check",
    "charges_per_month_of_tenure": 70.8333,
    "is_new_customer": 0.0,
}


def env_for(project: Path) -> dict[str, str]:
    # Both servers get one native thread per scoring call (what the mlplate app sets itself).
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", OMP_NUM_THREADS="1")
    tools = [project / ".venv" / "bin", Path(sys.executable).parent]
    env["PATH"] = os.pathsep.join([*map(str, tools), env["PATH"]])
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with code {server.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {timeout} s")


async def load(url: str, body: dict, *, requests: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "throughput": requests / elapsed,
        "errors": errors,
    }


def serve(
    command: list[str],
    *,
    project: Path,
    ready: str,
    label: str,
    body: dict,
    url: str,
    args: argparse.Namespace,
) -> dict[str, float]:
    # The server's output goes to a file: an unread pipe fills up and blocks the server.
    log = (project / f"{label.split()[0]}-server.log").open("wb")
    server = subprocess.Popen(
        command,
        cwd=project,
        env=env_for(project),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        startup = wait_ready(ready, server)
        asyncio.run(load(url, body, requests=min(200, args.requests), concurrency=args.concurrency))
        result = asyncio.run(load(url, body, requests=args.requests, concurrency=args.concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    result["startup_s"] = startup
    print(
        f"{label:<34} p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
        f"{result['throughput']:7.1f} req/s  errors {result['errors']}  ready in {startup:.1f} s",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlplate-serving-bench-"))
    try:
        project = generate(work / "bench-model").path
        for target in ("setup", "all"):
            subprocess.run(
                ["make", target], cwd=project, env=env_for(project), check=True, capture_output=True
            )
        print(
            f"serving benchmark: {args.requests} single-record requests, concurrency "
            f"{args.concurrency}, {os.cpu_count()} cores, client in a separate process"
        )
        port = free_port()
        ours = serve(
            ["make", "serve", f"PORT={port}"],
            project=project,
            label="mlplate app (uvicorn, 1 worker)",
            ready=f"http://127.0.0.1:{port}/ready",
            url=f"http://127.0.0.1:{port}/predict",
            body={"records": [RECORD]},
            args=args,
        )
        port = free_port()
        theirs = serve(
            [
                str(project / ".venv" / "bin" / "mlflow"),
                "models",
                "serve",
                "-m",
                "models:/bench-model@champion",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            project=project,
            label="mlflow models serve (reference)",
            ready=f"http://127.0.0.1:{port}/ping",
            url=f"http://127.0.0.1:{port}/invocations",
            body={"dataframe_records": [FEATURES]},
            args=args,
        )
        print(
            f"throughput ratio (mlplate / mlflow): {ours['throughput'] / theirs['throughput']:.2f}x; "
            f"p99 ratio: {ours['p99_ms'] / theirs['p99_ms']:.2f}x"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
