"""The server's small parts without a model: keys, the token bucket, canary routing, verdict checks."""

from __future__ import annotations

import json

import pytest

from tuneloop.registry import tag_message as verdicts
from tuneloop.serve import rollout
from tuneloop.serve.guard import ApiError, Auth, RateLimiter, keys_from_env


def test_keys_from_the_environment_and_auth():
    keys = keys_from_env("alice:sk-alice-123456, sk-bare-1234567")
    assert keys == {"sk-alice-123456": "alice", "sk-bare-1234567": "key-2"}
    with pytest.raises(ValueError, match="shorter than 8"):
        keys_from_env("bob:short")
    auth = Auth(keys)
    assert auth.check("Bearer sk-alice-123456") == "alice"
    for header, code in (
        (None, "missing_api_key"),
        ("Basic x", "missing_api_key"),
        ("Bearer nope-nope-nope", "invalid_api_key"),
    ):
        with pytest.raises(ApiError) as err:
            auth.check(header)
        assert err.value.status == 401 and err.value.code == code
    assert Auth(None).check(None) == "anonymous"


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(ApiError) as err:
        limiter.take("a")
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "20"
    limiter.take("b")  # per key
    now[0] = 20.0
    limiter.take("a")  # one token back after 60/3 s
    with pytest.raises(ValueError):
        RateLimiter(0, 60)


def test_canary_share_is_exact_and_deterministic():
    router = rollout.Router("canary", 0.25)
    arms = [router.arm(True) for _ in range(100)]
    replay = rollout.Router("canary", 0.25)
    assert arms.count("staging") == 25 and arms == [replay.arm(True) for _ in range(100)]
    assert arms[:4] == ["production", "production", "production", "staging"]
    assert {rollout.Router("canary", 0.25).arm(False) for _ in range(10)} == {"production"}
    with pytest.raises(ValueError):
        rollout.Router("blue-green")
    with pytest.raises(ValueError):
        rollout.Router("canary", 1.5)


def test_verdict_checks():
    md5 = "a" * 32
    ok = verdicts.parse(json.dumps({"passed": True, "candidate_md5": md5}))
    assert verdicts.require_pass(ok, md5, "v1.0.0") is ok
    with pytest.raises(verdicts.VerdictError, match="never passed"):
        verdicts.require_pass(None, md5, "v1.0.0")
    with pytest.raises(verdicts.VerdictError, match="judged adapter md5"):
        verdicts.require_pass(ok, "b" * 32, "v1.0.0")
    with pytest.raises(verdicts.VerdictError, match="failed"):
        verdicts.require_pass({**ok, "passed": False, "rules": [{"name": "floor", "passed": False}]}, md5, "v1.0.0")
    for bad in ("not json", "[]", json.dumps({"passed": "yes", "candidate_md5": md5})):
        with pytest.raises(verdicts.VerdictError):
            verdicts.parse(bad)
    info = {"adapter_md5": md5 + ".dir"}
    assert verdicts.from_message(verdicts.tag_message(info, ok)) == (info, ok)
    assert verdicts.from_message(verdicts.tag_message(info, None)) == (info, None)


def test_rollout_report_from_a_log(tmp_path):
    rows = [
        {
            "request_id": "1",
            "arm": "production",
            "version": "v1.0.0",
            "status": 200,
            "latency_ms": 100,
            "completion_tokens": 4,
            "output": "a",
        },
        {
            "request_id": "1",
            "arm": "staging",
            "shadow": True,
            "version": "v2.0.0",
            "status": 200,
            "latency_ms": 120,
            "completion_tokens": 4,
            "output": "a",
        },
        {
            "request_id": "2",
            "arm": "production",
            "version": "v1.0.0",
            "status": 200,
            "latency_ms": 300,
            "completion_tokens": 6,
            "output": "b",
        },
        {
            "request_id": "2",
            "arm": "staging",
            "shadow": True,
            "version": "v2.0.0",
            "status": 200,
            "latency_ms": 150,
            "completion_tokens": 6,
            "output": "c",
        },
        {"request_id": "3", "status": 401},
    ]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rep = rollout.report(log)
    assert rep["arms"]["production"] == {
        "requests": 2,
        "errors": 0,
        "error_rate": 0.0,
        "latency_p50_ms": 100.0,
        "latency_p95_ms": 300.0,
        "mean_completion_tokens": 5.0,
        "versions": ["v1.0.0"],
    }
    assert rep["arms"]["none"]["errors"] == 1
    assert rep["shadow_pairs"] == 2 and rep["shadow_agreement"] == 0.5
    assert "50.0% of them" in rollout.render(rep)
