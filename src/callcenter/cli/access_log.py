"""What the server's log may say about a request: the path, never a query's values.

Query strings carry what must not be kept in a log: personal searches (a customer's
e-mail or phone in ``/api/search?q=``), and credentials that clients put in URLs (a
chat token in ``/ws/chat/{id}?token=``, an old client's ``?access_token=``). uvicorn
logs the whole request line (access log) and a WebSocket's path with its query (error
log); :class:`RedactQuery` rewrites every logged path so that each query value is
``***`` except those of a few parameters that are neither personal nor secret
(:data:`KEPT`). :data:`LOG_CONFIG` is uvicorn's own logging configuration with that filter
on both handlers (``callcenter serve`` and ``callcenter demo``; ``docs/security.md``).

Kept light: ``cli`` modules import only the standard library at their top.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode

REDACTED: Final = "***"
# Parameters whose values are shown: paging, sorting and the names of queues and
# intervals (configuration, not people). Everything else is redacted.
KEPT: Final = frozenset(
    {"limit", "offset", "page", "sort", "order", "queue", "interval", "status", "priority",
     "open", "overdue", "mine", "format"}
)  # fmt: skip

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,40}")  # a parameter's name, not data


def redact_path(path: str) -> str:
    """``path`` with every query value but those of :data:`KEPT` replaced by ``***``
    (a fragment, which a client should never send, is dropped)."""
    head, sep, query = path.partition("?")
    if not sep:
        return path
    query = query.partition("#")[0]
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return head + ("?" + REDACTED if query else "")
    kept = [(k if _NAME.fullmatch(k) else REDACTED, v if k in KEPT else REDACTED) for k, v in pairs]
    return head + "?" + urlencode(kept, safe="*", quote_via=quote)


class RedactQuery(logging.Filter):
    """Redact the query of every path among a log record's arguments (uvicorn's access
    line and its WebSocket lines pass the path as an argument), and in the message
    itself when a logger formatted it already."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_redact_arg(a) for a in args)
        elif isinstance(args, dict):
            record.args = {k: _redact_arg(v) for k, v in args.items()}
        if isinstance(record.msg, str) and "?" in record.msg and not args:
            record.msg = " ".join(_redact_arg(w) for w in record.msg.split(" "))
        return True


def _redact_arg(value: Any) -> Any:
    if isinstance(value, str) and "?" in value and value.lstrip("\"'").startswith("/"):
        quote_ch = value[0] if value[0] in "\"'" else ""
        return quote_ch + redact_path(value[len(quote_ch) :])
    return value


_FILTERS: Final = {"redact_query": {"()": f"{__name__}.RedactQuery"}}

# uvicorn.config.LOGGING_CONFIG (uvicorn 0.29 - 0.3x), with the filter on both handlers.
LOG_CONFIG: Final[dict[str, Any]] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": _FILTERS,
    "formatters": {
        "default": {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": None,
        },
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    },
    "handlers": {
        "default": {
            "formatter": "default",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["redact_query"],
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["redact_query"],
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        # the server's own lines (voice: Asterisk started, connected, calls ended by a
        # fault) in the same format
        "callcenter": {"handlers": ["default"], "level": "INFO", "propagate": False},
    },
}

__all__ = ["KEPT", "LOG_CONFIG", "REDACTED", "RedactQuery", "redact_path"]
