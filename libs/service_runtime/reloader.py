"""Hot reload of the optional YAML config file (ARGO_CONFIG).

A small poller rather than inotify: Kubernetes updates a mounted ConfigMap by swapping a
symlink, which file-event watchers miss or report twice; comparing a content hash every
few seconds is simple and exact. A bad file at start fails fast; a bad file on reload is
rejected, logged with the reason, and the last good config stays in force.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog
import yaml

from observability.metrics import CONFIG_RELOADS
from service_runtime.settings import ConfigError

log = structlog.get_logger(__name__)

ApplyConfig = Callable[[Mapping[str, Any]], None]


def read_config_file(path: str) -> tuple[Mapping[str, Any], str]:
    """Parse the file; return (mapping, content hash). Raises ValueError on a bad file."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    try:
        parsed = yaml.safe_load(data) if data.strip() else {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(parsed, Mapping):
        raise ValueError(f"{path} must hold a mapping at the top level")
    return parsed, hashlib.sha256(data).hexdigest()


class ConfigReloader:
    def __init__(self, path: str, apply: ApplyConfig, *, poll_seconds: float = 2.0) -> None:
        self._path = path
        self._apply = apply
        self._poll = poll_seconds
        self._digest = ""
        self._last_error = ""

    def load_initial(self) -> None:
        """Apply the file once at start; raise ConfigError (naming ARGO_CONFIG) if bad."""
        try:
            raw, digest = read_config_file(self._path)
            self._apply(raw)
        except ValueError as e:
            raise ConfigError(f"ARGO_CONFIG: {e}") from None
        self._digest = digest
        log.info("config_loaded", path=self._path)

    def check_once(self) -> bool:
        """Reload when the content changed; True when a new config was applied."""
        try:
            raw, digest = read_config_file(self._path)
        except ValueError as e:
            self._reject(str(e))
            return False
        if digest == self._digest:
            return False
        try:
            self._apply(raw)
        except ValueError as e:
            self._digest = digest  # the same bad content is not re-applied every poll
            self._reject(str(e))
            return False
        self._digest = digest
        self._last_error = ""
        CONFIG_RELOADS.labels(result="applied").inc()
        log.info("config_reloaded", path=self._path)
        return True

    def _reject(self, reason: str) -> None:
        if reason == self._last_error:
            return  # already reported; keep the log quiet until something changes
        self._last_error = reason
        CONFIG_RELOADS.labels(result="rejected").inc()
        log.warning("config_reload_rejected", path=self._path, reason=reason)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            self.check_once()
