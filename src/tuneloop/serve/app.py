"""The OpenAI-compatible HTTP API (FastAPI): /v1/chat/completions, /v1/models, /health, and /v1/feedback.

    TUNELOOP_API_KEYS="me:sk-local-123456" tuneloop serve --config deploy/serve.yaml
    curl -s 127.0.0.1:8000/v1/chat/completions -H "Authorization: Bearer sk-local-123456" \
      -H 'Content-Type: application/json' -d '{"model": "tuneloop", "messages": [{"role": "user", "content": "Hi"}]}'

Feedback on an answer (docs/loop.md): POST /v1/feedback {"id": "chatcmpl-...", "rating": "up"|"down",
"edited": "the text the agent actually sent", "escalated": true} (any of the three) is logged, redacted,
as an `{"event": "feedback"}` line of the request log, which `tuneloop monitor drift` and `tuneloop monitor feedback
collect` read.

Models: `tuneloop` (production, or staging for the canary share), `tuneloop:production`,
`tuneloop:staging` (while a version holds staging) and `tuneloop:base` (the stock base). Greedy unless
`temperature` > 0 (then seeded by `seed`, default 0). Every client error is a 4xx in OpenAI's error
shape, logged, and the server keeps serving.
"""

# No `from __future__ import annotations` here: FastAPI resolves the endpoints' annotations (Request,
# BackgroundTasks, imported inside create_app) at runtime.
import json
import re
import time
import uuid
from typing import Any

from tuneloop.prompts import ticket_text
from tuneloop.serve.guard import ApiError, Auth, RateLimiter
from tuneloop.serve.history import parse_history

MODEL = "tuneloop"
ROLES = ("system", "user", "assistant")
REQUEST_ID = re.compile(r"chatcmpl-[0-9a-f]{24}")
MAX_EDIT_CHARS = 20000


async def _json_body(request) -> Any:
    """The request body as JSON, or the OpenAI-shaped 400 every endpoint gives for a body that is not."""
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The body is not valid JSON ({exc}).", code="invalid_json") from exc


def _validate_feedback(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_body")
    rid = body.get("id")
    if not isinstance(rid, str) or not REQUEST_ID.fullmatch(rid):
        raise ApiError(
            400, "`id` must be the `id` of a chat completion (chatcmpl-...).", param="id", code="invalid_value"
        )
    rating, edited, escalated = body.get("rating"), body.get("edited"), body.get("escalated")
    if rating is not None and rating not in ("up", "down"):
        raise ApiError(400, '`rating` must be "up" or "down".', param="rating", code="invalid_value")
    if edited is not None and (not isinstance(edited, str) or not edited.strip() or len(edited) > MAX_EDIT_CHARS):
        raise ApiError(
            400,
            f"`edited` must be a non-empty string of at most {MAX_EDIT_CHARS} characters.",
            param="edited",
            code="invalid_value",
        )
    if escalated is not None and not isinstance(escalated, bool):
        raise ApiError(400, "`escalated` must be true or false.", param="escalated", code="invalid_value")
    if rating is None and edited is None and escalated is None:
        raise ApiError(400, "Send at least one of `rating`, `edited`, `escalated`.", code="missing_feedback")
    return {"request_id": rid, "rating": rating, "edited": edited, "escalated": escalated}


def _validate(body: Any, max_tokens_cap: int) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "`model` is required (see GET /v1/models).", param="model", code="missing_model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "`messages` must be a non-empty list.", param="messages", code="invalid_messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise ApiError(
                400,
                f"messages[{i}] needs a role in {ROLES} and a string content.",
                param=f"messages[{i}]",
                code="invalid_messages",
            )
    if body.get("stream"):
        raise ApiError(
            400,
            "Streaming is not supported by this server; send `stream: false`.",
            param="stream",
            code="unsupported_parameter",
        )
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", max_tokens_cap))
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 1 <= max_tokens <= max_tokens_cap:
        raise ApiError(
            400,
            f"`max_tokens` must be an integer from 1 to {max_tokens_cap}.",
            param="max_tokens",
            code="invalid_value",
        )
    temperature = body.get("temperature", 0)
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not 0 <= temperature <= 2:
        raise ApiError(400, "`temperature` must be a number from 0 to 2.", param="temperature", code="invalid_value")
    stop = body.get("stop") or []
    stop = [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) for s in stop):
        raise ApiError(400, "`stop` must be a string or a list of up to 4 strings.", param="stop", code="invalid_value")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ApiError(400, "`seed` must be an integer.", param="seed", code="invalid_value")
    return {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": float(temperature),
        "stop": stop,
        "seed": seed,
    }


