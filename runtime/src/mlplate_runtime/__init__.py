"""mlplate's runtime: the machinery every generated project shares (released with mlplate)."""

from mlplate_runtime import ejected as _ejected

__version__ = "0.2.52"

_ejected.install()  # parts a project took over (`mlplate eject`) are imported from the project
