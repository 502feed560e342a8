"""Asterisk configuration for tests that drive calls with real SIP clients.

:func:`sip_test_config` is the ``pjsip.conf`` text for ``start_asterisk(extra=...)``: a
carrier trunk identified by its address (127.0.0.1) whose calls enter
``callcenter-in`` (so our Stasis application), and desk-phone endpoints with digest
auth and an ``aor`` of ``max_contacts=1``. Endpoints are identified by the From user
first, by address second (``endpoint_identifier_order = username,ip``): the carrier and
the phones all send from 127.0.0.1, and a phone's REGISTER must reach its own endpoint.
Every endpoint has ``direct_media = no``: media stays in Asterisk (recorded, snooped);
without it Asterisk re-INVITEs two bridged SIP legs to send RTP to each other.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CARRIER", "sip_test_config"]

CARRIER = "carrier"
"""Name of the trunk endpoint :func:`sip_test_config` writes."""


def sip_test_config(phones: Mapping[str, str], *, carrier_match: str = "127.0.0.1") -> str:
    """``pjsip.conf`` text: the carrier trunk and one endpoint per ``{user: password}``."""
    parts = [
        "[global](+)\nendpoint_identifier_order = username,ip\n",
        f"[{CARRIER}]\ntype = endpoint\ncontext = callcenter-in\ndisallow = all\nallow = ulaw\n"
        "dtmf_mode = rfc4733\nrtp_symmetric = yes\ndirect_media = no\n",
        f"[{CARRIER}]\ntype = identify\nendpoint = {CARRIER}\nmatch = {carrier_match}\n",
    ]
    for user, password in phones.items():
        parts += [
            f"[{user}]\ntype = auth\nauth_type = userpass\nusername = {user}\n"
            f"password = {password}\n",
            f"[{user}]\ntype = aor\nmax_contacts = 1\nremove_existing = yes\n",
            f"[{user}]\ntype = endpoint\ncontext = default\ndisallow = all\nallow = ulaw\n"
            f"auth = {user}\naors = {user}\ndtmf_mode = rfc4733\nrtp_symmetric = yes\n"
            "direct_media = no\n",
        ]
    return "\n".join(parts)
