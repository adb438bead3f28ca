"""Which training examples each kind of record makes, task by task (the build stage's helpers).

    kind            tasks it can make
    ticket          classify (when labelled), reply, priority (when set), summary
    transcript      classify (when labelled), reply (the agent's first answer), summary
    labelled_text   classify
    instruction     instruction (the pair as written)
    chat            chat (one example per assistant turn, or the last only: data.chat_loss)
    kb              kb_summarize, kb_facts, kb_rephrase, kb_qa (per chunk; templates in synth.py)

Prompts are the prompt contract's (tuneloop.prompts). The grounded tasks (retrieval.tasks: reply, kb_qa)
carry the help-center index's top-k passages for their query (tuneloop.retrieval), retrieved as the
server retrieves them: the relevant chunk where retrieval finds it, with the others as distractors
(retrieval-augmented fine-tuning), so the adapter learns to answer from what it is given.
    policy          safety (refusals, PII declines, escalations from conf/policy; train split only),
                    classify (policy.out_of_scope queries answered data.out_of_scope_label, when set)

Every maker returns (examples, skipped): skipped maps a task to the reason it made nothing from this
record ("no_category", "no_agent_reply", ...), so the build report can say why a record made fewer
examples than its kind allows. Nothing here reads files or config beyond the arguments.
"""

from __future__ import annotations

from typing import Any

from tuneloop.data import safety_mix as company_policy
from tuneloop.data import synth
from tuneloop.data.history import CustomerHistory
from tuneloop.data.importers.fields import thread_fields
from tuneloop.prompts import Contract, ticket_text

TICKET_TASKS = ("classify", "reply", "priority", "summary")
KB_TASKS = ("kb_summarize", "kb_facts", "kb_rephrase", "kb_qa")
TASKS_BY_KIND: dict[str, tuple[str, ...]] = {
    "ticket": TICKET_TASKS,
    "transcript": ("classify", "reply", "summary"),
    "labelled_text": ("classify",),
    "instruction": ("instruction",),
    "chat": ("chat",),
    "kb": KB_TASKS,
    "policy": ("safety", "classify"),
}
ALL_TASKS: tuple[str, ...] = tuple(dict.fromkeys(t for tasks in TASKS_BY_KIND.values() for t in tasks))
CHAT_LOSS = ("all", "last")

Made = tuple[list[dict], dict[str, str]]


def example(
    example_id: str,
    group: str,
    task: str,
    label: str,
    system: str,
    user: str,
    answer: str,
    extra: dict | None = None,
    history: list[dict] | None = None,
) -> dict:
    """One prompt/completion example (TRL's conversational format: completion-only loss)."""
    prompt = [{"role": "system", "content": system}, *(history or []), {"role": "user", "content": user}]
    return {
        "id": example_id,
        "group": group,
        "task": task,
        "label": label,
        "system": system,
        "user": user,
        "answer": answer,
        "prompt": prompt,
        "completion": [{"role": "assistant", "content": answer}],
        **(extra or {}),
    }


class Context:
    """What every maker needs from data config, computed once per build; `index` (tuneloop.retrieval.Index)
    grounds the tasks retrieval.tasks names with its top `retrieval.k` passages."""

    def __init__(
        self,
        data: dict[str, Any],
        retrieval: dict[str, Any] | None = None,
        index=None,
        history: CustomerHistory | None = None,
    ):
        self.contract = Contract.from_config(data, retrieval)
        self.index = index
        self.history = history or CustomerHistory([])  # the customers' tickets, for returning customers
        self.k = self.contract.k
        self.labels = list(data.get("labels") or [])
        self.system = data["system_prompt"]
        self.max_listed = int(data.get("max_listed_labels", synth.MAX_LISTED_LABELS))
        self.chat_loss = data.get("chat_loss", "all")
        if self.chat_loss not in CHAT_LOSS:
            raise ValueError(f"data.chat_loss: {self.chat_loss!r} is not one of {CHAT_LOSS}")
        self.out_of_scope = data.get("out_of_scope_label") or None
        if self.out_of_scope in self.labels:
            raise ValueError(
                f"data.out_of_scope_label {self.out_of_scope!r} is also one of data.labels: it must "
                "name the answer for queries that fit none of them"
            )
        # the labels a classify answer may name: the categories, then the out-of-scope answer
        self.choices = self.labels + ([self.out_of_scope] if self.out_of_scope and self.labels else [])

    def passages(self, task: str, query: str):
        """The passages a grounded task's prompt carries; None for a task that is not grounded."""
        if self.index is None or not self.contract.grounded(task):
            return None
        return self.index.search(query, self.k)


