"""Publication readers, one module per publisher layout.

Nothing here imports Dagster: every parser takes bytes (and the file's name, for error
messages) and returns tidy rows, so it can be run and tested on its own.
"""
