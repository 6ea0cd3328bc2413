"""The command line: a click group whose commands are thin wrappers over library calls.

One module per command (as spaCy's cli/): each parses options, calls one library function
and hands the result to emolabel.cli.render for drawing.
"""

from __future__ import annotations

from typing import Any

import click

from emolabel import __version__
from emolabel.errors import EmolabelError


class EmolabelGroup(click.Group):
    """Turns EmolabelError into one red line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EmolabelError as exc:
            from emolabel.cli.render import print_error

            print_error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            from emolabel.cli.render import print_error

            print_error("interrupted")
            ctx.exit(130)


@click.group(cls=EmolabelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="emolabel")
def main() -> None:
    """Label the emotion of text at corpus scale.

    \b
    emolabel annotate corpus.csv -o labelled.parquet   label every row of a file
    cat texts.txt | emolabel classify                  label lines from stdin
    emolabel train --data data/ -o my-model            fine-tune your own model
    emolabel evaluate my-model --data val.csv          accuracy, F1, calibration
    emolabel models                                    list the built-in models
    emolabel report labelled.parquet -o report.html    see what a corpus feels
    """


COMMAND_MODULES = (
    "annotate",
    "classify",
    "train",
    "evaluate",
    "models",
    "compare",
    "distill",
    "tune-thresholds",
    "report",
)


def _register() -> None:
    """Each command module imports only click at the top, so `--help` stays fast."""
    import importlib

    for name in COMMAND_MODULES:
        main.add_command(importlib.import_module(f"emolabel.cli.{name.replace('-', '_')}").command)


_register()
