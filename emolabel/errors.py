"""The exceptions a user can act on: a fixable mistake (exit 2) and an interruption (exit 130)."""

from __future__ import annotations


class EmolabelError(Exception):
    """A user error: the message names the file/row/column and says what to do.

    The CLI prints it as one red line and exits with `exit_code`; any other exception is a
    bug and keeps its traceback.
    """

    exit_code: int = 2


class Interrupted(EmolabelError):
    """Ctrl-C (or SIGTERM) stopped a job; the message says what was kept and how to resume.

    Every job raises this one type, so the CLI and Python callers handle an interruption the
    same way whatever was running.
    """

    exit_code = 130
