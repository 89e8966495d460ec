"""Time project generation: mlplate CLI and in-process, against plain copier and cookiecutter.

Usage: python benchmarks/generate.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import measure, run_quiet, summary

from mlplate.api import generate
from mlplate.template import template_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    bin_dir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="mlplate-bench-"))
    template = str(template_root())
    warnings.simplefilter("ignore")
    try:
        cases = {
            "mlplate new --defaults (CLI, with git)": lambda i: run_quiet(
                str(bin_dir / "mlplate"), "new", str(work / f"cli{i}"), "--defaults"
            ),
            "mlplate new --defaults --no-git (CLI)": lambda i: run_quiet(
                str(bin_dir / "mlplate"), "new", str(work / f"nogit{i}"), "--defaults", "--no-git"
            ),
            "mlplate.api.generate (in-process, no git)": lambda i: generate(
                work / f"api{i}", git=False
            ),
            "copier copy --defaults (CLI, reference)": lambda i: run_quiet(
                str(bin_dir / "copier"),
                "copy",
                "--defaults",
                "--quiet",
                template,
                str(work / f"copier{i}"),
            ),
            "cookiecutter --no-input (CLI, reference)": lambda i: run_quiet(
                str(bin_dir / "cookiecutter"), "--no-input", "-o", str(work / f"cc{i}"), template
            ),
            "mlplate --help (CLI start-up)": lambda i: run_quiet(
                str(bin_dir / "mlplate"), "--help"
            ),
        }
        print(f"generation benchmark, {repeat} runs each, python {sys.version.split()[0]}")
        for label, action in cases.items():
            print(summary(label, measure(action, repeat=repeat)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
