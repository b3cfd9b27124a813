"""Ingest: corpus files to documents (readers), their structure, sentences and passages."""
