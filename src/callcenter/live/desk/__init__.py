"""The agent desktop: what an agent sees (:mod:`.views`: the router's state plus the rows,
and the pushes when it changes) and what an agent does (:mod:`.actions`: log in, pause,
accept, write, end, wrap up, transfer, notes).

The API (``api/desk.py``) parses, calls :mod:`.actions` and renders; the page is
``/agent`` (``web/pages.py``, ``web/templates/agent.html``, ``web/static/agent.js``).
"""
