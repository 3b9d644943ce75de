"""Explanations: decision records, narratives and the explain command."""
