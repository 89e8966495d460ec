"""mlplate's runtime: the machinery every generated project shares (released with mlplate)."""

__version__ = "0.2.31"
