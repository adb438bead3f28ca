"""Who may call the server and how often: API keys from the environment, a token bucket per key, and
errors in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`).

    TUNELOOP_API_KEYS="alice:sk-alice-...,ci:sk-ci-..."   # name:key pairs, comma-separated
The request log records the key's *name*, never the key. Without TUNELOOP_API_KEYS the server refuses
to start unless told `--no-auth` (then every caller is `anonymous`): an open port by accident is worse
than a clear error.
"""

from __future__ import annotations

import hmac
import os
import threading
import time

ENV = "TUNELOOP_API_KEYS"


class ApiError(Exception):
    """An error the client caused (or a limit it hit), with its HTTP status and OpenAI type/code."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def keys_from_env(value: str | None = None) -> dict[str, str]:
    """{key: name} from `name:key,name:key` (a bare key is named key-1, key-2, ...)."""
    value = os.environ.get(ENV, "") if value is None else value
    keys: dict[str, str] = {}
    for i, item in enumerate(filter(None, (part.strip() for part in value.split(","))), start=1):
        name, sep, key = item.partition(":")
        name, key = (name, key) if sep else (f"key-{i}", name)
        if len(key) < 8:
            raise ValueError(f"{ENV}: the key named {name!r} is shorter than 8 characters")
        keys[key] = name
    return keys


class Auth:
    def __init__(self, keys: dict[str, str] | None):
        self.keys = keys  # None: no authentication (`--no-auth`)

    def check(self, header: str | None) -> str:
        """The caller's name, or an ApiError 401."""
        if self.keys is None:
            return "anonymous"
        if not header or not header.startswith("Bearer "):
            raise ApiError(
                401, "Missing API key: send `Authorization: Bearer <key>`.", "invalid_request_error", "missing_api_key"
            )
        given = header.removeprefix("Bearer ").strip()
        for key, name in self.keys.items():
            if hmac.compare_digest(key.encode(), given.encode()):
                return name
        raise ApiError(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


class RateLimiter:
    """A token bucket per caller: `requests` per `per_seconds`, bursting up to `requests`."""

    def __init__(self, requests: int, per_seconds: float, clock=time.monotonic):
        if requests < 1 or per_seconds <= 0:
            raise ValueError("rate_limit: requests must be >= 1 and per_seconds > 0")
        self.capacity, self.rate, self.clock = float(requests), requests / per_seconds, clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, who: str) -> None:
        with self.lock:
            now = self.clock()
            tokens, last = self.buckets.get(who, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                wait = (1 - tokens) / self.rate
                self.buckets[who] = (tokens, now)
                raise ApiError(
                    429,
                    f"Rate limit reached for {who}: {int(self.capacity)} requests per "
                    f"{self.capacity / self.rate:g} s. Retry in {wait:.1f} s.",
                    "rate_limit_error",
                    "rate_limit_exceeded",
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            self.buckets[who] = (tokens - 1, now)
