"""Run every benchmark script and write benchmarks/RESULTS.md.

Usage: python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = {
    "generate.py": ["--repeat", "7"],
    "project.py": ["--repeat", "3"],
    "project_size.py": [],
    "updates.py": [],
    "hostile_files.py": [],
    "serving.py": ["--requests", "10000"],
    "scale_out.py": ["--repeat", "3"],
    "platforms.py": ["--repeat", "3"],
    "batch_and_tuning.py": ["--rows", "250000", "1000000", "--trials", "10"],
    "data.py": ["--rows", "1000000", "10000000"],
}
QUICK = {
    "generate.py": ["--repeat", "3"],
    "project.py": ["--repeat", "1"],
    "project_size.py": [],
    "updates.py": [],
    "hostile_files.py": [],
    "serving.py": ["--requests", "2000"],
    "scale_out.py": ["--repeat", "1"],
    "platforms.py": ["--repeat", "1"],
    "batch_and_tuning.py": ["--rows", "250000", "--trials", "5"],
    "data.py": ["--rows", "1000000"],
}
PACKAGES = ("mlplate", "copier", "cookiecutter", "jinja2", "typer")


def median_ms(output: str, label: str) -> float | None:
    for line in output.splitlines():
        if line.startswith(label):
            match = re.search(r"median\s+([\d.]+) ms", line)
            if match:
                return float(match.group(1))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    quick = parser.parse_args().quick
    plan = QUICK if quick else SCRIPTS
    sections = []
    outputs = {}
    for script, args in plan.items():
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(HERE / script), *args], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        outputs[script] = result.stdout
        status = "ok" if result.returncode == 0 else f"failed ({result.returncode})"
        body = result.stdout.strip() or result.stderr.strip()[-2000:]
        sections.append(
            f"## {script} ({' '.join(args)}): {status}, {elapsed:.0f} s\n\n```text\n{body}\n```\n"
        )
        print(f"{script}: {status} in {elapsed:.0f} s", flush=True)

    generate = outputs.get("generate.py", "")
    ratios = []
    ours = median_ms(generate, "mlplate new --defaults (CLI, with git)")
    for label in (
        "copier copy --defaults (CLI, reference)",
        "cookiecutter --no-input (CLI, reference)",
    ):
        reference = median_ms(generate, label)
        if ours and reference:
            ratios.append(
                f"- `mlplate new` (with git init and commit) / {label.split(' (')[0]}: {ours / reference:.2f}x"
            )
    serving = re.search(r"c=32: throughput.*", outputs.get("serving.py", ""))
    if serving:
        ratios.append(f"- serving: {serving.group(0)}")

    versions = []
    for name in PACKAGES:
        if name == "mlplate":  # the source, not an editable install's possibly stale metadata
            from mlplate import __version__

            versions.append(f"mlplate {__version__}")
            continue
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{name} {version(name)}")
    machine = (
        f"- {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}\n"
        f"- {', '.join(versions)}\n"
        f"- generated-project tools: see each section (installed fresh into the project's .venv)\n"
        f"- run at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}{' (quick mode)' if quick else ''}"
    )
    text = (
        "# Benchmark results\n\nWritten by `python benchmarks/run_all.py`. Medians and spreads "
        "(min - max) over repeated runs; reference tools measured in the same run.\n\n"
        f"## Machine\n\n{machine}\n\n## Ratios against the reference tools\n\n"
        + ("\n".join(ratios) or "- none measured")
        + "\n\n"
        + "\n".join(sections)
    )
    (HERE / "RESULTS.md").write_text(text)
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
