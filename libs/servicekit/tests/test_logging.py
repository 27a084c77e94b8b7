"""The log stream at a terminal: readable lines, library loggers rendered like ours."""

import io
import logging
import re

from servicekit.logging import configure_logging, get_logger


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_lines_at_a_terminal() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = Terminal()
    try:
        configure_logging("logs-svc", "INFO", stream=stream)
        logging.getLogger("uvicorn.error").info("Started server process")
        get_logger("tests.module").info("event consumed", outcome="ack")
        logging.getLogger("pymongo.topology").info("chatter below WARNING")
    finally:
        root.handlers = saved[0]
        root.setLevel(saved[1])
    lines = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue()).splitlines()  # colours off
    assert len(lines) == 2, lines
    assert "Started server process" in lines[0] and "uvicorn.error" in lines[0]
    assert "event consumed" in lines[1] and "outcome=ack" in lines[1] and "tests.module" in lines[1]
    assert not lines[0].lstrip().startswith("{")
