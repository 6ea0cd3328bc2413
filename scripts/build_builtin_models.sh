#!/usr/bin/env bash
# Rebuild emolabel's two built-in models from scratch, as they were built for 0.3.0:
#
#   ekman       (the default) Ekman's six emotions + neutral, multi-label, trained on the
#               union of GoEmotions (grouped by the official Ekman map), TweetEval emotion
#               (optimism -> joy) and dair-ai/emotion (love -> joy).
#   goemotions  GoEmotions' 28 labels (27 emotions + neutral), multi-label.
#
# Both fine-tune the bundled all-MiniLM-L6-v2 with a mean-pooling layer appended
# (`--pooling mean`: the encoder was pre-trained with mean pooling, and the folder stays a
# standard BERT classifier that transformers.pipeline loads), a 10x learning rate for the
# fresh head (`--head-lr`), and per-label thresholds tuned on validation. The two runs go
# side by side, one CPU thread each (2 cores: about 49 and 31 minutes in bf16 with AMX);
# on a bigger machine raise THREADS. Both are resumable: after a crash or Ctrl-C, run
# this script again with RESUME=1.
#
# Then scripts/export_builtin_model.py stores each as fp16 safetensors in emolabel/models/
# with its tokenizer, thresholds and model card, and benchmarks/cross_domain.py measures
# them on every validation split.
#
# Usage: bash scripts/build_builtin_models.sh [DATA_ROOT]    (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-../shared/data}
THREADS=${THREADS:-1}
if [[ -n "${RESUME:-}" ]]; then AGAIN=--resume; else AGAIN=--overwrite; fi
COMMON=(--base-model minilm --pooling mean --lr 1e-4 --head-lr 1e-3
        --batch-size 32 --max-length 64 --seed 42 --metric macro_f1 --precision bf16
        --threads "$THREADS" --keep-checkpoints)
mkdir -p runs

emolabel train --data "$D/goemotions" --data "$D/tweeteval_emotion" --data "$D/emotion" \
    --label-map ekman "${COMMON[@]}" --epochs 3 -o runs/emotion-ekman $AGAIN \
    > runs/ekman.log 2>&1 &
EKMAN=$!
emolabel train --data "$D/goemotions" "${COMMON[@]}" --epochs 3 -o runs/goemotions-28 $AGAIN \
    > runs/go28.log 2>&1 &
GO28=$!
wait $EKMAN || { echo "ekman training failed: see runs/ekman.log" >&2; exit 1; }
wait $GO28 || { echo "goemotions training failed: see runs/go28.log" >&2; exit 1; }

python scripts/export_builtin_model.py runs/emotion-ekman emolabel/models/ekman \
    --notes scripts/builtin_models_notes.md \
    --revalidate "$D/goemotions" "$D/tweeteval_emotion" "$D/emotion" --label-map ekman \
    --summary "General English emotion: Ekman's six + neutral; tweets, Reddit, short posts"
python scripts/export_builtin_model.py runs/goemotions-28 emolabel/models/goemotions \
    --notes scripts/builtin_models_notes.md \
    --summary "GoEmotions' 27 emotions + neutral, multi-label; Reddit comments"
# thresholds re-tuned on the stored fp16 model's scores at annotate's length (train tuned
# them on its own last validation pass, at --max-length 64): 28-label macro-F1 0.549 -> 0.552
emolabel tune-thresholds emolabel/models/goemotions --data "$D/goemotions" --precision fp32 \
    --threads "$THREADS" -o emolabel/models/goemotions -q
python benchmarks/cross_domain.py --data-root "$D" --json benchmarks/cross_domain.json
