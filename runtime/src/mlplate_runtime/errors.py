"""Errors a user can fix: the CLI prints their message on one line and exits 1."""


class ProjectError(Exception):
    """A problem with input data, configuration or state, with how to fix it."""


class DataValidationError(ProjectError):
    """The data does not match the schema; the message names columns and rows."""
