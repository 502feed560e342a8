"""The declarative base every table registers on (one metadata, one naming convention).

The ground floor of the database: table modules in :mod:`callcenter.storage.tables`
import this and nothing else of ours; Alembic compares the migrations with
``Base.metadata`` once :mod:`callcenter.storage.tables` is imported
(``storage/migrations/env.py``).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


__all__ = ["NAMING_CONVENTION", "Base"]
