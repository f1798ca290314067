"""Logging to stderr and a rotating file, with secrets scrubbed from every record."""
from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path
from typing import Iterable

_TOKEN_PATTERNS = [
    re.compile(r"(?i)([?&](?:token|api_key|apikey|x-plex-token)=)[^&\s\"']+"),
    re.compile(r"(?i)(token=\")[^\"]+"),
    re.compile(r"(?i)(x-(?:syncdub|emby|plex)-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
]


class SecretFilter(logging.Filter):
    """Replaces known secret values and token-looking query parameters with ********."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "********")
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(r"\1********", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def setup_logging(level: str = "info", data_dir: Path | None = None, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once per process; later calls replace the handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_syncdub", False):
            root.removeHandler(handler)
    secret_filter = SecretFilter(secrets)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if data_dir is not None:
        log_dir = Path(data_dir) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "syncdub.log", maxBytes=5 << 20, backupCount=5, encoding="utf-8"))
    for handler in handlers:
        handler._syncdub = True
        handler.setFormatter(fmt)
        handler.addFilter(secret_filter)
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("urllib3", "waitress.queue", "faster_whisper", "sentence_transformers", "httpx", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
