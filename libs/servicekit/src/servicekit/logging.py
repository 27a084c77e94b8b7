"""One log stream per service: every line, ours or a library's, rendered by structlog.

Our loggers are structlog loggers over the standard library; uvicorn, FastStream, aio-pika
and pymongo log through the standard library. One handler on the root logger renders both
with the same processors (structlog's `ProcessorFormatter`): JSON lines when the output is
not a terminal (containers, honcho with `LOG_JSON=true`, tests), readable console lines at
a terminal. Every line names its logger (`logger`) and service (`service`), and carries the
event and correlation ids of the message being handled (bound in `broker.EventContext`).
With tracing on, a line written while a span is current — uvicorn's access line inside the
HTTP server span, a consumer's or a periodic tick's lines — carries its `trace_id` and
`span_id`, so a log search finds the trace and the trace the lines.
"""

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor

QUIET_LIBRARIES = {"pymongo": logging.WARNING, "aiormq": logging.WARNING, "aio_pika": logging.WARNING}
"""Libraries that narrate their connection housekeeping at INFO; their warnings still show."""

FASTSTREAM_LOGGER = "faststream"
"""The logger FastStream's broker is given (see `broker.make_broker`)."""


def _add_service(service: str) -> Processor:
    def add(_logger: Any, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add


def _add_trace(_logger: Any, _method: str, event: EventDict) -> EventDict:
    # Tracing off: the current span is the invalid one, and nothing is added.
    if "trace_id" not in event:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event["trace_id"] = f"{context.trace_id:032x}"
            event["span_id"] = f"{context.span_id:016x}"
    return event


class _HandledByEventContext(logging.Filter):
    """Drops FastStream's per-message error line: `EventContext` already wrote that
    message's one line, outcome and traceback included."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.ERROR and record.exc_info and hasattr(record, "message_id"))


def configure_logging(
    service: str, level: str = "INFO", json: bool | None = None, *, stream: TextIO | None = None
) -> None:
    """Routes every logger of the process to `stream` (stderr) in one format.

    `json`: None renders JSON unless `stream` is a terminal. Safe to call again (tests do).
    """
    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_trace,
        _add_service(service),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso" if use_json else "%H:%M:%S", utc=use_json),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if use_json
        else [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Library records: their `extra` fields (FastStream's queue, message id...) are kept.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Libraries that install their own handlers would print a second, differently formatted copy.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", FASTSTREAM_LOGGER):
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
    faststream = logging.getLogger(FASTSTREAM_LOGGER)
    faststream.filters = [f for f in faststream.filters if not isinstance(f, _HandledByEventContext)]
    faststream.addFilter(_HandledByEventContext())
    for name, quiet_level in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(quiet_level, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger named after its module (`get_logger(__name__)`)."""
    return structlog.stdlib.get_logger(name)
