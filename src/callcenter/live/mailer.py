"""Sending e-mail through the configured SMTP server (the one-time codes of
``live/chat/verify.py``).

The standard library's :mod:`smtplib` and :mod:`email.message` do the work — they are
the well-kept tools for it; this module only reads the settings (``smtp_*``, see
``docs/settings.md``) and turns every failure into one :class:`MailUnavailableError` that
says which server failed and why (the API answers it with 503).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from callcenter.settings import Settings


class MailUnavailableError(Exception):
    """E-mail cannot be sent: no SMTP server configured, or the server failed."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to send (from :class:`Settings`)."""

    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str | None
    password: str | None
    sender: str
    timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The SMTP configuration, or None when no ``smtp_host`` is set."""
        if not settings.smtp_host:
            return None
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=password.get_secret_value() if password is not None else None,
            sender=settings.smtp_from,
            timeout_s=settings.smtp_timeout_s,
        )


def send_mail(cfg: SmtpConfig, to: str, subject: str, body: str) -> None:
    """Send a plain-text e-mail; :class:`MailUnavailableError` naming the server on failure."""
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(body)
    try:
        if cfg.security == "ssl":
            ctx = ssl.create_default_context()
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_s, context=ctx
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        with smtp:
            if cfg.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if cfg.user:
                smtp.login(cfg.user, cfg.password or "")
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise MailUnavailableError(
            f"could not send e-mail through the SMTP server {cfg.host}:{cfg.port} "
            f"({cfg.security}): {type(e).__name__}: {e}"
        ) from None


__all__ = ["MailUnavailableError", "SmtpConfig", "send_mail"]
