"""Logging of the long-running commands."""

from __future__ import annotations

import copy
import logging.config
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def log_config() -> dict[str, Any]:
    """uvicorn's logging set-up plus a root handler, so that the helpdesk's
    and Dramatiq's own loggers print at INFO too (in every process)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["plain"] = {
        "format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    }
    config["handlers"]["plain"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["plain"], "level": "INFO"}
    return config


def configure_logging() -> None:
    """Apply :func:`log_config` to this process."""
    logging.config.dictConfig(log_config())
