"""Evaluation harness and datasets (datasets/ holds the JSONL sets)."""
