"""The one exception type for mistakes a user can fix."""


class MlplateError(Exception):
    """A user-facing problem: the message names what is wrong and how to fix it."""
