"""`python -m mlplate`: the same command line as `mlplate`."""

from mlplate.cli import run

run()