MAX_TICKET_CHARS = 20000
THREAD_ROLES = ("customer", "agent")


def _validate_support(body: Any, summarize: bool = False) -> dict[str, Any]:
    """A /v1/support request: `ticket` (respond) or `thread` (summarize), optional subject, customer_id, model
    (and `history`, checked by serve/history.py)."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_body")
    for key in ("subject", "customer_id", "model", "status"):
        if body.get(key) is not None and (not isinstance(body[key], str) or len(body[key]) > 500):
            raise ApiError(400, f"`{key}` must be a string of at most 500 characters.", param=key, code="invalid_value")
    thread = body.get("thread")
    if thread is not None:
        if not isinstance(thread, list) or not thread or len(thread) > 100:
            raise ApiError(400, "`thread` must be a list of 1 to 100 turns.", param="thread", code="invalid_value")
        for i, turn in enumerate(thread):
            if (
                not isinstance(turn, dict)
                or turn.get("role") not in THREAD_ROLES
                or not isinstance(turn.get("text"), str)
                or not turn["text"].strip()
                or len(turn["text"]) > MAX_TICKET_CHARS
            ):
                raise ApiError(
                    400,
                    f"thread[{i}] needs a role in {THREAD_ROLES} and a non-empty text of at most {MAX_TICKET_CHARS} characters.",
                    param=f"thread[{i}]",
                    code="invalid_value",
                )
    if summarize:
        if thread is None:
            raise ApiError(400, "`thread` is required: the turns to summarize.", param="thread", code="missing_thread")
        return body
    ticket = body.get("ticket")
    if not isinstance(ticket, str) or not ticket.strip() or len(ticket) > MAX_TICKET_CHARS:
        raise ApiError(
            400,
            f"`ticket` must be the customer's message, a non-empty string of at most {MAX_TICKET_CHARS} characters.",
            param="ticket",
            code="invalid_value",
        )
    return body


def create_app(
    engine,
    deployment,
    request_log,
    auth: Auth,
    limiter: RateLimiter,
    router,
    max_tokens_cap: int = 256,
    support=None,
):
    from fastapi import BackgroundTasks, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException

    app = FastAPI(title="tuneloop", docs_url=None, redoc_url=None)
    started = time.time()
    counts = {"requests": 0, "errors": 0}

    def error_response(err: ApiError) -> JSONResponse:
        counts["errors"] += 1
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError):
        return error_response(err)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return error_response(ApiError(exc.status_code, str(exc.detail), code=code))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return error_response(ApiError(400, "Invalid request.", code="invalid_body"))

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        return error_response(
            ApiError(
                500, f"Internal error ({type(exc).__name__}); see the server log.", "server_error", "internal_error"
            )
        )

    def models() -> list[str]:
        ids = [MODEL, f"{MODEL}:production", f"{MODEL}:base"]
        return ids + ([f"{MODEL}:staging"] if deployment.slots.get("staging") else [])

    @app.get("/health")
    async def health():
        return {
            "status": "ok" if deployment.last_error is None else "degraded",
            "production": deployment.slots.get("production"),
            "staging": deployment.slots.get("staging"),
            "serving": "adapter" if deployment.slots.get("production") else "stock base",
            "chat_template_sha256": engine.chat_template_sha,
            "rollout": router.mode,
            "route_thresholds": support.thresholds if support is not None else None,
            "registry_error": deployment.last_error,
            "registry_changes": deployment.changes,
            "uptime_s": round(time.time() - started, 1),
            **counts,
        }

    @app.get("/v1/models")
    async def list_models(request: Request):
        auth.check(request.headers.get("authorization"))
        return {
            "object": "list",
            "data": [{"id": m, "object": "model", "created": int(started), "owned_by": "tuneloop"} for m in models()],
        }

    def answer(req: dict[str, Any], ids: list[int], arm: str) -> tuple[str, dict | None, Any]:
        for _ in range(2):  # an adapter unloaded between routing and generation: route again, once
            served, slot = deployment.resolve(arm)
            try:
                return (
                    served,
                    slot,
                    engine.generate(
                        ids, slot and slot["md5"], req["max_tokens"], req["stop"], req["temperature"], req["seed"]
                    ),
                )
            except KeyError:
                continue
        raise ApiError(503, "The model is being swapped; retry.", "server_error", "model_unavailable")

    def shadow(req: dict[str, Any], ids: list[int], request_id: str, who: str) -> None:
        t0 = time.perf_counter()
        try:
            served, slot, out = answer(req, ids, "staging")
            request_log.write(
                {
                    "ts": time.time(),
                    "request_id": request_id,
                    "key": who,
                    "model": req["model"],
                    "arm": served,
                    "shadow": True,
                    "version": slot and slot["version"],
                    "status": 200,
                    "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
                    "completion_tokens": out.completion_tokens,
                    "output": out.text,
                }
            )
        except Exception as exc:  # noqa: BLE001 - a shadow never affects the caller
            request_log.write(
                {
                    "ts": time.time(),
                    "request_id": request_id,
                    "key": who,
                    "shadow": True,
                    "status": 500,
                    "error": type(exc).__name__,
                }
            )

    @app.post("/v1/chat/completions")
    async def chat(request: Request, background: BackgroundTasks):
        t0, request_id, who = time.perf_counter(), "chatcmpl-" + uuid.uuid4().hex[:24], None
        counts["requests"] += 1
        entry: dict[str, Any] = {"ts": time.time(), "request_id": request_id}
        try:
            who = auth.check(request.headers.get("authorization"))
            limiter.take(who)
            req = _validate(await _json_body(request), max_tokens_cap)
            entry.update(model=req["model"], messages=req["messages"])
            if req["model"] not in models():
                raise ApiError(
                    404,
                    f"The model `{req['model']}` does not exist; available: {', '.join(models())}.",
                    param="model",
                    code="model_not_found",
                )
            try:
                ids = engine.encode(req["messages"])
            except ValueError as exc:
                raise ApiError(400, str(exc), param="messages", code="context_length_exceeded") from exc
            staged = deployment.slots.get("staging") is not None
            arm = req["model"].split(":", 1)[1] if ":" in req["model"] else router.arm(staged)
            served, slot, out = await run_in_threadpool(answer, req, ids, arm)
            if req["model"] == MODEL and router.shadow(staged):
                background.add_task(shadow, req, ids, request_id, who)
        except ApiError as err:
            request_log.write(
                {
                    **entry,
                    "key": who,
                    "status": err.status,
                    "error": err.code,
                    "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
                }
            )
            raise
        usage = {
            "prompt_tokens": out.prompt_tokens,
            "completion_tokens": out.completion_tokens,
            "total_tokens": out.prompt_tokens + out.completion_tokens,
        }
        request_log.write(
            {
                **entry,
                "key": who,
                "arm": served,
                "version": slot and slot["version"],
                "adapter_md5": slot and slot["md5"],
                "status": 200,
                "output": out.text,
                **usage,
                "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
            }
        )
        return JSONResponse(
            {
                "id": request_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": req["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": out.text},
                        "finish_reason": out.finish_reason,
                    }
                ],
                "usage": usage,
                "system_fingerprint": slot["version"] if slot else "base",
            },
            headers={"x-tuneloop-arm": served, "x-tuneloop-version": slot["version"] if slot else "base"},
        )

    # --- the support endpoints (serve/support.py): route, retrieve, answer, check -------------------
    async def support_call(request: Request, endpoint: str, summarize: bool):
        t0, request_id, who = time.perf_counter(), "support-" + uuid.uuid4().hex[:24], None
        counts["requests"] += 1
        entry: dict[str, Any] = {"ts": time.time(), "request_id": request_id, "endpoint": endpoint}
        try:
            who = auth.check(request.headers.get("authorization"))
            limiter.take(who)
            body = _validate_support(await _json_body(request), summarize)
            if support is None:
                raise ApiError(
                    503,
                    "The support endpoints need the pipeline's params.yaml (the prompt contract, the policy).",
                    "server_error",
                    "support_unavailable",
                )
            model = body.get("model") or MODEL
            if model not in models():
                raise ApiError(
                    404,
                    f"The model `{model}` does not exist; available: {', '.join(models())}.",
                    "model",
                    "model_not_found",
                )
            staged = deployment.slots.get("staging") is not None
            arm = model.split(":", 1)[1] if ":" in model else router.arm(staged)
            served, slot = deployment.resolve(arm)
            md5 = slot and slot["md5"]
            if summarize:
                ticket = {"subject": body.get("subject"), "turns": body["thread"], "status": body.get("status")}
                result = await run_in_threadpool(support.summarize, ticket, md5)
                output = result["summary"]
            else:
                text = ticket_text({"subject": body.get("subject"), "customer_message": body["ticket"]})
                history = parse_history(body.get("history"), request_log.redact)  # redacted as training saw it
                result = await run_in_threadpool(support.respond, text, md5, history)
                output = result["reply"]
        except ApiError as err:
            request_log.write({**entry, "key": who, "status": err.status, "error": err.code})
            raise
        except ValueError as exc:  # a prompt over the server's token limit
            request_log.write({**entry, "key": who, "status": 400, "error": "context_length_exceeded"})
            raise ApiError(400, str(exc), param="ticket", code="context_length_exceeded") from exc
        request_log.write(
            {
                **entry,
                "key": who,
                "model": model,
                "arm": served,
                "version": slot and slot["version"],
                "adapter_md5": md5,
                "status": 200,
                "messages": [{"role": "user", "content": result.get("prompt") or body.get("ticket") or ""}],
                "output": output,
                **({"route": result["route"], "checks": result["checks"]} if not summarize else {}),
                "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
            }
        )
        version = slot["version"] if slot else "base"
        answer = {"id": request_id, "object": endpoint, "model": model, "arm": served, "version": version}
        if summarize:
            answer.update(summary=result["summary"], usage=result["usage"])
        else:
            answer.update(
                route=result["route"],
                reply=result["reply"],
                generated=result["generated"],
                sources=result["sources"],
                checks=result["checks"],
                usage=result["usage"],
                customer_history={"received": len(body.get("history") or []), "used": result["history_used"]}
                if body.get("customer_id") or body.get("history")
                else None,
            )
        return JSONResponse(answer, headers={"x-tuneloop-arm": served, "x-tuneloop-version": version})

    @app.post("/v1/support/respond")
    async def support_respond(request: Request):
        return await support_call(request, "support.response", summarize=False)

    @app.post("/v1/support/summarize")
    async def support_summarize(request: Request):
        return await support_call(request, "support.summary", summarize=True)

    @app.post("/v1/feedback")
    async def feedback(request: Request):
        who = auth.check(request.headers.get("authorization"))
        limiter.take(who)
        fb = _validate_feedback(await _json_body(request))
        request_log.write(
            {
                "ts": time.time(),
                "event": "feedback",
                "key": who,
                "status": 200,
                **{k: v for k, v in fb.items() if v is not None},
            }
        )
        return JSONResponse({"id": fb["request_id"], "object": "feedback", "recorded": True})

    return app
