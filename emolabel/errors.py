"""The one exception type for mistakes a user can fix."""

from __future__ import annotations


class EmolabelError(Exception):
    """A user error: the message names the file/row/column and says what to do.

    The CLI prints it as one red line and exits with code 2; any other exception is a bug
    and keeps its traceback.
    """
