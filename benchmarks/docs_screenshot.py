"""Build a generated project's docs and screenshot its model card with headless Chromium.

Writes reports/model-card.png and reports/docs-index.png in this repository (for people to
look at; nothing asserts on them) and prints the time each step took.
Usage: python benchmarks/docs_screenshot.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlplate.api import generate

ROOT = Path(__file__).parents[1]


def main() -> None:
    browser = shutil.which("chromium") or sys.exit("chromium is not installed")
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        project = generate(Path(work) / "churn-model").path
        for target in ("setup", "all", "docs"):
            started = time.perf_counter()
            subprocess.run(["make", target], cwd=project, env=env, check=True, capture_output=True)
            print(f"make {target:<6} {time.perf_counter() - started:6.1f} s")
        for page, name in (
            ("model-card/index.html", "model-card.png"),
            ("index.html", "docs-index.png"),
        ):
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--log-level=3",
                    f"--user-data-dir={Path(work) / 'chrome'}",
                    "--window-size=1280,1400",
                    "--virtual-time-budget=3000",
                    f"--screenshot={out / name}",
                    (project / "site" / page).as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            print(f"screenshot: {out / name}")


if __name__ == "__main__":
    main()
