"""The annotate job: reader -> classifier -> writer in bounded memory, its output schema and
summary, durable chunks for resume, and line-mode classify."""
