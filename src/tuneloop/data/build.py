"""Stage `build`: prepared records -> training examples in chat (prompt/completion) format.

    tuneloop build       # data/prepared/records.jsonl -> data/examples.jsonl, reports/data/build.{json,md}

Every kind of record makes the examples fit for it (tuneloop.data.tasks has the table): tickets and
call transcripts the ticket tasks (classify when labelled, reply, priority, summary), classification
rows classify, instruction pairs themselves, chats one example per assistant turn (or the last:
data.chat_loss), KB chunks the kb_* tasks. `data.tasks` lists the tasks to build, or `auto` for every
task the data can make. Each example keeps `group` (the record or KB document id) so that `split`
never separates a record's examples; `label` is the category for classify and ticket tasks, "kb" for KB
tasks, the task name for instruction and chat, "safety" for the policy's safety examples (conf/policy:
refusals, PII declines, escalations; `train_only`, so split keeps them in training).

The report (reports/data/build.json, .md) says per kind and per task how many records went in, how many
examples came out and why a record made none (no_category, no_agent_reply, no task selected for its
kind, ...), with prompt lengths per task (words, and tokens with the base model's chat template when
models/base exists). It stops, before any training, on what cannot train: an unknown task, a label set
of one, a task asked for by name that no record can make, fewer usable examples than data.min_examples.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.data import synth
from tuneloop.data.history import CustomerHistory
from tuneloop.data.tasks import ALL_TASKS, MAKERS, TASKS_BY_KIND, Context, kb_examples
from tuneloop.io import read_jsonl, write_json, write_jsonl, write_text_atomic

log = logging.getLogger(__name__)

IN_FILE = paths.RECORDS_FILE
OUT_FILE = paths.EXAMPLES_FILE
REPORT_DIR = paths.DATA_REPORTS
BASE_DIR = paths.BASE_DIR


class BuildError(ValueError):
    """Nothing trainable, or a configuration that cannot train: raised before any model work."""


def wanted_tasks(data: dict[str, Any]) -> str | list[str]:
    """data.tasks as the build reads it: `auto`, or the list with `safety` added unless data.safety is false.
    A company that lists only its own tasks still trains the policy's refusals, PII declines and
    escalations: without them refusals fell from 0.750 to 0.000 on a classify-only intent dataset."""
    wanted = data.get("tasks") or "auto"
    safety = data.get("safety", True)
    if wanted == "auto":
        return "auto" if safety else [t for t in ALL_TASKS if t != "safety"]
    wanted = list(wanted)
    if safety and "safety" not in wanted:
        return [*wanted, "safety"]
    if not safety:
        return [t for t in wanted if t != "safety"]
    return wanted


def selected_tasks(data: dict[str, Any], kinds: set[str]) -> dict[str, list[str]]:
    """kind -> the tasks to build for it, in data.tasks order (`auto`: every task the kind can make)."""
    wanted = wanted_tasks(data)
    if wanted != "auto":
        unknown = [t for t in wanted if t not in ALL_TASKS]
        if unknown:
            raise BuildError(f"data.tasks: unknown task {unknown[0]!r} (known: {', '.join(ALL_TASKS)}, or `auto`)")
    labels = list(data.get("labels") or [])
    out = {}
    for kind in sorted(kinds):
        possible = TASKS_BY_KIND.get(kind, ())
        tasks = [t for t in possible if wanted == "auto" or t in wanted]
        if wanted != "auto":
            tasks.sort(key=list(wanted).index)
        if wanted == "auto" and not labels:
            tasks = [t for t in tasks if t != "classify"]
        out[kind] = tasks
    if any("classify" in t for t in out.values()) and len(labels) == 1:
        raise BuildError(
            f"data.labels has one label ({labels[0]!r}): classification needs at least two. Add the "
            "other labels, or leave classify out of data.tasks"
        )
    return out


def build_examples(records: list[dict], data: dict[str, Any], policy: dict[str, Any] | None = None) -> list[dict]:
    return build(records, data, policy)[0]


def policy_record(data: dict[str, Any], policy: dict[str, Any] | None) -> dict | None:
    """The company's policy as one record of kind `policy`, when a selected task uses it: `safety`, or
    `classify` with data.out_of_scope_label (None without a policy or such a task)."""
    if not policy:
        return None
    wanted = wanted_tasks(data)
    uses = wanted == "auto" or "safety" in wanted or ("classify" in wanted and data.get("out_of_scope_label"))
    return {"id": f"policy:{policy.get('name') or 'company'}", "kind": "policy", "policy": policy} if uses else None


def build(
    records: list[dict],
    data: dict[str, Any],
    policy: dict[str, Any] | None = None,
    retrieval: dict[str, Any] | None = None,
    index=None,
) -> tuple[list[dict], dict]:
    """(examples, report): every record's examples, and per kind/task what went in, came out, and why not.
    With `policy` (conf/policy), its record makes the safety and out-of-scope examples (tasks.py); with
    `index` (tuneloop.retrieval.Index), the tasks `retrieval.tasks` names carry retrieved passages."""
    ctx = Context(data, retrieval, index, CustomerHistory(records))
    extra = policy_record(data, policy)
    records = records + [extra] if extra else records
    kinds = {r["kind"] for r in records}
    tasks_for = selected_tasks(data, kinds)
    examples: list[dict] = []
    per_kind: dict[str, Counter] = {k: Counter() for k in sorted(kinds)}
    not_built: dict[str, Counter] = {k: Counter() for k in sorted(kinds)}
    for record in records:
        kind, tasks = record["kind"], tasks_for.get(record["kind"], [])
        counts = per_kind[kind]
        counts["records"] += 1
        if not tasks:
            not_built[kind]["no task selected for this kind (data.tasks)"] += 1
            continue
        if kind == "kb":
            made = [e for chunk in synth.split_article(record) for e in kb_examples(chunk, tasks, ctx)]
            skipped = {} if made else {"kb": "no_kb_example"}
        elif kind in MAKERS:
            made, skipped = MAKERS[kind](record, tasks, ctx)
        else:
            not_built[kind][f"unknown kind {kind!r}"] += 1
            continue
        counts["with_examples"] += bool(made)
        counts.update(f"task:{e['task']}" for e in made)
        for task, why in skipped.items():
            not_built[kind][f"{task}: {why}"] += 1
        examples += made
    report = _report(examples, per_kind, not_built, tasks_for, data)
    report["retrieval"] = retrieval_report(examples, ctx)
    report["history"] = history_report(examples, ctx)
    return examples, report


def history_report(examples: list[dict], ctx: Context) -> dict[str, Any]:
    """How many customers return, and how many reply prompts carry earlier tickets (and use a fact of theirs)."""
    returning = {c: ts for c, ts in ctx.history.tickets.items() if len(ts) > 1}
    with_history = [e for e in examples if e["task"] == "reply" and e.get("history")]
    return {
        "returning_customers": len(returning),
        "their_tickets": sum(len(ts) for ts in returning.values()),
        "reply_examples_with_history": len(with_history),
        "of_which_use_a_history_fact": sum(bool(e.get("history_facts")) for e in with_history),
        "max_tickets": ctx.contract.history_tickets,
    }


def retrieval_report(examples: list[dict], ctx: Context) -> dict[str, Any]:
    """Which tasks carry passages, and recall@k of the index on the kb_qa questions (the gold chunk
    among the passages): a KB answer that misses its fact says whether retrieval or the model failed."""
    if ctx.index is None:
        return {"enabled": False, "note": "no passages in any prompt (retrieval.enabled false, or no KB to index)"}
    qa = [e for e in examples if e["task"] == "kb_qa" and "gold" in e]
    grounded = Counter(e["task"] for e in examples if "passages" in e)
    empty = Counter(e["task"] for e in examples if "passages" in e and not e["passages"])
    return {
        "enabled": True,
        "k": ctx.k,
        "tasks": list(ctx.contract.grounded_tasks),
        "examples_with_passages": dict(sorted(grounded.items())),
        "examples_with_no_passage_found": dict(sorted(empty.items())),
        "kb_qa_recall_at_k": round(sum(e["retrieved"] for e in qa) / len(qa), 4) if qa else None,
        "kb_qa_questions": len(qa),
    }


def _report(examples, per_kind, not_built, tasks_for, data) -> dict:
    by_task = Counter(e["task"] for e in examples)
    kinds = {
        k: {
            "records": c["records"],
            "with_examples": c["with_examples"],
            "examples": {t.removeprefix("task:"): n for t, n in sorted(c.items()) if t.startswith("task:")},
            "tasks": tasks_for.get(k, []),
            "not_built": dict(sorted(not_built[k].items())),
        }
        for k, c in per_kind.items()
    }
    words = {t: [len(e["user"].split()) for e in examples if e["task"] == t] for t in sorted(by_task)}
    return {
        "examples": len(examples),
        "by_task": dict(sorted(by_task.items())),
        "kinds": kinds,
        "prompt_words": {t: _spread(v) for t, v in words.items()},
        "warnings": [],
    }


def _spread(values: list[int]) -> dict:
    ordered = sorted(values)
    return (
        {
            "median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1],
        }
        if ordered
        else {}
    )


def check_trainable(examples: list[dict], report: dict, data: dict[str, Any]) -> list[str]:
    """Raise BuildError on what cannot train; return warnings for what trains but loses records."""
    wanted = data.get("tasks") or "auto"
    present = {k for k in report["kinds"]}
    if wanted != "auto":
        for task in wanted:
            if report["by_task"].get(task):
                continue
            makers = [k for k, ts in TASKS_BY_KIND.items() if task in ts]
            reasons = {k: r for k, v in report["kinds"].items() for r in v["not_built"] if r.startswith(task)}
            raise BuildError(
                f"data.tasks asks for {task!r} but no record made one: it needs records of kind "
                f"{' or '.join(makers)}; the data has {sorted(present) or 'no records'}"
                + (f" ({'; '.join(f'{k}: {r}' for k, r in reasons.items())})" if reasons else "")
                + f". Remove {task!r} from data.tasks (or use `auto`), or add such records"
            )
    minimum = int(data.get("min_examples", 10))
    if len(examples) < minimum:
        raise BuildError(
            f"only {len(examples)} usable training examples (need at least {minimum}, data.min_examples); "
            f"the per-kind reasons are in reports/data/build.md"
        )
    warnings = []
    for kind, entry in report["kinds"].items():
        lost = entry["records"] - entry["with_examples"]
        if lost:
            reasons = ", ".join(f"{r} ({n})" for r, n in entry["not_built"].items())
            warnings.append(f"{lost} of {entry['records']} {kind} records made no example: {reasons}")
    return warnings


def safety_cost(report: dict, data: dict[str, Any], total: int) -> dict[str, Any]:
    """What the policy's safety examples cost: their count and share of the examples (so of the steps,
    before the preset's per-task caps), and whether they came by default (data.safety) or by data.tasks."""
    n = int(report["by_task"].get("safety", 0))
    listed = data.get("tasks") in (None, "auto") or "safety" in (data.get("tasks") or [])
    how = "listed in data.tasks" if listed else "added by default (data.safety: true)"
    if not data.get("safety", True):
        note = (
            "safety examples: off (data.safety: false): the gate's refusal, PII and escalation rules will likely fail"
        )
    else:
        note = f"safety examples: {n} of {total} ({n / max(total, 1):.1%} of the examples and about that of the steps), {how}"
    return {"examples": n, "share": round(n / max(total, 1), 4), "by_default": not listed, "note": note}


