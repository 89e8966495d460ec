"""Data: make or ingest the raw dataset, validate it, split it."""
