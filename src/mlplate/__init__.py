"""mlplate: generate ML repositories with data versioning, tracking, CI and serving wired in."""

__version__ = "0.2.52"
