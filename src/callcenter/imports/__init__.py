"""Importers: a PBX's own history (Asterisk queue_log + CDR, FreeSWITCH mod_callcenter,
any CDR CSV through a mapping) turned into the project's event log, so every report
works on top of a telephony system a center already runs."""
