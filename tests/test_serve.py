"""The CPU server for real: a tiny trained adapter, uvicorn on 127.0.0.1, httpx as the client.

Eval/serve parity (the probe set through the server equals the evaluate stage's greedy outputs), bad
input (each a 4xx in OpenAI's error shape, and the server keeps serving), the redacted request log."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, tiny_params
from helpers.serve_helpers import running

from tuneloop.data import build, index, prepare, split
from tuneloop.evals import evaluate
from tuneloop.io import read_jsonl
from tuneloop.train import base
from tuneloop.train import sft as train

pytestmark = pytest.mark.slow  # a tiny pipeline (train + evaluate) first: about a minute on 2 cores
KEY = "sk-test-0123456789"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus_dir, tiny_model_dir):
    """prepare -> build -> split -> base -> train on the tiny model, then the probes through evaluate."""
    root = tmp_path_factory.mktemp("serve")
    shutil.copytree(corpus_dir, root / "data" / "raw")
    shutil.copytree(REPO / "evals", root / "evals")
    old = os.getcwd()
    os.chdir(root)
    try:
        params = tiny_params(tiny_model_dir)
        for stage in (base, prepare, index, build, split):
            stage.run(params)
        train.run(params)
        tasks = {t: s for t, s in evaluate.planned_tasks(params)[0].items() if s["layer"] == "probes"}
        _, samples, _ = evaluate.score_model(
            "candidate", Path("models/base"), Path("models/adapter"), params, tasks, Path("evals/tasks")
        )
        yield root, params, tasks, samples
    finally:
        os.chdir(old)


def _server(root: Path, params: dict, **cfg):
    from tuneloop.serve import server

    (root / "params.yaml").write_text(json.dumps(params))  # JSON is YAML: the server reads it like params.yaml
    config = server.load_config(
        None,
        **{
            "base": str(root / "models/base"),
            "adapter": str(root / "models/adapter"),
            "params": str(root / "params.yaml"),
            "log": str(root / "reports/serve/requests.jsonl"),
            **cfg,
        },
    )
    return server.build(config)


@pytest.fixture(scope="module")
def served(trained):
    root, params, _, _ = trained
    os.environ["TUNELOOP_API_KEYS"] = f"tester:{KEY}"
    app, deployment = _server(root, params, max_prompt_tokens=1024, rate_limit={"requests": 1000, "per_seconds": 1})
    with running(app, deployment) as url:
        yield url, root


def _client(url, key=KEY):
    import httpx

    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=60)


def test_probe_set_through_the_server_equals_evaluate_item_for_item(trained, served):
    _, params, tasks, samples = trained
    url, _ = served
    by_id = {}
    for task in tasks:  # every probe family conf/eval runs
        rows = read_jsonl(REPO / "evals" / "probes" / f"{task.removeprefix('tuneloop_probe_')}.jsonl")
        limit = tasks[task]["limit"]
        # evaluate scores the first `limit` items plus every critical item after them (evaluate.sampled)
        picked = [r for i, r in enumerate(rows) if i < limit or r.get("critical") is True]
        for row in picked:
            by_id[row["id"]] = (row["prompt"], tasks[task]["max_gen_toks"])
    # what evaluate sent (a family may render its items, e.g. helpful as the grounded reply prompt)
    by_id = {s["id"]: (s["input"], by_id[s["id"]][1]) for s in samples}
    assert len(samples) == len(by_id) and len(by_id) >= 16
    with _client(url) as client:
        for s in samples:
            prompt, max_tokens = by_id[s["id"]]
            r = client.post(
                "/v1/chat/completions",
                json={
                    "model": "tuneloop",
                    "messages": [{"role": "user", "content": prompt}],
                    "max_tokens": max_tokens,
                    "temperature": 0,
                    "stop": ["\n\n\n"],
                },
            )
            assert r.status_code == 200, r.text
            assert r.json()["choices"][0]["message"]["content"] == s["output"], s["id"]


def _error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_bad_input_gets_a_clear_4xx_in_openai_shape_and_the_server_keeps_serving(served):
    url, root = served
    ok = {"model": "tuneloop", "messages": [{"role": "user", "content": "Where is my parcel?"}], "max_tokens": 4}
    with _client(url) as client:
        _error(
            client.post(
                "/v1/chat/completions",
                content=b'{"model": "tuneloop", "messages": [',
                headers={"Content-Type": "application/json"},
            ),
            400,
            "invalid_json",
        )
        _error(client.post("/v1/chat/completions", json={**ok, "model": "gpt-4"}), 404, "model_not_found")
        _error(
            client.post("/v1/chat/completions", json={**ok, "messages": [{"role": "user", "content": "word " * 1500}]}),
            400,
            "context_length_exceeded",
        )
        _error(client.post("/v1/chat/completions", json={**ok, "messages": []}), 400, "invalid_messages")
        _error(client.post("/v1/chat/completions", json={**ok, "max_tokens": 10**6}), 400, "invalid_value")
        _error(client.post("/v1/chat/completions", json={**ok, "stream": True}), 400, "unsupported_parameter")
        _error(client.get("/v1/nothing"), 404, "not_found")
        assert client.post("/v1/chat/completions", json=ok).status_code == 200
        models = [m["id"] for m in client.get("/v1/models").json()["data"]]
        assert models == ["tuneloop", "tuneloop:production", "tuneloop:base"]
    with _client(url, key=None) as anon:
        _error(anon.post("/v1/chat/completions", json=ok), 401, "missing_api_key")
        _error(anon.get("/v1/models"), 401, "missing_api_key")
        health = anon.get("/health").json()  # health needs no key
        assert health["status"] == "ok" and health["production"]["version"] == "local:adapter"
    with _client(url, key="sk-wrong-0123456789") as wrong:
        _error(wrong.post("/v1/chat/completions", json=ok), 401, "invalid_api_key")
    log = read_jsonl(root / "reports/serve/requests.jsonl")
    assert {r["status"] for r in log} >= {200, 400, 401, 404}
    assert all(KEY not in json.dumps(r) for r in log), "the key never reaches the log"


def test_rate_limit_per_key(trained):
    import httpx

    root, params, _, _ = trained
    os.environ["TUNELOOP_API_KEYS"] = f"a:{KEY},b:sk-other-0123456789"
    app, deployment = _server(root, params, rate_limit={"requests": 2, "per_seconds": 3600}, log="")
    ok = {"model": "tuneloop:base", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    with running(app, deployment) as url, _client(url) as a, _client(url, "sk-other-0123456789") as b:
        assert [a.post("/v1/chat/completions", json=ok).status_code for _ in range(2)] == [200, 200]
        r = a.post("/v1/chat/completions", json=ok)
        assert (
            _error(r, 429, "rate_limit_exceeded")["type"] == "rate_limit_error" and int(r.headers["Retry-After"]) >= 1
        )
        assert b.post("/v1/chat/completions", json=ok).status_code == 200  # the other key has its own bucket
        assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_request_log_is_redacted(served):
    url, root = served
    secret = "Hi, I am Maria Keller, email maria.keller@example.com, phone +44 20 7946 0018."
    with _client(url) as client:
        r = client.post(
            "/v1/chat/completions",
            json={"model": "tuneloop", "max_tokens": 4, "messages": [{"role": "user", "content": secret}]},
        )
    assert r.status_code == 200
    rid = r.json()["id"]
    row = next(x for x in read_jsonl(root / "reports/serve/requests.jsonl") if x["request_id"] == rid)
    text = json.dumps(row)
    assert "maria.keller@example.com" not in text and "7946 0018" not in text and "Keller" not in text
    assert row["key"] == "tester" and row["arm"] == "production" and row["completion_tokens"] >= 1
    assert row["prompt_tokens"] == r.json()["usage"]["prompt_tokens"]


def test_registry_swaps_without_restart_and_a_rollback_under_load_fails_no_request(trained, tmp_path):
    """Two real adapters registered with GTO in a real git + DVC repo; the server follows promote,
    rollback and stock by polling the tags, while four clients keep calling it."""
    import threading
    import time

    from helpers.registry_repo import make_repo, train_and_commit, verdict

    from tuneloop.registry.store import Registry
    from tuneloop.serve import rollout, server

    root, params, _, _ = trained
    second = tmp_path / "second"
    shutil.copytree(root / "models/adapter", second)
    from safetensors.torch import load_file, save_file

    weights = load_file(second / "adapter_model.safetensors")
    save_file({k: v * 3 if "lora_B" in k else v for k, v in weights.items()}, second / "adapter_model.safetensors")
    repo = make_repo(tmp_path / "repo", {"one": root / "models/adapter", "two": second})
    reg = Registry(repo)
    for name in ("one", "two"):
        reg.register("HEAD", verdict=verdict(train_and_commit(repo, name)))
    reg.promote("v1.0.0", "production")
    os.environ["TUNELOOP_API_KEYS"] = f"tester:{KEY}"
    log = tmp_path / "requests.jsonl"
    cfg = server.load_config(
        None,
        base=str(root / "models/base"),
        repo=str(repo),
        store=str(tmp_path / "store"),
        params=str(root / "params.yaml"),
        log=str(log),
        poll_seconds=0.2,
        rate_limit={"requests": 10000, "per_seconds": 1},
        rollout={"mode": "canary", "share": 0.5},
    )
    app, deployment = server.build(cfg)
    ask = {
        "model": "tuneloop:production",
        "max_tokens": 3,
        "messages": [{"role": "user", "content": "My bulb is offline"}],
    }

    def serving(client):
        return client.post("/v1/chat/completions", json=ask).headers["x-tuneloop-version"]

    def wait_for(client, version):
        deadline = time.time() + 30
        while serving(client) != version:
            assert time.time() < deadline, f"server never switched to {version}"
            time.sleep(0.1)

    with running(app, deployment) as url, _client(url) as client:
        assert serving(client) == "v1.0.0"
        reg.promote("v2.0.0", "production")
        wait_for(client, "v2.0.0")
        statuses, stop = [], threading.Event()

        def hammer():
            with _client(url) as c:
                while not stop.is_set():
                    statuses.append(c.post("/v1/chat/completions", json=ask).status_code)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            reg.rollback()
            wait_for(client, "v1.0.0")
            time.sleep(1.0)
        finally:  # a failed wait must not leave the clients running
            stop.set()
            for t in threads:
                t.join()
        assert len(statuses) > 8 and set(statuses) == {200}, statuses
        reg.stock()
        wait_for(client, "base")
        assert client.get("/health").json()["serving"] == "stock base"
        # canary: half of `tuneloop` traffic to staging once a version holds it
        reg.rollback()
        reg.promote("v2.0.0", "staging")
        deadline = time.time() + 30
        while client.get("/health").json()["staging"] is None:
            assert time.time() < deadline
            time.sleep(0.1)
        arms = [
            client.post("/v1/chat/completions", json={**ask, "model": "tuneloop"}).headers["x-tuneloop-arm"]
            for _ in range(6)
        ]
        assert sorted(arms) == ["production"] * 3 + ["staging"] * 3
    rep = rollout.report(log)
    assert rep["arms"]["staging"]["requests"] >= 3 and rep["arms"]["staging"]["versions"] == ["v2.0.0"]
    assert rep["arms"]["production"]["errors"] == 0
    assert "| staging | v2.0.0 |" in rollout.render(rep)


def test_shadow_answers_are_logged_not_returned(trained, tmp_path):
    import time

    from tuneloop.serve import rollout, server

    root, params, _, _ = trained
    os.environ["TUNELOOP_API_KEYS"] = f"tester:{KEY}"
    log = tmp_path / "requests.jsonl"
    cfg = server.load_config(
        None,
        base=str(root / "models/base"),
        adapter=str(root / "models/adapter"),
        params=str(root / "params.yaml"),
        log=str(log),
        rollout={"mode": "shadow"},
    )
    app, deployment = server.build(cfg)
    deployment.slots["staging"] = deployment.slots["production"]  # the same adapter as a stand-in staging
    with running(app, deployment) as url, _client(url) as client:
        for _ in range(3):
            r = client.post(
                "/v1/chat/completions",
                json={"model": "tuneloop", "max_tokens": 3, "messages": [{"role": "user", "content": "hello"}]},
            )
            assert r.headers["x-tuneloop-arm"] == "production"
        deadline = time.time() + 30
        while sum(1 for _ in log.open()) < 6:
            assert time.time() < deadline
            time.sleep(0.1)
    rep = rollout.report(log)
    assert rep["shadow_pairs"] == 3 and rep["shadow_agreement"] == 1.0 and rep["arms"]["shadow"]["requests"] == 3


def test_vllm_command_serves_production_and_staging_side_by_side(tmp_path):
    from tuneloop.serve import vllm

    cfg = vllm.load_config(REPO / "deploy" / "vllm.yaml")
    cmd = vllm.command(cfg, {"tuneloop:production": Path("/a/one"), "tuneloop:staging": Path("/a/two")})
    assert cmd[:2] == ["vllm", "serve"] and "--enable-lora" in cmd and cmd[cmd.index("--max-loras") + 1] == "2"
    assert cmd[cmd.index("--lora-modules") + 1 :] == ["tuneloop:production=/a/one", "tuneloop:staging=/a/two"]
    calls = vllm.reload_requests({"tuneloop:production": Path("/a/two")}, {"tuneloop:production": Path("/a/one")})
    assert [c[0] for c in calls] == ["/v1/unload_lora_adapter", "/v1/load_lora_adapter"]
    bad = tmp_path / "v.yaml"
    bad.write_text("max_lora: 3\n")
    with pytest.raises(ValueError, match="unknown vLLM settings"):
        vllm.load_config(bad)


def test_feedback_is_logged_redacted_and_becomes_a_reviewable_candidate(served, tmp_path):
    from tuneloop.monitor import feedback

    url, root = served
    with _client(url) as client:
        r = client.post(
            "/v1/chat/completions",
            json={
                "model": "tuneloop",
                "max_tokens": 4,
                "messages": [{"role": "user", "content": "My bulb will not pair"}],
            },
        )
        rid = r.json()["id"]
        edit = "Hold the button for 10 seconds. Write to maria.keller@example.com if it still fails."
        ok = client.post("/v1/feedback", json={"id": rid, "rating": "down", "edited": edit, "escalated": False})
        assert ok.status_code == 200 and ok.json() == {"id": rid, "object": "feedback", "recorded": True}
        for body, param in (
            ({"id": "nope", "rating": "up"}, "id"),
            ({"id": rid, "rating": "meh"}, "rating"),
            ({"id": rid, "escalated": "yes"}, "escalated"),
        ):
            bad = client.post("/v1/feedback", json=body)
            assert bad.status_code == 400 and bad.json()["error"]["param"] == param
        assert client.post("/v1/feedback", json={"id": rid}).json()["error"]["code"] == "missing_feedback"
        assert _client(url, key=None).post("/v1/feedback", json={"id": rid, "rating": "up"}).status_code == 401
    log = root / "reports/serve/requests.jsonl"
    line = next(x for x in read_jsonl(log) if x.get("event") == "feedback" and x["request_id"] == rid)
    assert line["rating"] == "down" and line["key"] == "tester" and "maria.keller@example.com" not in line["edited"]
    out = tmp_path / "candidates.jsonl"
    feedback.collect(log, out, [])
    (cand,) = [c for c in read_jsonl(out) if c["request_id"] == rid]
    assert cand["origin"] == "agent_edit" and cand["reply"].startswith("Hold the button") and cand["approved"] is None


# --- /v1/support: the router, retrieval, the grounded reply, the checks ------------------------------
@pytest.fixture(scope="module")
def support_served(trained):
    root, params, _, _ = trained
    os.environ["TUNELOOP_API_KEYS"] = f"tester:{KEY}"
    # a threshold of 0: the tiny random model's flat probabilities would hand every ticket over otherwise
    routed = {**params, "route": {**params["route"], "target_oos_recall": 0.0, "default_threshold": 0.0}}
    app, deployment = _server(
        root,
        routed,
        index=str(root / "data/index"),
        calibration=str(root / "data/splits/val.jsonl"),
        log=str(root / "reports/serve/support.jsonl"),
        rate_limit={"requests": 1000, "per_seconds": 1},
    )
    with running(app, deployment) as url:
        yield url, root, routed


def test_support_respond_routes_then_answers_from_the_passages_it_cites(support_served):
    from tuneloop.prompts import source_text
    from tuneloop.route import handoff

    url, root, params = support_served
    replies = [e for e in read_jsonl(root / "data/splits/test.jsonl") if e["task"] == "reply" and not e.get("history")]
    replies = replies[:6]  # first-time customers (a returning one's history: the next test)
    answered = 0
    with _client(url) as client:
        # a critical message is handed to a person before any model runs, with the policy's words
        r = client.post("/v1/support/respond", json={"ticket": "My CO alarm is beeping since the Thermo 2 install"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["route"]["escalate"] and body["route"]["why"] == "critical topic: gas or carbon monoxide"
        assert body["reply"] == handoff(params["policy"], critical=True) and body["generated"] is False
        assert body["sources"] == [] and body["version"].startswith("local:")
        for e in replies:
            ticket = source_text(e["user"])
            subject, _, message = ticket.partition("\n\n") if ticket.startswith("Subject: ") else ("", "", ticket)
            r = client.post(
                "/v1/support/respond",
                json={"ticket": message, "subject": subject.removeprefix("Subject: ") or None, "customer_id": "c-1"},
            )
            assert r.status_code == 200, r.text
            body = r.json()
            route = body["route"]
            assert set(route) == {"label", "confidence", "escalate", "why", "topic", "critical"}
            assert body["customer_history"] == {"received": 0, "used": 0}  # said, not silently dropped
            if route["escalate"]:
                assert (
                    body["generated"] is False and params["policy"]["handoff"][:20] in body["reply"]
                )  # after a safety line
                continue
            answered += 1
            assert route["label"] in params["data"]["labels"] and 0 < route["confidence"] <= 1
            assert [s["id"] for s in body["sources"]] == e["passages"]  # the passages build trained with
            assert body["generated"] and body["checks"] == {"loop": None, "ungrounded": []}
    assert answered, "the threshold of 0 routes most tickets to the model"
    log = read_jsonl(root / "reports/serve/support.jsonl")
    logged = [row for row in log if row.get("endpoint") == "support.response" and row["status"] == 200]
    assert len(logged) == 7 and all(row["route"] for row in logged)
    # what the model was asked is the training prompt (build's example), logged redacted like any request
    prompts = {row["messages"][0]["content"] for row in logged if row["route"]["escalate"] is False}
    assert prompts <= {e["user"] for e in replies} and len(prompts) == answered


def test_support_respond_renders_a_returning_customers_history_as_build_does(support_served):
    """The helpdesk sends the customer's earlier tickets; the prompt the model reads is build's for that ticket."""
    from tuneloop.prompts import source_text

    url, root, params = support_served
    records = {r["id"]: r for r in read_jsonl(root / "data/prepared/records.jsonl")}
    returning = [e for e in read_jsonl(root / "data/examples.jsonl") if e["task"] == "reply" and e.get("history")]
    assert returning, "the example corpus has returning customers"
    answered = []
    with _client(url) as client:
        for e in returning[:8]:
            ticket = source_text(e["user"])
            subject, _, message = ticket.partition("\n\n") if ticket.startswith("Subject: ") else ("", "", ticket)
            earlier = [records[t] for t in e["history"]]
            history = [
                {
                    "ticket_id": r["id"],
                    "created_at": r["created_at"],
                    "subject": r["subject"],
                    "text": r["customer_message"],
                    "reply": r["agent_reply"],
                    "category": r["category"],
                }
                for r in earlier
            ]
            request = {"ticket": message, "subject": subject.removeprefix("Subject: ") or None, "history": history}
            r = client.post(
                "/v1/support/respond", json={**request, "customer_id": records[e["history"][0]]["customer_id"]}
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["customer_history"]["received"] == len(history)
            if body["generated"]:
                assert body["customer_history"]["used"] == len(e["history"])
                answered.append(e["user"])
        bad = {"ticket": "still broken", "history": [{"ticket_id": "LUM-1", "created_at": "last week", "text": "hi"}]}
        assert (
            _error(client.post("/v1/support/respond", json=bad), 400, "invalid_value")["param"]
            == "history[0].created_at"
        )
        bad = {"ticket": "still broken", "history": [{"ticket_id": "LUM-1", "created_at": "2025-05-03"}]}
        assert _error(client.post("/v1/support/respond", json=bad), 400, "invalid_value")["param"] == "history[0].text"
        _error(client.post("/v1/support/respond", json={"ticket": "x", "history": "LUM-1"}), 400, "invalid_value")
    assert answered, "the threshold of 0 routes most tickets to the model"
    logged = [
        row["messages"][0]["content"] for row in read_jsonl(root / "reports/serve/support.jsonl") if row.get("messages")
    ]
    assert set(answered) <= set(logged)  # build's prompt, history block included, is what the model read


def test_support_bad_input_is_a_clear_4xx_and_summarize_answers(support_served):
    url, _, _ = support_served
    with _client(url) as client:
        _error(client.post("/v1/support/respond", json={}), 400, "invalid_value")
        _error(client.post("/v1/support/respond", json={"ticket": "  "}), 400, "invalid_value")
        _error(client.post("/v1/support/respond", json={"ticket": "x" * 20001}), 400, "invalid_value")
        _error(client.post("/v1/support/respond", json={"ticket": "hi", "subject": 3}), 400, "invalid_value")
        _error(client.post("/v1/support/respond", json={"ticket": "hi", "model": "gpt-9"}), 404, "model_not_found")
        _error(client.post("/v1/support/respond", content=b"{not json"), 400, "invalid_json")
        _error(client.post("/v1/support/summarize", json={"subject": "x"}), 400, "missing_thread")
        bad_turn = {"thread": [{"role": "robot", "text": "hi"}]}
        assert _error(client.post("/v1/support/summarize", json=bad_turn), 400, "invalid_value")["param"] == "thread[0]"
        _error(_client(url, key=None).post("/v1/support/respond", json={"ticket": "hi"}), 401, "missing_api_key")
        thread = [
            {"role": "customer", "text": "My Glow bulb will not pair with the app."},
            {"role": "agent", "text": "Reset it by switching it off and on five times, then add it again."},
        ]
        r = client.post("/v1/support/summarize", json={"thread": thread, "subject": "Pairing", "status": "solved"})
        assert r.status_code == 200, r.text
        assert r.json()["object"] == "support.summary" and isinstance(r.json()["summary"], str)
        assert client.get("/health").json()["status"] == "ok"  # still serving
