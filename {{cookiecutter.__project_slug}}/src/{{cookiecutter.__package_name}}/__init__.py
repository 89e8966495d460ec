"""The {{ cookiecutter.__project_slug }} package."""

__version__ = "0.1.0"
