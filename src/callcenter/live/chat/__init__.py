"""Customer chat: the records (:mod:`.records`: contact ids, chat tokens, messages,
transcripts) and what a customer does (:mod:`.actions`: see if a queue is open, start a
chat, read it, write, leave, rate it).

The API is ``api/chat.py`` (public, token-based, CORS), the page ``/chat``
(``web/pages.py``) and the embeddable widget ``web/static/widget.js``.
"""
