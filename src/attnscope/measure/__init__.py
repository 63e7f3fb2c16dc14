"""Measuring attention decay from weights: protocols, corpora, fits, statistics, records."""
