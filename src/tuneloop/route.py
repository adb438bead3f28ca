"""The router in front of generation: escalation is a decision on the customer's message, never a word
of a generated reply.

    scorer = LabelScorer(model, tokenizer)             # any causal LM (+ PEFT adapter) and its tokenizer
    probs = scorer.probs(contract.messages(contract.classify(text)), contract.choices)
    route = Router(contract, params["route"], params["policy"], threshold).decide(text, probs)

A message is escalated, in this order, when
  1. it matches one of the company's critical topics (policy.critical: fire, gas, carbon monoxide, a
     swelling battery, an injury, self-harm, an account takeover, a legal threat, a data-deletion
     request ...) or its other escalation topics (policy.escalate_topics: warranty decisions, discounts
     and compensation, complaints about staff ...): company-written patterns, checked before any model,
     so such a message is handed over even by a model that has never seen one;
  2. the model's most probable answer is the out-of-scope label (data.out_of_scope_label) or one of
     the categories a person always handles (route.escalate_labels);
  3. that answer's probability is under the threshold calibrated on the validation split (`calibrate`:
     the lowest threshold whose out-of-scope recall there reaches route.target_oos_recall).
The label's probability is the model's: P(label + end of turn | the classify prompt), normalised over
the allowed answers (one forward pass over the prompt, its cache shared by every answer). An escalated
message gets the company's fixed hand-off (policy.handoff), never generated text.

The harness (evaluate's route tasks) and the server's /v1/support/respond run this same code on the
same prompt (tuneloop.prompts), so the gate scores the routing that ships.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from tuneloop.prompts import Contract

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Route:
    label: str | None  # the most probable answer (None: decided before the model)
    confidence: float | None  # its probability among the allowed answers
    escalate: bool
    why: str  # critical topic / out of scope / escalation label / low confidence / answered
    topic: str | None = None  # the policy topic matched, if any
    critical: bool = False  # a critical topic: the hand-off puts the safety advice first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chat_ids(tokenizer, messages: list[dict[str, str]]) -> list[int]:
    """A chat as the model sees it: the chat template with the generation prompt, encoded with lm-eval's
    BOS rule (a rendered prompt that already starts with BOS gets no second one). The server's
    Engine.encode and the harness encode the same way."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    bos = tokenizer.bos_token
    kwargs = {"add_special_tokens": False} if bos and text.startswith(bos) else {}
    return list(tokenizer(text, **kwargs)["input_ids"])


