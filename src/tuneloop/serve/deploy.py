"""What the server answers with: the registry's production and staging adapters, kept current, and the
redacted request log.

A background thread re-reads the registry's git tags every `poll_seconds` (a `git for-each-ref`, a few
milliseconds). When the holder of a stage changes, the new adapter is materialised and loaded *beside*
the old one, then the slot is switched: requests in flight finish on the adapter they started with,
and no request fails during a promote or rollback. No production holder (`tuneloop registry stock`) means the
base model alone. A failed refresh (files missing, a bad adapter) keeps the current slots and shows
the error on /health.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
STAGES = ("production", "staging")


class Deployment:
    def __init__(
        self,
        engine,
        repo: str | Path | None = None,
        store: str | Path = "models/registry",
        adapter: str | Path | None = None,
        poll_seconds: float = 2.0,
    ):
        self.engine, self.repo, self.store = engine, Path(repo) if repo else None, Path(store)
        self.poll_seconds = float(poll_seconds)
        self.slots: dict[str, dict[str, str] | None] = {stage: None for stage in STAGES}
        self.last_refresh: float | None = None
        self.last_error: str | None = None
        self.changes = 0
        self._stop = threading.Event()
        self._refresh_lock = threading.Lock()
        if adapter is not None:  # a fixed adapter folder, no registry (local trials, the parity test)
            from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5

            md5 = dvc_dir_md5(adapter)
            engine.load(md5, adapter)
            self.slots["production"] = {"version": f"local:{Path(adapter).name}", "md5": md5}

    def refresh(self) -> bool:
        """Re-read the registry; load and switch to new holders. True when a slot changed."""
        if self.repo is None:
            return False
        from tuneloop.registry.files import materialize
        from tuneloop.registry.store import Registry, normalize_md5

        with self._refresh_lock:
            try:
                state = Registry(self.repo).state()
                new: dict[str, dict[str, str] | None] = {}
                for stage in STAGES:
                    name = state.holder(stage)
                    if name is None:
                        new[stage] = None
                        continue
                    version = state.versions[name]
                    md5 = normalize_md5(version.md5)
                    if not (self.slots.get(stage) or {}).get("md5") == md5:
                        path = materialize(version.md5, self.store, self.repo, rev=version.tag)
                        self.engine.load(md5, path)
                    new[stage] = {"version": name, "md5": md5}
                changed = new != self.slots
                old = {s["md5"] for s in self.slots.values() if s}
                self.slots = new  # one assignment: a request sees the old slots or the new, never half
                for md5 in old - {s["md5"] for s in new.values() if s}:
                    self.engine.unload(md5)
                self.last_error, self.last_refresh = None, time.time()
                if changed:
                    self.changes += 1
                    log.info("serving %s", {k: v and v["version"] for k, v in new.items()})
                return changed
            except Exception as exc:  # noqa: BLE001 - keep serving what we have; /health says why
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("registry refresh failed, still serving %s: %s", self.slots, self.last_error)
                return False

    def start(self) -> None:
        self.refresh()
        if self.repo is not None and self.poll_seconds > 0:
            threading.Thread(target=self._loop, name="registry-poll", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def resolve(self, arm: str) -> tuple[str, dict[str, str] | None]:
        """(arm actually served, slot) for `production`, `staging` or `base` (None: the stock base)."""
        if arm == "base":
            return "base", None
        slot = self.slots.get(arm)
        if slot is None and arm == "production":
            return "base", None  # stock: no production version
        return arm, slot


class RequestLog:
    """Append-only JSONL, one line per request (and per shadow answer), PII redacted before writing."""

    def __init__(self, path: str | Path | None, redact_config: dict[str, Any] | None = None):
        from tuneloop.data.pii import Redactor

        self.path = Path(path) if path else None
        self.redactor = Redactor(redact_config or {})
        self.lock = threading.Lock()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)[0] if text else text

    def write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        if record.get("messages"):
            record["messages"] = [
                {"role": m.get("role"), "content": self.redact(str(m.get("content", "")))} for m in record["messages"]
            ]
        for field in ("output", "edited"):  # a model's answer, an agent's edit of it
            if record.get(field):
                record[field] = self.redact(record[field])
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        with self.lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
