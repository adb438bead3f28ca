"""`tuneloop serve`: read deploy/serve.yaml, build the engine and the app, run uvicorn.

TUNELOOP_API_KEYS="me:sk-local-123456" tuneloop serve --config deploy/serve.yaml [--port 8000]
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 8000,
    "base": "models/base",
    "repo": ".",
    "store": "models/registry",
    "adapter": None,
    "params": "params.yaml",
    "poll_seconds": 2.0,
    "max_prompt_tokens": 1536,
    "max_tokens": 256,
    "rate_limit": {"requests": 60, "per_seconds": 60},
    "rollout": {"mode": "off", "share": 0.1},
    "log": "reports/serve/requests.jsonl",
    "auth": True,
    "index": "data/index",  # the help-center index /v1/support/respond retrieves from (the index stage's out)
    "calibration": "data/splits/val.jsonl",  # the router's threshold is calibrated per adapter on it, as in evaluate
    "support_max_tokens": 160,  # a support reply's ceiling of new tokens
}


def load_config(path: str | Path | None, **overrides: Any) -> dict[str, Any]:
    cfg = {**DEFAULTS}
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such server config (see deploy/serve.yaml)")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        unknown = set(loaded) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)} (known: {sorted(DEFAULTS)})")
        cfg.update(loaded)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg


def build(cfg: dict[str, Any]):
    """(app, deployment) from a config: nothing listens yet."""
    from tuneloop.serve.app import create_app
    from tuneloop.serve.deploy import Deployment, RequestLog
    from tuneloop.serve.engine import Engine
    from tuneloop.serve.guard import Auth, RateLimiter, keys_from_env
    from tuneloop.serve.rollout import Router

    keys = keys_from_env() if cfg["auth"] else None
    if keys is not None and not keys:
        raise ValueError("no API keys: set TUNELOOP_API_KEYS=name:key[,name:key] (or pass --no-auth for a local trial)")
    params: dict[str, Any] = {}
    if cfg.get("params") and Path(cfg["params"]).exists():
        params = yaml.safe_load(Path(cfg["params"]).read_text(encoding="utf-8")) or {}
    system_prompt = (params.get("data") or {}).get("system_prompt")
    engine = Engine(cfg["base"], system_prompt=system_prompt, max_prompt_tokens=cfg["max_prompt_tokens"])
    deployment = Deployment(
        engine,
        repo=None if cfg["adapter"] else cfg["repo"],
        store=cfg["store"],
        adapter=cfg["adapter"],
        poll_seconds=cfg["poll_seconds"],
    )
    deployment.start()
    support = None
    if params.get("data"):
        from tuneloop.retrieval import load_or_empty
        from tuneloop.serve.support import SupportService

        retrieval = params.get("retrieval") or {}
        index = None
        if retrieval.get("enabled") and cfg.get("index") and Path(cfg["index"]).exists():
            index = load_or_empty(cfg["index"])
        elif retrieval.get("enabled"):
            log.warning("serve: no help-center index at %s: support replies get no passages", cfg.get("index"))
        support = SupportService(engine, params, index, cfg.get("calibration"), int(cfg["support_max_tokens"]))
    app = create_app(
        engine,
        deployment,
        RequestLog(cfg["log"], params.get("redact")),
        Auth(keys),
        RateLimiter(int(cfg["rate_limit"]["requests"]), float(cfg["rate_limit"]["per_seconds"])),
        Router(cfg["rollout"]["mode"], cfg["rollout"].get("share", 0.0)),
        int(cfg["max_tokens"]),
        support,
    )
    return app, deployment


def run(cfg: dict[str, Any]) -> None:
    import uvicorn

    app, deployment = build(cfg)
    log.info("serving on http://%s:%s (production: %s)", cfg["host"], cfg["port"], deployment.slots["production"])
    try:
        uvicorn.run(app, host=cfg["host"], port=int(cfg["port"]), log_level="warning", access_log=False)
    finally:
        deployment.stop()
