"""A chat's customer proves its claimed e-mail with a one-time code (``docs/chat.md``).

``send_code``: six digits drawn with :mod:`secrets`, mailed to the e-mail the chat
claimed; the database keeps only a salted SHA-256 of it (``claim_codes``), its expiry and
how many tries were made.  ``confirm``: the right code, in time, within the tries, links
the chat to the customer with that e-mail (or a new one) through
:func:`callcenter.crm.claims.link_verified`.

Limits (``otp_*`` settings): a code lives ``otp_ttl_s`` and takes ``otp_max_attempts``
tries; a chat gets ``otp_max_sends`` codes, ``otp_resend_interval_s`` apart; one address
gets ``otp_max_per_address_hour`` codes an hour over all chats (nobody can mail-bomb an
address by starting chats that claim it).  A try is counted *before* the code is
compared, in one guarded ``UPDATE``: parallel guesses cannot pass the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callcenter.crm.claims import link_verified
from callcenter.errors import ConflictError, NotFoundError, UserError
from callcenter.live.chat.records import ENDED, chat_with_token
from callcenter.live.engine import LiveEngine
from callcenter.live.mailer import MailUnavailableError, SmtpConfig, send_mail
from callcenter.settings import Settings
from callcenter.storage.db import WRITE_OPTION
from callcenter.storage.tables import ClaimCode, ContactRow

DIGITS: Final = 6
_CODE: Final = re.compile(r"^\d{6}$")
HOUR: Final = 3600.0


class TooManyCodesError(ConflictError):
    """A limit of the one-time codes was reached; ``retry_after`` seconds until it clears
    (None: it does not clear for this code / chat)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    ttl_s: float = 600.0
    max_attempts: int = 5
    max_sends: int = 3
    resend_interval_s: float = 30.0
    per_address_hour: int = 5

    @classmethod
    def from_settings(cls, s: Settings) -> OtpPolicy:
        return cls(
            s.otp_ttl_s, s.otp_max_attempts, s.otp_max_sends, s.otp_resend_interval_s,
            s.otp_max_per_address_hour,
        )  # fmt: skip


class CodeSent(BaseModel):
    contact_id: str
    email: str = Field(description="where the code went (the claimed e-mail)")
    expires_at: float
    sends_left: int


class Verified(BaseModel):
    contact_id: str
    email: str
    verified: bool = True


