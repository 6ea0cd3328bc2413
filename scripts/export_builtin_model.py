"""Store a trained model folder as a built-in model: fp16 safetensors, tokenizer, card.

fp16 halves the package (about 49 MB a MiniLM model instead of 98 MB) at no measurable
cost: the config says float32, so emolabel and plain transformers loaders alike load the
weights back as fp32, and emolabel runs them in the precision the device does best.

Usage: python scripts/export_builtin_model.py TRAINED_DIR DEST_DIR
           [--summary LINE] [--built-by SCRIPT] [--notes FILE.md]...
           [--revalidate DATA... [--label-map MAP]]

--revalidate recomputes the per-source validation figures of emolabel.json and the card
from the stored model, at its stored thresholds, on the validation splits of DATA (the
run's --data values). Runs trained by emolabel 0.2.0 need it: their per-source figures
came from predictions in another row order (see CHANGELOG 0.3.0, Fixed); their overall
figures and thresholds are right.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from emolabel.training.model_folder import model_card


def revalidated_sources(
    model: Path, data: list[str], label_map: str | None
) -> dict[str, dict[str, Any]]:
    """Each source's figures at the model's stored thresholds and at 0.5, as train writes them."""
    from emolabel.inference import EmotionClassifier
    from emolabel.training.data import load_training_data
    from emolabel.training.thresholds import multi_hot, source_figures

    training = load_training_data(data, label_map=label_map)
    validation = training.splits["validation"]
    classifier = EmotionClassifier.load(model, device="cpu", precision="fp32")
    assert classifier.labels == training.labels, (classifier.labels, training.labels)
    scores, _ = classifier.predict_proba(list(validation["text"]))
    truth = multi_hot(validation["labels"], len(training.labels))
    thresholds = np.asarray(classifier.thresholds)
    return {
        name: source_figures(truth[rows], scores[rows], thresholds, training.labels)
        for name, rows in training.validation_sources.items()
    }


def export(
    trained: Path,
    dest: Path,
    *,
    summary: str | None = None,
    built_by: str = "scripts/build_builtin_models.sh",
    notes: list[Path] | None = None,
    revalidate: list[str] | None = None,
    label_map: str | None = None,
) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    model = AutoModelForSequenceClassification.from_pretrained(
        trained, dtype=torch.float32, use_safetensors=True
    )
    model.to(torch.float16).save_pretrained(dest)
    # The weights stay fp16 on disk, but the config asks loaders for fp32: transformers 5
    # otherwise keeps the checkpoint dtype, and fp16 matmuls on a CPU are many times slower.
    config_path = dest / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    AutoTokenizer.from_pretrained(trained).save_pretrained(dest)
    info = json.loads((trained / "emolabel.json").read_text(encoding="utf-8"))
    info["stored_dtype"] = "float16"
    info["built_by"] = built_by
    if summary:
        info["summary"] = summary
    (dest / "emolabel.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    card = (trained / "README.md").read_text(encoding="utf-8")
    if revalidate:
        info["validation"]["sources"] = revalidated_sources(dest, revalidate, label_map)
        info["validation"]["sources_recomputed_by"] = "scripts/export_builtin_model.py"
        (dest / "emolabel.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        card = model_card(info)
    if summary:
        head, title, rest = card.partition("\n# ")
        title, _, rest = rest.partition("\n")
        card = f"{head}\n# {title}\n\n{summary}\n{rest}"
    card += (
        "\n## Storage\n\nShipped inside emolabel as fp16 safetensors; emolabel loads it as "
        "fp32 and runs it in bf16/fp16 where the device supports it. Rebuild with "
        f"`bash {built_by}`.\n"
    )
    for note in notes or []:
        card += "\n" + note.read_text(encoding="utf-8")
    (dest / "README.md").write_text(card, encoding="utf-8")
    (dest / "model.safetensors").chmod(0o644)
    size = sum(f.stat().st_size for f in dest.iterdir()) / 1e6
    print(f"wrote {dest} ({size:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trained", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--summary", help="one line: what the model is for")
    parser.add_argument("--built-by", default="scripts/build_builtin_models.sh")
    parser.add_argument("--notes", type=Path, action="append", help="markdown appended to the card")
    parser.add_argument("--revalidate", nargs="+", metavar="DATA", help="the run's --data values")
    parser.add_argument("--label-map", help="the run's --label-map")
    export(**vars(parser.parse_args()))


if __name__ == "__main__":
    main()
