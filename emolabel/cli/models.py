"""`emolabel models`: list the model folders shipped with emolabel."""

from __future__ import annotations

import click


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per model on stdout.")
def command(as_json: bool) -> None:
    """List the built-in models: labels, size on disk and validation figures."""
    from emolabel.evaluation.model_listing import list_builtin_models

    models = list_builtin_models()
    if as_json:
        import json

        for info in models:
            click.echo(
                json.dumps(
                    {
                        "name": info.name,
                        "default": info.default,
                        "summary": info.summary,
                        "path": str(info.path),
                        "labels": info.labels,
                        "multi_label": info.multi_label,
                        "size_bytes": info.size_bytes,
                        "accuracy": info.accuracy,
                        "macro_f1": info.macro_f1,
                        "sources": info.sources,
                        "base_model": info.base_model,
                        "data": info.data,
                    }
                )
            )
        return
    from emolabel.cli.render import render_models

    render_models(models)
