"""Where events live: JSON Lines and Parquet files and the SQL database.

:mod:`callcenter.storage.eventlog` is the one door to the event log (open, append, read a
frame, read the header); ``jsonl``, ``columnar``, ``event_store`` and ``_background`` are
its implementation.  ``db`` holds the schema, engines and migrations.
"""
