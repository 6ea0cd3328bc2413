"""The annotate job on a Ray cluster (Ray Data reads, an actor pool labels, parquet out)."""
