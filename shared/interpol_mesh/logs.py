"""JSON log lines that always carry the office id, so a mesh of hundreds of processes stays readable."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, office_id: str) -> None:
        super().__init__()
        self.office_id = office_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "office": self.office_id,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TLS_EOF_NOTICE = "returning true from eof_received() has no effect when using ssl"


class TlsEofNoticeFilter(logging.Filter):
    """Drops asyncio's one warning that every orderly close of a TLS bus connection produces.

    nats-py reads through asyncio streams, whose `StreamReaderProtocol.eof_received` returns True
    to keep a plain socket half-open for writing. Under TLS, asyncio's `sslproto` cannot half-close,
    so when the server answers our close with its TLS close_notify it logs this warning and closes
    the connection anyway, which is what we asked for. Nothing is lost or left open, but the bare
    line on the console reads like a failure at every start and stop. Only this exact message from
    the `asyncio` logger is dropped; every other asyncio warning still reaches the handlers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "asyncio" and record.msg == TLS_EOF_NOTICE)


def quiet_tls_eof_notice() -> None:
    """Install the filter on the `asyncio` logger once; idempotent, so every bus connection may call it.

    A logger filter (not a handler filter) is used because it runs before propagation, so it also
    covers processes that never configured logging (the CLI's own connection, where Python's
    last-resort handler would print the bare line) and test log capture.
    """
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, TlsEofNoticeFilter) for f in logger.filters):
        logger.addFilter(TlsEofNoticeFilter())


def configure_logging(office_id: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(office_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
