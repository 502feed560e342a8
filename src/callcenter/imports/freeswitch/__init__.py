"""FreeSWITCH mod_callcenter history as events (docs/import-freeswitch-csv.md):

* ``events``: the entry point (:func:`import_freeswitch`, format detection) and the ESL
  JSON events' mapper;
* ``cdr``: JSON and CSV CDRs of call-center calls, and what both importers share.
"""

from callcenter.imports.freeswitch.events import (
    SOURCE,
    EventMapper,
    FsFormat,
    detect_format,
    import_cdrs,
    import_events,
    import_freeswitch,
)

__all__ = [
    "SOURCE",
    "EventMapper",
    "FsFormat",
    "detect_format",
    "import_cdrs",
    "import_events",
    "import_freeswitch",
]