def token_lengths(examples: list[dict], base_dir: Path) -> dict | None:
    """Prompt and completion tokens per task with the base model's chat template (None without a base)."""
    if not (base_dir / "tokenizer_config.json").exists():
        return None
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    prompt: dict[str, list[int]] = {}
    completion: dict[str, list[int]] = {}
    for e in examples:
        ids = tokenizer.apply_chat_template(e["prompt"], add_generation_prompt=True, tokenize=True)
        prompt.setdefault(e["task"], []).append(len(ids["input_ids"] if hasattr(ids, "keys") else ids))
        completion.setdefault(e["task"], []).append(len(tokenizer(e["answer"], add_special_tokens=False)["input_ids"]))
    return {
        "prompt": {t: _spread(v) for t, v in sorted(prompt.items())},
        "completion": {t: _spread(v) for t, v in sorted(completion.items())},
    }


def run(
    params: dict[str, Any],
    in_file: str | Path = IN_FILE,
    out_file: str | Path = OUT_FILE,
    report_dir: str | Path = REPORT_DIR,
    base_dir: str | Path = BASE_DIR,
    index_dir: str | Path = paths.INDEX_DIR,
) -> list[dict]:
    data = params["data"]
    retrieval = params.get("retrieval") or {}
    index = None
    if retrieval.get("enabled") and retrieval.get("tasks"):
        from tuneloop.retrieval import load_or_empty

        index = load_or_empty(index_dir)
    examples, report = build(read_jsonl(in_file), data, params.get("policy"), retrieval, index)
    report["warnings"] = check_trainable(examples, report, data)
    report["safety_mix"] = safety_cost(report, data, len(examples))
    log.info("build: %s", report["safety_mix"]["note"])
    for warning in report["warnings"]:
        log.warning("build: %s", warning)
    report["tokens"] = token_lengths(examples, Path(base_dir))
    write_jsonl(out_file, examples)
    report_dir = Path(report_dir)
    write_json(report_dir / "build.json", report)
    write_text_atomic(report_dir / "build.md", render_markdown(report))
    log.info("build: %d examples %s", len(examples), report["by_task"])
    return examples


