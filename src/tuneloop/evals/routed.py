"""The routed pipeline, scored: what /v1/support/respond decides before any reply is generated.

    scores, samples, calibration = score_routed("candidate", base_dir, adapter_dir, params, exclude=ids)

Three tasks, each scored with tuneloop.route's LabelScorer and Router on the prompt contract's classify
prompt, exactly as the server routes (same code, same prompt, same threshold rule):
  tuneloop_route_classify    the test split's classify items: acc (escalated = answered out of scope),
                             in-scope accuracy, out-of-scope recall, and the unrouted in-scope accuracy
                             (argmax, no threshold) the routing costs against
  tuneloop_route_escalation  the escalation probes (evals/probes/escalation.jsonl): pass = escalated;
                             `critical` = the share of the critical ones escalated (the gate wants all)
  tuneloop_route_helpful     the helpful probes (evals/probes/helpful.jsonl, ordinary questions):
                             pass = not escalated (an over-escalation is an over-refusal)
`retrieval_recall` gives the help-center index's recall@k on the KB questions the harness asks, beside
their fact match. The confidence threshold is calibrated per model on the validation split's classify items
(route.calibrate) and reported beside the scores. Samples have the harness's shape (id, task, model,
input, target, output, metric values), so deltas, bootstrap intervals, flips and critical flips come
from the same code as lm-eval's tasks.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.evals import metrics, suite
from tuneloop.io import read_jsonl
from tuneloop.prompts import Contract, source_text
from tuneloop.route import LabelScorer, Route, Router, calibrate

log = logging.getLogger(__name__)

TASKS = ("tuneloop_route_classify", "tuneloop_route_escalation", "tuneloop_route_helpful")


def _output(route: Route, router: Router) -> str:
    decided = f"[{route.label or '-'} {route.confidence if route.confidence is not None else '-'}: {route.why}] "
    return decided + (router.answer(route) if route.escalate else "(answered by the model)")


def load_scorer(base_dir: Path, adapter_dir: Path | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    full_model = paths.is_full_model(adapter_dir)  # method=full: evaluate.load_lm reads it the same way
    model = AutoModelForCausalLM.from_pretrained(adapter_dir if full_model else base_dir, dtype=torch.float32).eval()
    if adapter_dir is not None and not full_model:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir)).eval()
    return LabelScorer(model, tokenizer)


def score_routed(
    name: str,
    base_dir: Path,
    adapter_dir: Path | None,
    params: dict[str, Any],
    test_file: Path = paths.TEST_SPLIT,
    val_file: Path = paths.VAL_SPLIT,
    probe_dir: Path = paths.PROBE_DIR,
    exclude: set[str] | frozenset = frozenset(),
) -> tuple[dict[str, dict], list[dict], dict[str, Any]]:
    contract = Contract.from_params(params)
    if not contract.labels:
        return {}, [], {"skipped": "no data.labels: nothing to route on"}
    start = time.perf_counter()
    scorer = load_scorer(base_dir, adapter_dir)
    scorer.share_prefix(contract)
    choices = contract.choices

    def probs(text: str) -> list[float]:
        return scorer.probs(contract.messages(contract.classify(text)), choices)

    val = [e for e in read_jsonl(val_file) if e["task"] == "classify"] if Path(val_file).exists() else []
    val_probs = [probs(source_text(e["user"])) for e in val]
    calibration = calibrate(val_probs, [int(e["gold"]) for e in val], contract, params.get("route"))
    router = Router(contract, params.get("route"), params.get("policy"), calibration["threshold"])
    oos = choices.index(contract.out_of_scope) if contract.out_of_scope in choices else -1
    scores: dict[str, dict] = {}
    samples: list[dict] = []

    test = [e for e in read_jsonl(test_file) if e["task"] == "classify" and e["id"] not in exclude]
    if test:
        rows = []
        for e in test:
            text = source_text(e["user"])
            p = probs(text)
            route = router.decide(text, p)
            best = max(range(len(p)), key=lambda i: (p[i], -i))
            pred = oos if route.escalate and oos >= 0 else (choices.index(route.label) if route.label else -1)
            gold = int(e["gold"])
            unit = [gold, pred, oos]
            rows.append((unit, [gold, best, oos]))
            samples.append(
                {
                    "id": e["id"],
                    "task": TASKS[0],
                    "model": name,
                    "input": e["user"],
                    "target": e["answer"],
                    "output": _output(route, router),
                    "acc": float(pred == gold),
                    "in_scope_acc": unit,
                    "oos_recall": unit,
                }
            )
        units = [tuple(u) for u, _ in rows]
        scores[TASKS[0]] = {
            "acc": sum(u[0] == u[1] for u in units) / len(units),
            "in_scope_acc": metrics.in_scope_acc(units),
            "oos_recall": metrics.oos_recall(units),
            "unrouted_in_scope_acc": metrics.in_scope_acc([tuple(b) for _, b in rows]),
            "n": len(units),
        }
    for task, family, passes in ((TASKS[1], "escalation", True), (TASKS[2], "helpful", False)):
        probe_file = Path(probe_dir) / f"{family}.jsonl"
        if not probe_file.exists():
            continue
        items = read_jsonl(probe_file)
        results = []
        for item in items:
            route = router.decide(item["prompt"], probs(item["prompt"]))
            ok = route.escalate is passes
            results.append((item, ok))
            samples.append(
                {
                    "id": item["id"],
                    "task": task,
                    "model": name,
                    "input": item["prompt"],
                    "target": "escalate" if passes else "answer",
                    "output": _output(route, router),
                    "pass": float(ok),
                }
            )
        entry = {"pass": sum(ok for _, ok in results) / len(results), "n": len(results)}
        critical = [ok for item, ok in results if item.get("critical") is True]
        if critical:
            entry["critical"] = sum(critical) / len(critical)
        scores[task] = entry
    log.info(  # the seconds go to the log only: metrics/eval.json must repeat byte for byte
        "evaluate: %s routed in %.0f s: threshold %s, %s",
        name,
        time.perf_counter() - start,
        calibration["threshold"],
        _brief(scores),
    )
    return scores, samples, calibration


def retrieval_recall(params: dict[str, Any], test_file: Path, index_dir: Path) -> dict[str, Any]:
    """Recall@k of the help-center index on the KB questions the harness asks (the test split's kb_qa
    items, the frozen suite's qa cases): beside fact match, it says whether a miss is retrieval's or the model's."""
    contract = Contract.from_params(params)
    if not contract.grounded("kb_qa"):
        return {"skipped": "kb_qa is not grounded (retrieval.tasks)"}
    from tuneloop.retrieval import load_or_empty, recall_at_k

    index = load_or_empty(index_dir) if (index_dir / "index.json").exists() else None
    if index is None:
        return {"skipped": f"no help-center index with chunks at {index_dir}"}
    out: dict[str, Any] = {"k": contract.k}
    test = [e for e in read_jsonl(test_file) if e["task"] == "kb_qa" and e.get("gold")] if test_file.exists() else []
    cases = (
        [c for c in read_jsonl(suite.REGRESSION_FILE) if c.get("kind") == "qa"]
        if suite.REGRESSION_FILE.exists()
        else []
    )
    doc_of = {c["id"]: c["doc_id"] for c in index.chunks}

    def gold_of(source: str) -> tuple[str, bool]:
        # a case drawn by suite init names its example (`<chunk id>:kb_qa`); a hand-written one its article
        chunk = source.removesuffix(":kb_qa")
        return (chunk, False) if "#" in chunk else ("kb:" + chunk.removeprefix("kb:"), True)

    for name, items in (
        ("test_kb_qa", [(e["question"], (e["gold"], False)) for e in test]),
        ("regression_qa", [(c["question"], gold_of(str(c.get("source", "")))) for c in cases]),
    ):
        hits = [
            [doc_of.get(p.id, p.id) if by_doc else p.id for p in index.search(q, contract.k)]
            for q, (_, by_doc) in items
        ]
        out[name] = {"n": len(items), "recall_at_k": recall_at_k(hits, [g for _, (g, _) in items], contract.k)}
        out[name]["unit"] = "article" if any(by_doc for _, (_, by_doc) in items) else "chunk"
    return out


def _brief(scores: dict[str, dict]) -> dict:
    return {t: {k: round(v, 3) for k, v in s.items() if isinstance(v, float)} for t, s in scores.items()}