class LabelScorer:
    """P(answer | prompt) over a fixed set of answers, for one causal LM (with its adapter active)."""

    def __init__(self, model, tokenizer, chunk: int = 32):
        self.model, self.tokenizer, self.chunk = model, tokenizer, int(chunk)
        self._answers: dict[tuple[str, ...], list[list[int]]] = {}
        self.device = next(model.parameters()).device
        self.prefix: list[int] = []  # the tokens every classify prompt starts with (share_prefix)
        self._prefix_cache: dict[Any, Any] = {}  # adapter key -> the prefix's KV cache under that adapter

    def share_prefix(self, contract: Contract) -> int:
        """Compute the system prompt and classify instruction once: the longest token prefix that two
        classify prompts share. A prompt that does not start with it is run whole (same numbers)."""
        a = chat_ids(self.tokenizer, contract.messages(contract.classify("a")))
        b = chat_ids(self.tokenizer, contract.messages(contract.classify("z")))
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        self.prefix, self._prefix_cache = a[: max(n - 1, 0)], {}
        return len(self.prefix)

    def _run_prompt(self, ids: list[int], key: Any):
        """(the model's output on the prompt's last position, the prompt's KV cache)."""
        import copy

        import torch

        n = len(self.prefix)
        if n and len(ids) > n and ids[:n] == self.prefix:
            if key not in self._prefix_cache:
                self._prefix_cache[key] = self.model(
                    input_ids=torch.tensor([self.prefix]), use_cache=True
                ).past_key_values
            cache = copy.deepcopy(self._prefix_cache[key])
            rest = torch.tensor([ids[n:]], device=self.device)
            return self.model(
                input_ids=rest,
                past_key_values=cache,
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                position_ids=torch.arange(n, len(ids), device=self.device).unsqueeze(0),
                use_cache=True,
            )
        return self.model(input_ids=torch.tensor([ids], device=self.device), use_cache=True)

    def answer_ids(self, choices: list[str]) -> list[list[int]]:
        key = tuple(choices)
        if key not in self._answers:
            end = self.tokenizer.eos_token_id
            self._answers[key] = [
                self.tokenizer(c, add_special_tokens=False)["input_ids"] + ([end] if end is not None else [])
                for c in choices
            ]
        return self._answers[key]

    def logprobs(self, ids: list[int], choices: list[str], key: Any = None) -> list[float]:
        """log P(choice + end of turn | ids) for each choice: the prompt runs once, its KV cache is copied
        for each chunk of answers. `key` names the active adapter (the shared prefix's cache is per adapter)."""
        import copy

        import torch

        answers = self.answer_ids(choices)
        with torch.inference_mode():
            out = self._run_prompt(ids, key)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            scores: list[float] = []
            for start in range(0, len(answers), self.chunk):
                part = answers[start : start + self.chunk]
                longest = max(len(a) for a in part)
                if longest == 1:
                    scores += [float(first[a[0]]) for a in part]
                    continue
                pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
                # right padding: a padded position comes after every real token of its row (causal)
                batch = torch.tensor([a[:-1] + [pad] * (longest - len(a)) for a in part], device=self.device)
                cache = copy.deepcopy(out.past_key_values)
                cache.batch_repeat_interleave(len(part))
                mask = torch.ones(len(part), len(ids) + batch.shape[1], dtype=torch.long, device=self.device)
                positions = torch.arange(len(ids), len(ids) + batch.shape[1], device=self.device).expand(len(part), -1)
                nxt = self.model(
                    input_ids=batch, past_key_values=cache, attention_mask=mask, position_ids=positions
                ).logits
                nxt = torch.log_softmax(nxt.float(), dim=-1)
                for row, a in enumerate(part):
                    scores.append(float(first[a[0]]) + sum(float(nxt[row, j - 1, a[j]]) for j in range(1, len(a))))
        return scores

    def probs(self, messages: list[dict[str, str]], choices: list[str], key: Any = None) -> list[float]:
        return softmax(self.logprobs(chat_ids(self.tokenizer, messages), choices, key))


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    total = sum(exp)
    return [e / total for e in exp]


# --- critical topics (policy.critical) --------------------------------------------------------------
def compile_critical(policy: dict[str, Any] | None) -> list[tuple[str, re.Pattern]]:
    """[(topic, pattern)] from policy.critical ({topic, patterns: [regex, ...]}); a bad regex is a config
    error that names the topic and the pattern."""
    out = []
    for n, entry in enumerate((policy or {}).get("critical") or []):
        topic = entry.get("topic") or f"critical[{n}]"
        for pattern in entry.get("patterns") or []:
            try:
                out.append((topic, re.compile(pattern, re.I)))
            except re.error as exc:
                raise ValueError(f"policy.critical[{n}] ({topic}): pattern {pattern!r} is not a regex: {exc}") from None
    return out


def critical_topic(text: str, critical: list[tuple[str, re.Pattern]]) -> str | None:
    return next((topic for topic, pattern in critical if pattern.search(text)), None)


class Router:
    def __init__(
        self,
        contract: Contract,
        route: dict[str, Any] | None,
        policy: dict[str, Any] | None,
        threshold: float | None = None,
    ):
        route = route or {}
        self.contract = contract
        self.critical = compile_critical(policy)
        self.topics = compile_critical({"critical": (policy or {}).get("escalate_topics")})
        self.escalate_labels = set(route.get("escalate_labels") or [])
        unknown = self.escalate_labels - set(contract.labels)
        if unknown:
            raise ValueError(f"route.escalate_labels: {sorted(unknown)} are not in data.labels")
        self.threshold = float(route.get("default_threshold", DEFAULT_THRESHOLD) if threshold is None else threshold)
        self.handoff_text = handoff(policy, critical=False)
        self.handoff_danger = handoff(policy, critical=True)

    def before_model(self, text: str) -> Route | None:
        """The decision that needs no model (a critical topic), else None."""
        topic = critical_topic(text, self.critical)
        if topic:
            return Route(None, None, True, f"critical topic: {topic}", topic, critical=True)
        topic = critical_topic(text, self.topics)
        if topic:
            return Route(None, None, True, f"escalation topic: {topic}", topic)
        if not self.contract.labels:
            return Route(None, None, False, "no labels: nothing to route on")
        return None

    def decide(self, text: str, probs: list[float] | None, threshold: float | None = None) -> Route:
        """The route of one message; `threshold` overrides the router's (the server holds one per adapter)."""
        threshold = self.threshold if threshold is None else float(threshold)
        early = self.before_model(text)
        if early is not None or probs is None:
            return early or Route(None, None, False, "not routed")
        choices = self.contract.choices
        best = max(range(len(probs)), key=lambda i: (probs[i], -i))
        label, confidence = choices[best], round(float(probs[best]), 6)
        if label == self.contract.out_of_scope:
            return Route(label, confidence, True, "out of scope")
        if label in self.escalate_labels:
            return Route(label, confidence, True, f"escalation category: {label}")
        if confidence < threshold:
            return Route(label, confidence, True, f"low confidence ({confidence:.2f} < {threshold:.2f})")
        return Route(label, confidence, False, "answered")

    def answer(self, route: Route) -> str:
        """The fixed hand-off an escalated message gets (the critical one adds the safety advice)."""
        return self.handoff_danger if route.critical else self.handoff_text


