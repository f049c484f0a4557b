"""Analyses of finished runs (read from their folders, never by re-running the model)."""
