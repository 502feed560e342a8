"""Voice in the live center: calls from Asterisk (over ARI) routed by the same engine,
events and pushes as chats (``docs/voice.md``)."""
