"""The prompt contract: every task's prompt, rendered by one module from one config.

    contract = Contract.from_params(params)          # data.* and retrieval.* of params.yaml
    contract.messages(contract.classify(ticket_text(ticket)))

`build` (training examples), `evaluate` (lm-eval's evals/tasks/utils.py, which gets the contract as one
JSON environment variable), the router (tuneloop.route), the server's /v1/support endpoints and the
drift monitor's scorer all render prompts here, so the model is asked in production exactly what it was
trained and judged on (tests/test_prompts.py renders each task through each consumer and asserts one
string).

Every user prompt reads `instruction + SEPARATOR + content`; no instruction holds a blank line. Retrieved
help-center passages, when a task has them, open the content in a block between PASSAGES_HEAD and
PASSAGES_END, and the customer's own words close it (the question is the last thing the model reads
before it answers; a prompt cut to fit `max_length` loses passage text, never the question:
train/lengths.py). A returning customer's reply prompt also carries their earlier tickets (newest
first, `retrieval.history`), between HISTORY_HEAD and HISTORY_END after the passages and before the
ticket. `source_text` drops both blocks: the overlap and contamination checks compare what was asked,
not the help-center text that every split shares nor another ticket's text.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

SEPARATOR = "\n\n"  # between a prompt's instruction and its content
PRIORITIES = ("low", "normal", "high", "urgent")
# Up to this many labels are listed in the classify prompt; a larger label set is learned from the
# examples instead, so the prompt does not grow with the label count (data.max_listed_labels).
MAX_LISTED_LABELS = 20
PASSAGES_HEAD = "Help-center passages:"
PASSAGES_END = "End of passages."
_PASSAGES = re.compile("^" + re.escape(PASSAGES_HEAD) + r"\n.*?\n" + re.escape(PASSAGES_END + SEPARATOR), re.S)
HISTORY_HEAD = "Earlier tickets from this customer, newest first:"
HISTORY_END = "End of earlier tickets."
_HISTORY = re.compile("^" + re.escape(HISTORY_HEAD) + r"\n.*?\n" + re.escape(HISTORY_END + SEPARATOR), re.S)
ENV = "TUNELOOP_PROMPT_CONTRACT"  # how `evaluate` hands the contract to lm-eval's task hooks

REPLY = "Write the support agent's reply to this customer ticket."
REPLY_GROUNDED = (
    "Write the support agent's reply to this customer ticket. Use the help-center passages below where they "
    "apply; state no phone number, address, price or policy that they do not give."
)
KB_ANSWER = (
    "Answer the customer's question from the help-center passages below, in a few sentences, and end with "
    '"Source:" and the title of the article you used.'
)
SUMMARY = (
    "Summarize this support ticket for the agent who picks it up, one line each: category, the customer's "
    "issue, what was already tried, details (order numbers, codes, products), the resolution and the status."
)


@dataclass(frozen=True)
class Passage:
    """One retrieved help-center chunk, as a prompt shows it and a response cites it."""

    id: str
    title: str
    section: str
    text: str
    score: float = 0.0

    def render(self, n: int, max_words: int) -> str:
        words = self.text.split()
        body = " ".join(words[:max_words]) + (" [...]" if len(words) > max_words else "")
        return f"[{n}] ({self.section or self.title}) {body}"


def cut_words(text: str, max_words: int) -> str:
    """The first max_words words on one line, marked [...] when something was cut."""
    words = text.split()
    return " ".join(words[:max_words]) + (" [...]" if len(words) > max_words else "")


@dataclass(frozen=True)
class EarlierTicket:
    """One of the customer's earlier tickets as the reply prompt shows it. Its texts are the prepared
    (redacted) ticket's, or the server's request redacted like the ticket itself; the customer id is no
    part of it, so no prompt ever shows one."""

    ticket_id: str
    created_at: str  # ISO 8601; the prompt shows the date, and the newest tickets are the ones shown
    subject: str
    message: str
    reply: str
    category: str = ""

    @classmethod
    def from_ticket(cls, ticket: dict) -> EarlierTicket:
        """From a prepared ticket record (the helpdesk's own number when the importer kept it in meta)."""
        return cls(
            ticket_id=str((ticket.get("meta") or {}).get("external_id") or ticket.get("ticket_id") or ticket["id"]),
            created_at=str(ticket.get("created_at") or ""),
            subject=(ticket.get("subject") or "").strip(),
            message=ticket.get("customer_message") or "",
            reply=ticket.get("agent_reply") or "",
            category=ticket.get("category") or "",
        )

    def render(self, n: int, max_words: int) -> str:
        head = f"[{n}] {self.created_at[:10] or 'undated'}, ticket {self.ticket_id}"
        head += (f", {self.category}" if self.category else "") + (f": {self.subject}" if self.subject else "")
        reply = cut_words(self.reply, max_words) if self.reply.strip() else "(no answer yet)"
        return f"{head}\nCustomer: {cut_words(self.message, max_words)}\nAgent: {reply}"


@dataclass(frozen=True)
class Contract:
    system: str
    labels: tuple[str, ...] = ()
    max_listed: int = MAX_LISTED_LABELS
    out_of_scope: str | None = None
    passage_words: int = 80  # words of each retrieved passage a prompt shows (retrieval.passage_words)
    grounded_tasks: tuple[str, ...] = field(default=())  # tasks whose prompts carry passages (retrieval.tasks)
    k: int = 3  # passages per grounded prompt (retrieval.k)
    history_tickets: int = 2  # a returning customer's earlier tickets a reply prompt shows (retrieval.history)
    history_words: int = 40  # words of each earlier message and answer shown (retrieval.history.words)

    # --- construction --------------------------------------------------------------------------------
    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Contract:
        return cls.from_config(params["data"], params.get("retrieval"))

    @classmethod
    def from_config(cls, data: dict[str, Any], retrieval: dict[str, Any] | None = None) -> Contract:
        retrieval = retrieval or {}
        history = retrieval.get("history") or {}
        return cls(
            system=data["system_prompt"],
            labels=tuple(data.get("labels") or ()),
            max_listed=int(data.get("max_listed_labels") or MAX_LISTED_LABELS),
            out_of_scope=data.get("out_of_scope_label") or None,
            passage_words=int(retrieval.get("passage_words") or 80),
            grounded_tasks=tuple(retrieval.get("tasks") or ()) if retrieval.get("enabled", True) else (),
            k=int(retrieval.get("k") or 3),
            history_tickets=int(history.get("max_tickets", 2)),
            history_words=int(history.get("words") or 40),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Contract:
        raw = json.loads(text)
        return cls(**{**raw, "labels": tuple(raw["labels"]), "grounded_tasks": tuple(raw["grounded_tasks"])})

    @classmethod
    def from_env(cls) -> Contract | None:
        text = os.environ.get(ENV)
        return cls.from_json(text) if text else None

    # --- what a prompt is made of --------------------------------------------------------------------
    @property
    def choices(self) -> list[str]:
        """The answers a classify prompt allows: the categories, then the out-of-scope answer."""
        return list(self.labels) + ([self.out_of_scope] if self.out_of_scope and self.labels else [])

    def messages(self, user: str, history: list[dict] | None = None) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, *(history or []), {"role": "user", "content": user}]

    def grounded(self, task: str) -> bool:
        return task in self.grounded_tasks

    # --- the tasks -----------------------------------------------------------------------------------
    def classify_instruction(self) -> str:
        return classify_instruction(list(self.labels), self.max_listed, self.out_of_scope)

    def classify(self, text: str) -> str:
        return self.classify_instruction() + SEPARATOR + text

    def priority(self, text: str) -> str:
        return priority_instruction() + SEPARATOR + text

    def reply(
        self, ticket: str, passages: list[Passage] | None = None, history: list[EarlierTicket] | None = None
    ) -> str:
        """The reply prompt: passages (grounded), then the customer's earlier tickets (when any), then the ticket."""
        blocks = [] if passages is None else [self.passages(passages)]
        shown = self.shown_history(history or [])
        blocks += [self.history(shown)] if shown else []
        return (REPLY if passages is None else REPLY_GROUNDED) + SEPARATOR + SEPARATOR.join([*blocks, ticket])

    def shown_history(self, history: list[EarlierTicket]) -> list[EarlierTicket]:
        """The earlier tickets a reply prompt shows: the newest history_tickets, newest first."""
        return sorted(history, key=lambda t: (t.created_at, t.ticket_id), reverse=True)[: self.history_tickets]

    def history(self, shown: list[EarlierTicket]) -> str:
        """The earlier-tickets block (shown_history's tickets, in that order)."""
        body = [t.render(i, self.history_words) for i, t in enumerate(shown, 1)]
        return HISTORY_HEAD + "\n" + "\n".join(body) + "\n" + HISTORY_END

    def summary(self, thread: str) -> str:
        return SUMMARY + SEPARATOR + thread

    def kb_answer(self, question: str, passages: list[Passage]) -> str:
        return KB_ANSWER + SEPARATOR + self.passages(passages) + SEPARATOR + "Question: " + question.strip()

    def passages(self, passages: list[Passage]) -> str:
        """The passages block (it opens a grounded prompt's content); an empty retrieval says so."""
        body = [p.render(i, self.passage_words) for i, p in enumerate(passages, 1)] or ["(none found)"]
        return PASSAGES_HEAD + "\n" + "\n".join(body) + "\n" + PASSAGES_END

    # --- reading a prompt back ------------------------------------------------------------------------
    def customer_text(self, user: str) -> tuple[str, str | None]:
        """(the customer's text, the task) of a user message rendered here; (message, None) for any other."""
        head, sep, content = user.partition(SEPARATOR)
        task = None
        if sep:
            if self.labels and head == self.classify_instruction():
                task = "classify"
            elif head.startswith("Classify the support ticket below"):
                task = "classify"  # rendered for another label set: still a classify request
            elif head in (REPLY, REPLY_GROUNDED):
                task = "reply"
            elif head == KB_ANSWER:
                task, content = "kb_answer", content.removeprefix("Question: ")
            elif head == SUMMARY:
                task = "summary"
            elif head == priority_instruction():
                task = "priority"
        text = source_text(user) if task else user
        if task == "kb_answer":
            text = text.removeprefix("Question: ")
        if text.startswith("Subject:") and SEPARATOR in text:
            text = text.split(SEPARATOR, 1)[1]
        return text.strip(), task


def without_passages(user: str) -> str:
    """A user prompt minus its retrieved passages (instruction and content kept)."""
    head, sep, rest = user.partition(SEPARATOR)
    return head + sep + _PASSAGES.sub("", rest) if sep else user


def without_history(user: str) -> str:
    """A user prompt minus the customer's earlier tickets (the same prompt as for a first-time customer)."""
    head, sep, rest = user.partition(SEPARATOR)
    if not sep:
        return user
    match = _PASSAGES.match(rest)
    passages = match.group(0) if match else ""
    return head + sep + passages + _HISTORY.sub("", rest[len(passages) :])


def source_text(user: str) -> str:
    """The content of a user prompt without its instruction, retrieved passages and earlier tickets: what
    split's leakage check and the contamination guard compare (the ticket itself)."""
    return _HISTORY.sub("", _PASSAGES.sub("", user.split(SEPARATOR, 1)[-1]))


def classify_instruction(
    labels: list[str], max_listed: int = MAX_LISTED_LABELS, out_of_scope: str | None = None
) -> str:
    """The classify prompt's instruction; with an out-of-scope label (data.out_of_scope_label) it says to
    answer that label when no category fits, instead of forcing one."""
    none_fits = f"\nIf none of them fits, answer {out_of_scope}." if out_of_scope else ""
    if len(labels) <= max_listed:
        return (
            "Classify the support ticket below into exactly one category: "
            + ", ".join(labels)
            + "."
            + none_fits
            + "\nAnswer with the category name only."
        )
    return (
        f"Classify the support ticket below into exactly one of the {len(labels)} support categories."
        + none_fits
        + "\nAnswer with the category name only."
    )


def priority_instruction() -> str:
    return (
        "Classify the urgency of the support ticket below as exactly one of: "
        + ", ".join(PRIORITIES)
        + ".\nAnswer with the priority only."
    )


def summary_instruction() -> str:
    return SUMMARY


def ticket_text(ticket: dict) -> str:
    """A ticket as every prompt shows it: its subject line (when it has one), a blank line, the message."""
    subject = (ticket.get("subject") or "").strip()
    return (f"Subject: {subject}\n\n" if subject else "") + ticket["customer_message"]
