"""Administration of the center: its configuration and its people.

- :mod:`.schemas` — what the services take and return: typed changes (``*In`` creates,
  ``*Patch`` changes only the fields set) and results (``*Out``);
- :mod:`.config` — skills, queues, pause reasons, dispositions;
- :mod:`.agents` — agent profiles (skills, capacity, queues of users with role agent);
- :mod:`.hours` — business hours: checked when written, asked whether open now;
- :mod:`.people` — users (role, password, active) and teams;
- :mod:`.checks` — the errors and the one-line value checks every service shares;
- :mod:`.uow` — :class:`~.uow.UnitOfWork`: a change in a transaction of its own,
  committed, the routing engine reloaded and the change taken back (:mod:`.undo`) if
  the engine refuses it.

The services are functions over a session (they flush, never commit).  The API over
them is ``api/admin.py`` and ``api/users.py`` (bodies: ``api/admin_schemas.py``), the
page ``/admin`` is in ``web/pages.py``, the tables in ``storage/tables/config.py`` and
``storage/tables/people.py``; ``docs/server-admin.md`` lists the rules.
"""
