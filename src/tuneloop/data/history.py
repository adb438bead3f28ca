"""A returning customer's earlier tickets (issue 26): which ones a reply prompt shows, the split group
that keeps a customer's tickets together, and the facts a reply takes from them.

    history = CustomerHistory(records)     # the prepared records (tickets with customer_id and created_at)
    history.earlier(ticket)                # the customer's tickets created before this one (never later)
    history.group(ticket)                  # "customer:<id>" when the customer has several tickets, else the id
    history.facts(ticket, shown)           # what the agent's reply uses that only the shown tickets say

Grouping: a follow-up's prompt shows its earlier ticket's message and answer, so the two must not sit in
train and test apart (the test item's history would be a training target, and the training follow-up
would show a test answer): every ticket of a returning customer is one split group.

Facts (stored on the reply example as `history_facts`, scored by the tuneloop_reply_history task): the
earlier ticket's number when the reply names it, and a run of FACT_WORDS words of the earlier answer
that the reply repeats (the step already tried), when that run is rare in the corpus's answers (in at
most RARE_SHARE of them: not a greeting, sign-off or stock closing) and not in the customer's own message (not something the
ticket itself says).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from tuneloop.data.overlap import normalize
from tuneloop.prompts import EarlierTicket

FACT_WORDS = 5
# a run of words in at most this share of the answers (and at least the earlier one and the follow-up) is
# specific to a situation; greetings, sign-offs and stock closings are in many more
RARE_SHARE = 0.02


def words(text: str) -> list[str]:
    """Lowercased alphanumeric words (the guard's own normalize): punctuation and case never matter."""
    return normalize(text or "")


def contains(text: str, fact: str) -> bool:
    """Whether `text` says `fact` (whole words, in order, case and punctuation ignored)."""
    needle = " ".join(words(fact))
    return bool(needle) and f" {needle} " in f" {' '.join(words(text))} "


def _runs(text: str) -> list[str]:
    w = words(text)
    return [" ".join(w[i : i + FACT_WORDS]) for i in range(len(w) - FACT_WORDS + 1)]


class CustomerHistory:
    def __init__(self, records: list[dict]):
        tickets: dict[str, list[dict]] = defaultdict(list)
        answers: Counter = Counter()
        for record in records:
            if record.get("kind") == "ticket":
                answers.update(set(_runs(record.get("agent_reply") or "")))
                if record.get("customer_id"):
                    tickets[record["customer_id"]].append(record)
        self.tickets = {c: sorted(ts, key=lambda t: (t.get("created_at") or "", t["id"])) for c, ts in tickets.items()}
        self.answers = answers  # how many answers hold each run of FACT_WORDS words
        self.rare = max(2, int(RARE_SHARE * sum(r.get("kind") == "ticket" for r in records)))

    def group(self, ticket: dict) -> str:
        customer = ticket.get("customer_id")
        return f"customer:{customer}" if customer and len(self.tickets.get(customer, ())) > 1 else ticket["id"]

    def earlier(self, ticket: dict) -> list[EarlierTicket]:
        """The customer's tickets created strictly before this one; undated tickets have no history."""
        created, customer = ticket.get("created_at"), ticket.get("customer_id")
        if not created or not customer:
            return []
        return [
            EarlierTicket.from_ticket(t)
            for t in self.tickets.get(customer, ())
            if t["id"] != ticket["id"] and t.get("created_at") and t["created_at"] < created
        ]

    def facts(self, ticket: dict, shown: list[EarlierTicket], shown_words: int) -> list[str]:
        """What the reply takes from the shown tickets only: their numbers it names, and per ticket the first
        rare run of its answer, within the `shown_words` the prompt shows, that the reply repeats and the
        customer's message does not hold."""
        reply, message = ticket.get("agent_reply") or "", ticket.get("customer_message") or ""
        said, own = set(_runs(reply)), set(_runs(message))
        out = []
        for earlier in shown:
            if contains(reply, earlier.ticket_id) and not contains(message, earlier.ticket_id):
                out.append(earlier.ticket_id)
            visible = " ".join(earlier.reply.split()[:shown_words])
            step = next(
                (r for r in _runs(visible) if r in said and r not in own and self.answers[r] <= self.rare), None
            )
            if step:
                out.append(step)
        return out
