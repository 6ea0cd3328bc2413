"""The annotate job: reader -> classifier -> writer in bounded memory, its output schema and
summary, durable chunks for resume, and line-mode classify.

    options.py      AnnotateOptions: every option and default (engines and CLI share it)
    schema.py       OutputColumns, output_schema       labelling.py  one batch -> prediction columns
    summary.py      AnnotationSummary                  outputs.py    -o checks, -o - (stdout)
    run_lock.py     one run per output (flock)         checkpoints.py part files + manifest
    pipeline.py     annotate()                         frames.py     annotate_frame()
    line_mode.py    classify's line batching
"""
