"""The runtime wheel a generated project installs, and its place in the project.

A project depends on ``mlplate-runtime==<this version>``. So that it installs on any machine,
CI runner or image with only the public package indexes (which do not hold mlplate), mlplate
puts the wheel in the project (``.mlplate/wheels/``, like Yarn's committed release), and
``make setup``, uv and the Dockerfiles look there first. A team that publishes mlplate to its
own index removes the folder (see docs/runtime.md). mlplate's own wheel carries the runtime
wheel; a source checkout builds it from ``runtime/`` (hatchling, reproducible, ~0.1 s).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mlplate import __version__
from mlplate.errors import MlplateError

WHEELS_DIR = Path(".mlplate") / "wheels"
WHEEL_NAME = f"mlplate_runtime-{__version__}-py3-none-any.whl"
SHIPPED = Path(__file__).parent / "runtime" / WHEEL_NAME  # in mlplate's wheel (hatch_build.py)
CHECKOUT = Path(__file__).parents[2] / "runtime"  # in a source checkout


def build_runtime_wheel(source: Path, out: Path) -> Path:
    """Build the runtime wheel from ``source`` (the runtime/ folder) into the folder ``out``."""
    from hatchling.builders.wheel import WheelBuilder

    out.mkdir(parents=True, exist_ok=True)
    built = list(WheelBuilder(str(source)).build(directory=str(out), versions=["standard"]))
    return Path(built[0])


def runtime_wheel(work: Path) -> Path:
    """This version's runtime wheel: the shipped one, or one built into ``work`` from a checkout."""
    if SHIPPED.is_file():
        return SHIPPED
    if (CHECKOUT / "pyproject.toml").is_file():
        try:
            return build_runtime_wheel(CHECKOUT, work)
        except ImportError:
            raise MlplateError(
                "this mlplate checkout cannot build its runtime wheel: install hatchling "
                "(`pip install -e '.[test]'`), or install mlplate from a wheel"
            ) from None
    raise MlplateError(
        f"this mlplate installation carries no runtime wheel ({WHEEL_NAME}); reinstall mlplate"
    )


def vendor_runtime(project: Path) -> Path:
    """Put this version's runtime wheel in ``project``'s wheel folder, replacing older ones."""
    folder = project / WHEELS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("mlplate_runtime-*.whl"):
        if old.name != WHEEL_NAME:
            old.unlink()
    with tempfile.TemporaryDirectory() as work:
        wheel = runtime_wheel(Path(work))
        target = folder / WHEEL_NAME
        shutil.copyfile(wheel, target)
    return target
