"""Time the managed-platform parts: each orchestrator's compile, and the Feast feature store.

Generates one project per orchestrator (kubeflow, azureml, sagemaker; the sagemaker one also
answers feature_store=feast), installs it, writes the example data, then prints:
`make pipeline` (a fresh process: CLI start, SDK import, build, write), the definition build
alone in a warm process, `make features` from raw data (validate, prepare, featurize, then the
feature_store stage) and the feature_store stage alone.
Usage: python benchmarks/platforms.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import measure, summary

from mlplate.api import generate

PROJECTS = {
    "kubeflow": {"orchestrator": "kubeflow"},
    "azureml": {"orchestrator": "azureml"},
    "sagemaker": {"orchestrator": "sagemaker", "feature_store": "feast"},
}
# The project's own compile call, timed in one warm process (imports done once, then repeated).
WARM_COMPILE = """
import sys, time, statistics
from pathlib import Path
started = time.perf_counter()
from {module} import {function} as compile_it
imported = time.perf_counter() - started
times = []
for _ in range({repeat}):
    started = time.perf_counter()
    compile_it(Path("."), "registry.example.com/bench:1", Path("bench-out.{suffix}"))
    times.append(time.perf_counter() - started)
print(imported, statistics.median(times), min(times), max(times))
"""
COMPILERS = {
    "kubeflow": ("orchestration.kfp_pipeline", "compile_pipeline"),
    "azureml": ("orchestration.azureml_pipeline", "compile_job"),
    "sagemaker": ("orchestration.sagemaker_pipeline", "compile_pipeline"),
}


def run(*args: str, cwd: Path) -> None:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    env["PATH"] = os.pathsep.join([str(cwd / ".venv" / "bin"), env["PATH"]])
    subprocess.run(list(args), cwd=cwd, env=env, check=True, capture_output=True)


def timed(*args: str, cwd: Path) -> float:
    started = time.perf_counter()
    run(*args, cwd=cwd)
    return time.perf_counter() - started


def warm_compile(project: Path, engine: str, repeat: int) -> str:
    module, function = COMPILERS[engine]
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    suffix = "json" if engine == "sagemaker" else "yaml"
    code = WARM_COMPILE.format(
        module=f"{package}.{module}", function=function, repeat=repeat, suffix=suffix
    )
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{engine} warm compile failed:\n{result.stderr[-2000:]}")
    output = result.stdout.split()
    imported, median, low, high = (float(value) * 1000 for value in output)
    return (
        f"{engine + ' build (warm process)':<44} median {median:8.1f} ms   spread {low:8.1f} - "
        f"{high:8.1f} ms   n={repeat}   (module import {imported:.0f} ms; the first build loads the SDK)"
    )


def bench(engine: str, answers: dict[str, str], scratch: Path, repeat: int) -> None:
    """Set up one project and print its timings."""
    project = generate(scratch / engine, answers={"project_name": "bench", **answers}).path
    setup = timed("make", "setup", cwd=project)
    print(f"{engine}: make setup {setup:.1f} s (not a benchmark: install time)")
    run("make", "data", cwd=project)
    durations = measure(lambda _: run("make", "pipeline", cwd=project), repeat=repeat)
    print(summary(f"make pipeline ({engine})", durations))
    print(warm_compile(project, engine, max(repeat, 5)))
    if answers.get("feature_store") == "feast":
        cold = timed("make", "features", cwd=project)
        print(summary("make features (from raw data, 5000 rows)", [cold]))
        stage = ("dvc", "repro", "--force", "--single-item", "feature_store")
        durations = measure(lambda _: run(*stage, cwd=project), repeat=repeat, warmup=0)
        print(summary("feature_store stage alone (5000 rows)", durations))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as scratch:
        for engine, answers in PROJECTS.items():
            bench(engine, answers, Path(scratch), repeat)


if __name__ == "__main__":
    main()
