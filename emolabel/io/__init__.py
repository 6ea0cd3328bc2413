"""Reading and writing corpora: the one reader every command uses (CSV, TSV, JSONL, parquet,
text; gzip; encodings; errors that name the file and line) and the output writers."""
