#!/usr/bin/env bash
# Rebuild the built-in model emolabel/models/emotion-minilm from scratch.
#
# 1. `emolabel train` fine-tunes the bundled all-MiniLM-L6-v2 encoder on dair-ai/emotion
#    (train split; the validation split picks the best epoch), writing a full fp32 folder.
#    Seed 1234 was the best of three seeds on validation (42: 0.9335, 7: 0.9350,
#    1234: see the model card); bf16 runs on 2 CPU threads are not bit-reproducible, so a
#    rebuild lands within a few tenths of a point of the shipped figures.
# 2. scripts/export_builtin_model.py stores it as fp16 safetensors in the package, with the
#    tokenizer, emolabel.json and the model card.
# 3. `emolabel evaluate` records the shipped model's validation figures.
#
# Usage: bash scripts/build_default_model.sh [DATA_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/emotion}
WORK=${2:-runs/emotion-minilm}

emolabel train --base-model minilm --data "$DATA" \
    --epochs 5 --lr 1e-4 --batch-size 32 --warmup-ratio 0.1 --seed 1234 \
    --metric accuracy --precision bf16 \
    -o "$WORK" --overwrite

python scripts/export_builtin_model.py "$WORK" emolabel/models/emotion-minilm
emolabel evaluate emolabel/models/emotion-minilm --data "$DATA" --split validation \
    --json emolabel/models/emotion-minilm/validation-metrics.json
