"""Scoring models: metrics (single- and multi-label), plots, evaluate and compare."""
