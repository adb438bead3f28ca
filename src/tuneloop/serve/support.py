"""The support service behind /v1/support/respond and /v1/support/summarize: route, retrieve, answer, check.

    service = SupportService(engine, params, index, val_file="data/splits/val.jsonl")
    result = service.respond("Subject: ...\n\nmy bulb will not pair", adapter_md5)

A ticket goes through, in order:
  1. the router (tuneloop.route): a critical topic, the out-of-scope label, an always-escalated category
     or a confidence under the adapter's calibrated threshold hands it to a person with the policy's
     fixed hand-off; nothing is generated;
  2. retrieval: the help-center index's top-k passages for the ticket (tuneloop.retrieval);
  3. the reply, generated on the prompt contract's grounded reply prompt (what training and the harness
     use, tests/test_prompts.py), with a returning customer's earlier tickets when the request sends them
     (serve/history.py; the contract shows the newest few), greedy;
  4. checks on the reply before it leaves: a loop (evals.degeneration.loops) or a phone number, email,
     URL or price absent from the passages (evals.grounding.ungrounded) replaces it with the hand-off,
     and the response says why.
The threshold is calibrated per adapter on the validation split (route.calibrate, the same items and
rule as the harness), once, when the adapter first routes; `/health` lists the thresholds in use.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from tuneloop.data.synth import thread_text
from tuneloop.evals.degeneration import loops
from tuneloop.evals.grounding import ungrounded
from tuneloop.io import read_jsonl
from tuneloop.prompts import Contract, EarlierTicket, Passage, source_text
from tuneloop.route import Route, Router, calibrate

log = logging.getLogger(__name__)
STOP = ["\n\n\n"]  # the harness's stop string for generated answers (evals/tasks/tuneloop_reply.yaml)


class SupportService:
    def __init__(
        self,
        engine,
        params: dict[str, Any],
        index=None,
        val_file: str | Path | None = None,
        max_tokens: int = 160,
    ):
        self.engine, self.index, self.max_tokens = engine, index, int(max_tokens)
        self.contract = Contract.from_params(params)
        self.route_cfg, self.policy = params.get("route") or {}, params.get("policy") or {}
        self.router = Router(self.contract, self.route_cfg, self.policy)  # thresholds per adapter below
        self.val = (
            [e for e in read_jsonl(val_file) if e["task"] == "classify"] if val_file and Path(val_file).exists() else []
        )
        self.thresholds: dict[str | None, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # --- routing -----------------------------------------------------------------------------------
    def probs(self, text: str, md5: str | None) -> list[float]:
        return self.engine.label_probs(self.contract.messages(self.contract.classify(text)), self.contract.choices, md5)

    def threshold(self, md5: str | None) -> dict[str, Any]:
        """The adapter's calibrated threshold (computed once per adapter, on the validation split)."""
        with self._lock:
            if md5 not in self.thresholds:
                probs = [self.probs(source_text(e["user"]), md5) for e in self.val]
                self.thresholds[md5] = calibrate(
                    probs, [int(e["gold"]) for e in self.val], self.contract, self.route_cfg
                )
                log.info("support: adapter %s routes with threshold %s", md5, self.thresholds[md5])
            return self.thresholds[md5]

    def route(self, text: str, md5: str | None) -> Route:
        early = self.router.before_model(text)
        if early is not None:
            return early
        return self.router.decide(text, self.probs(text, md5), self.threshold(md5)["threshold"])

    # --- answering ---------------------------------------------------------------------------------
    def passages(self, text: str) -> list[Passage]:
        return self.index.search(text, self.contract.k) if self.index is not None else []

    def reply_prompt(self, text: str, history: list[EarlierTicket] | None = None) -> tuple[str, list[Passage] | None]:
        """The reply prompt for a ticket, with its passages and the customer's earlier tickets: the one build
        trains on (tests/test_prompts.py, tests/test_serve.py)."""
        passages = self.passages(text) if self.contract.grounded("reply") else None
        return self.contract.reply(text, passages, history), passages

    def respond(self, text: str, md5: str | None, history: list[EarlierTicket] | None = None) -> dict[str, Any]:
        route = self.route(text, md5)
        used = 0 if route.escalate else len(self.contract.shown_history(history or []))  # escalated: nothing generated
        out: dict[str, Any] = {"route": route.as_dict(), "sources": [], "checks": {}, "history_used": used}
        if route.escalate:
            return {**out, "reply": self.router.answer(route), "generated": False, "prompt": None, "usage": None}
        prompt, passages = self.reply_prompt(text, history)
        ids = self.engine.encode(self.contract.messages(prompt))
        completion = self.engine.generate(ids, md5, self.max_tokens, STOP)
        reply = completion.text.strip()
        sources = [{"id": p.id, "title": p.title, "section": p.section, "score": p.score} for p in passages or []]
        loop = loops(reply)
        invented = ungrounded(reply, [p.text for p in passages or []], self._allowed())
        checks = {"loop": loop, "ungrounded": invented}
        usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}
        if loop or invented:
            why = f"loop in the generated reply ({loop!r})" if loop else f"states what no source gives: {invented}"
            held = Route(route.label, route.confidence, True, f"reply held back: {why}")
            return {
                **out,
                "route": held.as_dict(),
                "reply": self.router.answer(held),
                "generated": False,
                "checks": checks,
                "held_back": completion.text,
                "sources": sources,
                "prompt": prompt,
                "usage": usage,
            }
        return {
            **out,
            "reply": reply,
            "generated": True,
            "checks": checks,
            "sources": sources,
            "prompt": prompt,
            "usage": usage,
        }

    def summarize(self, ticket: dict[str, Any], md5: str | None) -> dict[str, Any]:
        prompt = self.contract.summary(thread_text(ticket))
        ids = self.engine.encode(self.contract.messages(prompt))
        completion = self.engine.generate(ids, md5, self.max_tokens, STOP)
        return {
            "summary": completion.text.strip(),
            "prompt": prompt,
            "usage": {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens},
        }

    def _allowed(self) -> list[str]:
        """Contact details the company itself gives in its hand-off (policy.channel), never invented."""
        return [self.policy.get("channel") or ""]
