"""Administration of the center: its configuration and its people.

- :mod:`.checks` — the errors and the one-line value checks every service shares;
- :mod:`.config` — skills, queues, agent profiles, pause reasons, dispositions;
- :mod:`.hours` — business hours: checked when written, asked whether open now;
- :mod:`.people` — users (role, password, active) and teams;
- :mod:`.undo` — taking back a committed change the routing engine refuses.

The API over it is ``api/admin.py`` and ``api/users.py``, the page ``web/pages.py``
(``/admin``), the tables ``storage/tables/config.py`` and ``storage/tables/people.py``;
``docs/server-admin.md`` lists the rules.
"""
