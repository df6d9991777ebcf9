"""Live ingestion from news feeds: ``streams ingest``."""