def render_markdown(report: dict) -> str:
    lines = [
        "# Training examples (build)",
        "",
        f"{report['examples']} examples. "
        + ((report.get("safety_mix") or {}).get("note", "").capitalize() + "." if report.get("safety_mix") else ""),
        "",
        "| kind | records | made examples | tasks | examples by task | not built (reason: records) |",
        "|---|---:|---:|---|---|---|",
    ]
    for kind, e in report["kinds"].items():
        made = ", ".join(f"{t} {n}" for t, n in e["examples"].items()) or "–"
        why = "; ".join(f"{r}: {n}" for r, n in e["not_built"].items()) or "–"
        lines.append(
            f"| {kind} | {e['records']} | {e['with_examples']} | {', '.join(e['tasks']) or '–'} | {made} | {why} |"
        )
    tokens = report.get("tokens") or {}
    lines += [
        "",
        "| task | examples | prompt words (median / p95) | prompt tokens (median / p95) "
        "| completion tokens (median / p95) |",
        "|---|---:|---:|---:|---:|",
    ]
    for task, n in report["by_task"].items():
        w = report["prompt_words"].get(task, {})
        p, c = (tokens.get("prompt") or {}).get(task, {}), (tokens.get("completion") or {}).get(task, {})
        lines.append(
            f"| {task} | {n} | {w.get('median', '–')} / {w.get('p95', '–')} | {p.get('median', '–')} / "
            f"{p.get('p95', '–')} | {c.get('median', '–')} / {c.get('p95', '–')} |"
        )
    if not tokens:
        lines += ["", "Token counts need the base model's tokenizer (models/base): not available in this run."]
    r = report.get("retrieval") or {}
    if r.get("enabled"):
        lines += [
            "",
            f"Retrieval: the top {r['k']} help-center passages in the prompts of {', '.join(r['tasks'])} "
            f"({', '.join(f'{t} {n}' for t, n in r['examples_with_passages'].items()) or 'none'}; with no passage "
            f"found: {', '.join(f'{t} {n}' for t, n in r['examples_with_no_passage_found'].items()) or 'none'}). "
            f"Recall@{r['k']} on the {r['kb_qa_questions']} kb_qa questions: {r['kb_qa_recall_at_k']}.",
        ]
    elif r:
        lines += ["", f"Retrieval: {r['note']}."]
    h = report.get("history") or {}
    if h:
        lines += [
            "",
            f"Returning customers: {h['returning_customers']} ({h['their_tickets']} tickets); "
            f"{h['reply_examples_with_history']} reply prompts carry up to {h['max_tickets']} earlier tickets, "
            f"{h['of_which_use_a_history_fact']} of whose answers use a fact only the earlier ticket gives.",
        ]
    if report["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in report["warnings"]]
    return "\n".join(lines) + "\n"