def _hash(salt: str, contact_id: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{contact_id}:{code}".encode()).hexdigest()


def _chat(s: Session, contact_id: str, token: str) -> ContactRow:
    row = chat_with_token(s, contact_id, token)
    if row is None:
        raise NotFoundError("chat", contact_id)
    return row


def _claimed_email(row: ContactRow) -> str:
    if row.claimed_email is None:
        raise ConflictError(f"chat {row.id!r} claims no e-mail address; there is nothing to verify")
    return row.claimed_email


def _check_limits(s: Session, row: ContactRow, email: str, policy: OtpPolicy, now: float) -> int:
    """Raise :class:`TooManyCodesError` if another code may not be sent now; the sends left after
    this one."""
    sends, last = s.execute(
        select(func.count(ClaimCode.id), func.max(ClaimCode.sent_at)).where(
            ClaimCode.contact_id == row.id
        )
    ).one()
    if sends >= policy.max_sends:
        raise TooManyCodesError(
            f"chat {row.id!r} has had {sends} codes already (at most {policy.max_sends})"
        )
    if last is not None and now - last < policy.resend_interval_s:
        wait = policy.resend_interval_s - (now - last)
        raise TooManyCodesError(
            f"a code was sent {now - last:.0f} s ago; ask again in {wait:.0f} s", wait
        )
    recent = list(
        s.scalars(
            select(ClaimCode.sent_at)
            .where(ClaimCode.email == email, ClaimCode.sent_at > now - HOUR)
            .order_by(ClaimCode.sent_at)
        )
    )
    if len(recent) >= policy.per_address_hour:
        wait = recent[-policy.per_address_hour] + HOUR - now
        raise TooManyCodesError(
            f"{len(recent)} codes went to this address in the last hour (at most "
            f"{policy.per_address_hour}); ask again in {wait:.0f} s",
            wait,
        )
    return int(policy.max_sends - sends - 1)


def send_code(
    engine: LiveEngine, contact_id: str, token: str, mail: SmtpConfig | None, policy: OtpPolicy
) -> CodeSent:
    """Mail a new one-time code to the chat's claimed e-mail."""
    now = engine.clock()
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    salt = secrets.token_hex(16)
    with engine.sessions.begin() as s:
        s.connection(execution_options={WRITE_OPTION: True})  # SQLite: the write lock first
        row = _chat(s, contact_id, token)  # the chat's token first: 404 for strangers
        if mail is None:
            raise MailUnavailableError(
                "verification by e-mail is not available: this center has no SMTP server configured"
            )
        email = _claimed_email(row)
        if row.email_verified_at is not None:
            raise ConflictError(f"chat {contact_id!r}: the e-mail {email!r} is verified already")
        if row.status in ENDED:
            raise ConflictError(f"chat {contact_id!r} has ended ({row.status})")
        left = _check_limits(s, row, email, policy, now)
        s.add(
            ClaimCode(
                contact_id=contact_id, email=email, salt=salt,
                code_hash=_hash(salt, contact_id, code), sent_at=now,
                expires_at=now + policy.ttl_s, attempts=0,
            )
        )  # fmt: skip
    # counted before it is sent: a failing server cannot be hammered through us
    minutes = max(1, round(policy.ttl_s / 60))
    send_mail(
        mail,
        email,
        f"Your chat verification code: {code}",
        f"Your code is {code}\n\nType it into the chat window to confirm this e-mail address.\n"
        f"It is valid for {minutes} minutes. If you did not start a chat with us, ignore this "
        "message.\n",
    )
    return CodeSent(contact_id=contact_id, email=email, expires_at=now + policy.ttl_s,
                    sends_left=left)  # fmt: skip


def check_code(raw: str) -> str:
    """The code without blanks, or a 422 naming ``code``."""
    code = re.sub(r"\s", "", raw)
    if not _CODE.match(code):
        raise UserError(f"code: {raw[:20]!r} is not a code (expected the {DIGITS} digits "
                        "from the e-mail)")  # fmt: skip
    return code


def confirm(
    engine: LiveEngine,
    contact_id: str,
    token: str,
    raw_code: str,
    policy: OtpPolicy,
    *,
    address: str | None = None,
) -> tuple[Verified, str | None]:
    """Check the code; the right one links the chat to the customer with that e-mail
    (recorded in the audit log for the customer at ``address``).  Also answers the agent
    holding the chat (to tell its desk)."""
    code = check_code(raw_code)
    now = engine.clock()
    with engine.sessions.begin() as s:
        s.connection(execution_options={WRITE_OPTION: True})  # tries wait for each other
        row = _chat(s, contact_id, token)
        email = _claimed_email(row)
        if row.email_verified_at is not None:
            return Verified(contact_id=contact_id, email=email), None
        last = s.scalar(
            select(ClaimCode)
            .where(ClaimCode.contact_id == contact_id)
            .order_by(ClaimCode.id.desc())
            .limit(1)
        )
        if last is None:
            raise ConflictError(f"chat {contact_id!r}: no code was sent; ask for one first")
        if now > last.expires_at:
            raise ConflictError(f"chat {contact_id!r}: the code has expired; ask for a new one")
        tried = s.execute(  # the try is counted first (see the module's doc)
            update(ClaimCode)
            .where(ClaimCode.id == last.id, ClaimCode.attempts < policy.max_attempts)
            .values(attempts=ClaimCode.attempts + 1)
        )
        right = tried.rowcount == 1 and hmac.compare_digest(  # type: ignore[attr-defined]
            last.code_hash, _hash(last.salt, contact_id, code)
        )
        if right:
            s.execute(update(ClaimCode).where(ClaimCode.id == last.id).values(used_at=now))
            link_verified(s, contact_id, last.email, now=now, address=address)
            return Verified(contact_id=contact_id, email=last.email), row.agent
        used = s.scalar(select(ClaimCode.attempts).where(ClaimCode.id == last.id)) or 0
    # the transaction is committed: the wrong try counts
    if tried.rowcount != 1:  # type: ignore[attr-defined]
        raise TooManyCodesError(
            f"chat {contact_id!r}: too many wrong codes ({policy.max_attempts}); ask for a new one"
        )
    left = max(0, policy.max_attempts - used)
    raise UserError(f"code: wrong code; {left} tries left" if left else
                    "code: wrong code; no tries left, ask for a new one")  # fmt: skip


__all__ = [
    "CodeSent",
    "OtpPolicy",
    "TooManyCodesError",
    "Verified",
    "check_code",
    "confirm",
    "send_code",
]
