"""Asterisk's history as events (rules: docs/import-asterisk.md):

* ``queue_log``: the ``queue_log`` line format and the line-by-line mapper
  (:class:`QueueLogMapper`, :func:`import_queue_log`): the reference, and ``--follow``'s;
* ``columnar`` / ``columnar_events``: a whole file by columns with polars (the same
  events, ten times faster);
* ``follow``: a live ``queue_log`` followed (``tail -F``, rotation survived);
* ``extras``: caller numbers from the CDR (``Master.csv``), recordings by uniqueid.
"""

from callcenter.imports.asterisk.queue_log import (
    NO_CALL,
    SOURCE,
    CallInfo,
    QueueLogImport,
    QueueLogMapper,
    caller_number,
    import_queue_log,
    normalise_agent,
    parse_line,
    read_text_lines,
)

__all__ = [
    "NO_CALL",
    "SOURCE",
    "CallInfo",
    "QueueLogImport",
    "QueueLogMapper",
    "caller_number",
    "import_queue_log",
    "normalise_agent",
    "parse_line",
    "read_text_lines",
]
