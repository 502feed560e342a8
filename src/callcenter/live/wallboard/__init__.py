"""The supervisor wallboard: live queue and agent figures, computed from the database.

:func:`compute_snapshot` is pure given a :class:`Session` and ``now``: it reads the
configuration tables, the read models (``contacts``, ``agents``) and the live event log
and returns a :class:`Snapshot`.  Definitions (``docs/wallboard.md``):

* **waiting** / **longest wait** — contacts whose row is ``queued`` in the queue, and
  ``now`` minus the earliest ``enqueued_at`` among them (the start of their queue visit,
  ring-no-answers included).
* **today** — queue visits that entered the queue at or after ``day_start`` (UTC
  midnight by default), paired exactly as the KPI engine pairs them (docs/kpis.md): a
  visit is an ``enqueue`` event; the first ``connect`` / ``abandon`` / ``timeout`` /
  ``callback_request`` of the contact after it ends it.  *offered* counts every visit
  (open ones too), *answered*, *abandoned* and *timed out* count outcomes, and the
  **service level** is the KPI engine's default (``offered``, ICMI) definition:
  answered with wait ≤ the queue's ``sl_threshold_s`` / (answered + abandoned + timed
  out); ``None`` while that denominator is 0.
* **channel** — each queue's configured channel (voice, chat, ...); the **channels**
  rows add up the queues of one channel (calls next to chats): waiting, the longest wait,
  today's visits, and the service level of their sums (each queue's own threshold
  deciding "within"); *in progress* counts that channel's contacts in conversation.
* **agents** — the state shown comes from ``agents.status`` and the agent's open
  contacts: logged out, paused, else ringing (an offer pending), on contact (a
  conversation in progress), wrap-up (only after-contact work left), else available.

Today's figures and a few per-agent times come from the ``events`` table through a
:class:`DayTally`, which reads each live event once: a pusher keeps one tally and asks
it only for the events appended since its last call, so a snapshot costs a handful of
indexed queries however long the day has been.
"""

from callcenter.live.wallboard.figures import (
    AgentFigures,
    ChannelFigures,
    QueueFigures,
    Snapshot,
    channel_figures,
)
from callcenter.live.wallboard.snapshot import compute_snapshot
from callcenter.live.wallboard.tally import DAY_SECONDS, DayTally, utc_day_start

__all__ = [
    "DAY_SECONDS",
    "AgentFigures",
    "ChannelFigures",
    "DayTally",
    "QueueFigures",
    "Snapshot",
    "channel_figures",
    "compute_snapshot",
    "utc_day_start",
]
