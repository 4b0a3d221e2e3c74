"""The editors' use cases on submissions: decisions, duplicates, exports."""