def handoff(policy: dict[str, Any] | None, critical: bool) -> str:
    policy = policy or {}
    channel = policy.get("channel") or "our support team"
    text = (
        policy.get("handoff") or "I'm passing your message to a member of our team, who will take it from here."
    ) + (f" You can also reach a person through {channel}." if channel else "")
    if critical and policy.get("advice"):
        text = f"{policy['advice']} {text}"
    return text.format(company=policy.get("company") or "us", channel=channel)


def calibrate(
    probs: list[list[float]], golds: list[int], contract: Contract, route: dict[str, Any] | None
) -> dict[str, Any]:
    """The confidence threshold: the lowest one (from the candidates the items' own confidences give)
    whose out-of-scope recall on these items reaches route.target_oos_recall while in-scope accuracy
    stays within route.max_in_scope_cost of the unrouted argmax (else the most recall within that cost),
    capped at route.max_threshold; route.default_threshold where the items hold no out-of-scope one."""
    route = route or {}
    target = float(route.get("target_oos_recall", 0.8))
    cap = float(route.get("max_threshold", 0.9))
    oos = contract.choices.index(contract.out_of_scope) if contract.out_of_scope in contract.choices else None
    n_oos = sum(g == oos for g in golds) if oos is not None else 0
    if not n_oos:
        t = float(route.get("default_threshold", DEFAULT_THRESHOLD))
        return {"threshold": t, "how": "default (no out-of-scope item to calibrate on)", "items": len(golds), "oos": 0}

    def outcome(t: float) -> tuple[float, float]:
        caught, right, in_scope = 0, 0, 0
        for p, g in zip(probs, golds):
            best = max(range(len(p)), key=lambda i: (p[i], -i))
            escalated = best == oos or p[best] < t
            if g == oos:
                caught += escalated
            else:
                in_scope += 1
                right += (not escalated) and best == g
        return caught / n_oos, right / max(in_scope, 1)

    budget = float(route.get("max_in_scope_cost", 0.02))
    candidates = sorted({0.0} | {round(max(p), 6) + 1e-6 for p in probs if round(max(p), 6) + 1e-6 <= cap})
    unrouted = outcome(0.0)[1]
    affordable = [t for t in candidates if unrouted - outcome(t)[1] <= budget + 1e-9]
    chosen = next((t for t in affordable if outcome(t)[0] >= target), None)
    how = f"lowest threshold with out-of-scope recall >= {target} costing <= {budget} in-scope accuracy"
    if chosen is None:  # the budget binds: the most recall it affords (the label alone at worst)
        chosen = max(affordable, key=lambda t: (outcome(t)[0], -t))
        how = (
            f"no threshold reaches out-of-scope recall {target} within {budget} of in-scope accuracy: the one "
            "with the most recall inside that budget (route.max_in_scope_cost)"
        )
    recall, acc = outcome(chosen)
    return {
        "threshold": round(chosen, 6),
        "how": how,
        "items": len(golds),
        "oos": n_oos,
        "oos_recall": round(recall, 4),
        "in_scope_acc": round(acc, 4),
        "unrouted_in_scope_acc": round(outcome(0.0)[1], 4),
    }
