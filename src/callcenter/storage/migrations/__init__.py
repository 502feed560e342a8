"""Alembic migrations of the event database (run via :func:`callcenter.storage.db.upgrade`)."""