def _classify(ctx: Context, record_id: str, group: str, label: Any, text: str) -> Made:
    if label not in ctx.choices:
        return [], {"classify": "no_category"}
    oos = {"oos": ctx.choices.index(ctx.out_of_scope)} if ctx.out_of_scope in ctx.choices else {}
    return [
        example(
            f"{record_id}:classify",
            group,
            "classify",
            label,
            ctx.system,
            ctx.contract.classify(text),
            label,
            {"choices": ctx.choices, "gold": ctx.choices.index(label), **oos},
        )
    ], {}


def ticket_examples(ticket: dict, tasks: list[str], ctx: Context) -> Made:
    out, skipped = [], {}
    label = ticket.get("category") or "uncategorized"
    group = ctx.history.group(ticket)  # a returning customer's tickets are one split group (data/history.py)
    for task in tasks:
        if task == "classify":
            made, why = _classify(ctx, ticket["id"], group, ticket.get("category"), ticket_text(ticket))
            out += [{**e, "record": ticket["id"]} for e in made] if group != ticket["id"] else made
            skipped.update(why)
            continue
        if task == "reply":
            if not (ticket.get("agent_reply") or "").strip():
                skipped[task] = "no_agent_reply"
                continue
            passages = ctx.passages("reply", ticket_text(ticket))
            shown = ctx.contract.shown_history(ctx.history.earlier(ticket))
            user = ctx.contract.reply(ticket_text(ticket), passages, shown)
            answer, extra = ticket["agent_reply"], _reply_extra(ctx, ticket, passages, shown)
        elif task == "priority":
            if ticket.get("priority") not in synth.PRIORITIES:
                skipped[task] = "no_priority"
                continue
            user = ctx.contract.priority(ticket_text(ticket))
            answer = ticket["priority"]
            extra = {"choices": list(synth.PRIORITIES), "gold": synth.PRIORITIES.index(answer)}
        else:  # summary
            user = ctx.contract.summary(synth.thread_text(ticket))
            answer, extra = synth.ticket_summary(ticket), {}
        if group != ticket["id"]:
            extra = {**extra, "record": ticket["id"]}  # the ticket the example came from (group is its customer's)
        out.append(example(f"{ticket['id']}:{task}", group, task, label, ctx.system, user, answer, extra))
    return out, skipped


def _reply_extra(ctx: Context, ticket: dict, passages, shown) -> dict:
    """The reply example's passage ids, and with a returning customer's history the earlier tickets shown
    and the facts of theirs the answer uses (`history_facts`: what tuneloop_reply_history scores)."""
    extra: dict = {"passages": [p.id for p in passages]} if passages is not None else {}
    if shown:
        extra["history"] = [t.ticket_id for t in shown]
        extra["history_facts"] = ctx.history.facts(ticket, shown, ctx.contract.history_words)
    return extra


def transcript_examples(call: dict, tasks: list[str], ctx: Context) -> Made:
    """A call as a ticket: the customer's first turn is the message, the agent's answer to it the reply."""
    customer, agent = thread_fields(call.get("turns") or [])
    if not customer.strip():
        return [], {t: "no_customer_turn" for t in tasks}
    ticket = {
        "id": call["id"],
        "subject": "",
        "turns": call.get("turns"),
        "customer_message": customer,
        "agent_reply": agent,
        "category": call.get("category"),
        "status": None,
    }
    return ticket_examples(ticket, tasks, ctx)


def labelled_examples(record: dict, tasks: list[str], ctx: Context) -> Made:
    return _classify(ctx, record["id"], record["id"], record.get("label"), record["text"].strip())


def instruction_examples(record: dict, tasks: list[str], ctx: Context) -> Made:
    return [
        example(
            f"{record['id']}:instruction",
            record["id"],
            "instruction",
            "instruction",
            ctx.system,
            record["prompt"],
            record["completion"],
        )
    ], {}


def chat_examples(record: dict, tasks: list[str], ctx: Context) -> Made:
    """Each assistant turn once, with the conversation before it as the prompt (data.chat_loss: all), or
    the last assistant turn only (last). The record's own system message replaces data.system_prompt."""
    messages = [m for m in record.get("messages") or [] if (m.get("content") or "").strip()]
    system = next((m["content"] for m in messages if m["role"] == "system"), ctx.system)
    turns = [m for m in messages if m["role"] != "system"]
    answers = [i for i, m in enumerate(turns) if m["role"] == "assistant" and i > 0 and turns[i - 1]["role"] == "user"]
    if not answers:
        return [], {"chat": "no_assistant_turn_after_user"}
    if ctx.chat_loss == "last":
        answers = answers[-1:]
    out = []
    for n, i in enumerate(answers):
        history = [{"role": m["role"], "content": m["content"]} for m in turns[: i - 1]]
        suffix = "" if len(answers) == 1 else f"#{n + 1}"
        out.append(
            example(
                f"{record['id']}:chat{suffix}",
                record["id"],
                "chat",
                "chat",
                system,
                turns[i - 1]["content"],
                turns[i]["content"],
                history=history,
            )
        )
    return out, {}


