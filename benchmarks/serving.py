"""Load-test the generated serving app against `mlflow models serve` with the same model.

Generates a project, trains and registers its model, then for each server sends N
single-record requests at concurrency 32 and at concurrency 1 with `hey` (a Go load
generator in its own process, so the client never competes with the server for the
interpreter) and prints p50/p99 latency, throughput and errors. The app runs as its image
does (`serve`), once with the prediction log and once without (the logging cost); its
resident memory is read after the run.
Usage: python benchmarks/serving.py [--requests 10000]   (needs `hey`: apt-get install hey)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
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
# MLflow's server takes the model's own inputs: the contract's features typed (numbers as
# floats), which the registered pipeline (derived features first) takes as they are.
FEATURES = {k: v if isinstance(v, str) else float(v) for k, v in RECORD.items()}


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


def load(url: str, body: dict, *, requests: int, concurrency: int, work: Path) -> dict:
    """Send ``requests`` POSTs (rounded up to a multiple of ``concurrency``) with hey."""
    payload = work / "body.json"
    payload.write_text(json.dumps(body))
    total = math.ceil(requests / concurrency) * concurrency
    command = ["hey", "-n", str(total), "-c", str(concurrency), "-m", "POST"]
    command += ["-T", "application/json", "-D", str(payload), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else float("nan")

    ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", output))
    return {
        "requests": total,
        "p50_ms": number(r"50%+ in ([\d.]+) secs") * 1000,
        "p99_ms": number(r"99%+ in ([\d.]+) secs") * 1000,
        "throughput": number(r"Requests/sec:\s+([\d.]+)"),
        "errors": total - ok,
    }


def resident_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def serve(command, *, project, ready, label, body, url, args, env=None) -> dict:
    """Start a server, warm it up, load it at concurrency 32 then 1; print and return results."""
    # The server's output goes to a file: an unread pipe fills up and blocks the server.
    log = (project / f"{label.split()[0]}-server.log").open("wb")
    server = subprocess.Popen(
        command,
        cwd=project,
        env={**env_for(project), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results = {}
    try:
        startup = wait_ready(ready, server)
        load(url, body, requests=200, concurrency=32, work=project)  # warm-up
        for concurrency in (32, 1):
            result = load(url, body, requests=args.requests, concurrency=concurrency, work=project)
            result["startup_s"] = startup
            result["rss_mb"] = resident_mb(server.pid)
            results[concurrency] = result
            print(
                f"{label:<36} c={concurrency:<3} p50 {result['p50_ms']:7.2f} ms  "
                f"p99 {result['p99_ms']:7.2f} ms  {result['throughput']:7.1f} req/s  "
                f"errors {result['errors']}/{result['requests']}  RSS {result['rss_mb']:.0f} MB",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("error: the load generator `hey` is not installed (apt-get install hey)")
    work = Path(tempfile.mkdtemp(prefix="mlplate-serving-bench-"))
    try:
        project = generate(work / "bench-model").path
        for target in ("setup", "all"):
            subprocess.run(
                ["make", target], cwd=project, env=env_for(project), check=True, capture_output=True
            )
        print(
            f"serving benchmark: {args.requests} single-record requests at concurrency 32 and 1, "
            f"{os.cpu_count()} cores, client (hey) in a separate process"
        )
        package = project.name.replace("-", "_")
        runs = {}
        for label, extra in (
            ("mlplate app (serve, 1 process)", {}),
            ("mlplate app, PREDICTION_LOG=off", {"PREDICTION_LOG": "off"}),
        ):
            port = free_port()
            runs[label] = serve(
                [str(project / ".venv" / "bin" / "serve")],
                project=project,
                label=label,
                ready=f"http://127.0.0.1:{port}/ready",
                url=f"http://127.0.0.1:{port}/predict",
                body={"records": [RECORD]},
                args=args,
                env={"HOST": "127.0.0.1", "PORT": str(port), **extra},
            )
        port = free_port()
        theirs = serve(
            [
                str(project / ".venv" / "bin" / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{project.name}@champion",
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
        ours, unlogged = runs.values()
        busy = ours[32]
        print(
            f"c=32: throughput {busy['throughput'] / theirs[32]['throughput']:.1f}x mlflow's "
            f"(target >= 15x); p99/p50 {busy['p99_ms'] / busy['p50_ms']:.2f} (target <= 2); "
            f"c=1: p50 {ours[1]['p50_ms']:.2f} ms (target <= 3), p99 {ours[1]['p99_ms']:.2f} ms "
            f"(target <= 5), {ours[1]['p50_ms'] / theirs[1]['p50_ms']:.2f}x mlflow's p50; "
            "prediction log costs "
            f"{1 - busy['throughput'] / unlogged[32]['throughput']:.0%} of throughput at c=32 "
            f"({package})"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
