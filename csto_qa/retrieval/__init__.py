"""Retrieval: query tokens and follow-up rewriting, BM25, dense search, fusion, ranking."""
