"""Serving: a FastAPI app answering with the champion model (canary and shadow optional)."""
