"""Monitoring: data drift, data quality and prediction shift against the training data."""
