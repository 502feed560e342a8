"""The server's composition root: one FastAPI application built from the API routers
(``api/``), the pages (``web/``) and the live engine (``live/``); see :mod:`.app`.

It stands above both edges it assembles, so neither ``api/`` nor ``web/`` imports the
other's assembly.
"""
