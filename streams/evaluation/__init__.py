"""Scoring the extraction: the PolNeAR dev split and the project's own annotated set."""