def kb_examples(chunk: dict, tasks: list[str], ctx: Context) -> list[dict]:
    """The KB tasks' examples for one chunk (a task is skipped where the chunk gives it nothing).

    kb_qa is closed book (the question alone) unless retrieval grounds it: then the prompt carries the
    passages retrieved for the question and the answer ends with "Source: <the chunk's article>";
    `gold` is the chunk's id, `retrieved` whether the index found it (recall, in the build report)."""
    system = ctx.system
    title, section, text = chunk["title"], chunk["section"], chunk["text"]
    heading = section.split(" > ")[-1]
    content = f"Article: {title}\nSection: {section}" + synth.SEPARATOR + text
    facts = synth.facts_of(text)
    out = []
    for task in tasks:
        extra: dict = {}
        if task == "kb_summarize":
            user = "Summarize this help-center section in one or two sentences." + synth.SEPARATOR + content
            answer = synth.kb_summary(text)
        elif task == "kb_facts":
            user = "List the key facts and steps of this help-center section, one per line." + synth.SEPARATOR + content
            answer = synth.kb_facts_answer(text)
        elif task == "kb_rephrase":
            answer = synth.kb_rephrase_answer(heading, text)
            # grounded: a customer's question as a ticket, answered from the retrieved passages in the reply
            # prompt (what /v1/support/respond asks): an ordinary question gets a helpful answer
            question = synth.heading_question(heading, title, text).split(": ", 1)[-1]
            passages = ctx.passages("reply", question)
            if passages is None:
                user = (
                    "Using this help-center section, write a short, friendly answer for a customer who asks about "
                    f"{synth.lower_first(heading, text)}." + synth.SEPARATOR + content
                )
            else:
                user = ctx.contract.reply(question, passages)
                extra = {"passages": [p.id for p in passages], "question": question}
        else:  # kb_qa
            if not facts:
                continue
            question = synth.heading_question(heading, title, text)
            answer, extra = synth.kb_qa_answer(text, facts), {"facts": facts, "question": question}
            passages = ctx.passages("kb_qa", question)
            if passages is None:
                user = question
            else:
                ids = [p.id for p in passages]
                user = ctx.contract.kb_answer(question, passages)
                answer += f"\nSource: {title}"
                extra.update(passages=ids, gold=chunk["id"], retrieved=chunk["id"] in ids)
        if answer.strip():
            out.append(example(f"{chunk['id']}:{task}", chunk["doc_id"], task, "kb", system, user, answer, extra))
    return out


def policy_examples(record: dict, tasks: list[str], ctx: Context) -> Made:
    """The company's policy (conf/policy, in `record["policy"]`): `safety` examples, each its own group and
    `train_only` (split keeps them out of val/test: the probes measure safety), and with
    data.out_of_scope_label `classify` examples of queries no label fits (split like any other label)."""
    out, skipped = [], {}
    policy = record["policy"]
    for task in tasks:
        if task == "safety":
            pairs = company_policy.safety_pairs(policy)
            counters: dict[str, int] = {}
            for family, prompt, answer in pairs:
                counters[family] = counters.get(family, 0) + 1
                example_id = f"{record['id']}:safety-{family}-{counters[family]:03d}"
                out.append(
                    example(
                        example_id,
                        example_id,
                        "safety",
                        "safety",
                        ctx.system,
                        prompt,
                        answer,
                        {"family": family, "train_only": True},
                    )
                )
            if not pairs:
                skipped[task] = "no_safety_example (policy.examples_per_family: 0)"
        elif task == "classify":
            if not ctx.out_of_scope or not ctx.labels:
                skipped[task] = "no_out_of_scope_label (data.out_of_scope_label)"
                continue
            queries = company_policy.out_of_scope_queries(policy)
            for n, query in enumerate(queries, 1):
                out += _classify(
                    ctx, f"{record['id']}:oos-{n:03d}", f"{record['id']}:oos-{n:03d}", ctx.out_of_scope, query
                )[0]
            if not queries:
                skipped[task] = "no_out_of_scope_query (policy.out_of_scope)"
    return out, skipped


MAKERS = {
    "ticket": ticket_examples,
    "transcript": transcript_examples,
    "labelled_text": labelled_examples,
    "instruction": instruction_examples,
    "chat": chat_examples,
    "policy": policy_examples,
}
