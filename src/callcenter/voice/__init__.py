"""Voice: the telephony engine (Asterisk, driven over ARI) and what talks to it.

``asterisk`` finds the build ``scripts/asterisk.sh`` made and runs a private, embedded
Asterisk (generated configuration, 127.0.0.1 ports, random ARI credentials).
See ``docs/voice.md``.
"""
