"""Store a trained model folder as the built-in model: fp16 safetensors, tokenizer, card.

fp16 halves the package (about 45 MB instead of 90 MB) at no measurable cost: the
config says float32, so emolabel and plain transformers loaders alike load the weights
back as fp32, and emolabel runs them in the precision the device does best.

Usage: python scripts/export_builtin_model.py TRAINED_DIR DEST_DIR
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def export(trained: Path, dest: Path) -> None:
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
    info["built_by"] = "scripts/build_default_model.sh"
    (dest / "emolabel.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    card = (trained / "README.md").read_text(encoding="utf-8")
    card += (
        "\n## Storage\n\nShipped inside emolabel as fp16 safetensors; emolabel loads it as "
        "fp32 and runs it in bf16/fp16 where the device supports it. Rebuild with "
        "`bash scripts/build_default_model.sh`.\n"
    )
    notes = Path(__file__).with_name("default_model_selection.md")
    if notes.exists():
        card += "\n" + notes.read_text(encoding="utf-8")
    (dest / "README.md").write_text(card, encoding="utf-8")
    (dest / "model.safetensors").chmod(0o644)
    size = sum(f.stat().st_size for f in dest.iterdir()) / 2**20
    print(f"wrote {dest} ({size:.1f} MiB)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    export(Path(sys.argv[1]), Path(sys.argv[2]))
