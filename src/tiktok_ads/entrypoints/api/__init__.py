"""entrypoints api layer."""
