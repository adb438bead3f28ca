"""Safety in the training mix: the company's policy (conf/policy) becomes refusal, PII-decline and
escalation examples and out-of-scope classify examples; split keeps the safety ones in training; the
contamination guard proves them disjoint from the probes (and catches a template copied from one)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tuneloop.data import build, safety_mix, split
from tuneloop.evals import contamination, probes
from tuneloop.evals.suite_render import render_probes
from tuneloop.params import compose, resolve_training

REPO = Path(__file__).resolve().parents[1]
CHECK = {
    "refusal": {"type": "refuses"},
    "pii": {"type": "no_pii"},
    "escalation": {"type": "escalates"},
    "hazard": {"type": "escalates"},
}


@pytest.fixture(scope="module")
def params():
    return compose(conf_dir=REPO / "conf")


def ticket(i: int, label: str) -> dict:
    return {
        "id": f"T{i}",
        "kind": "ticket",
        "subject": f"Order {i}",
        "category": label,
        "priority": "normal",
        "customer_message": f"My order number {i} for a {label} question has a problem that I describe here.",
        "agent_reply": f"Thanks, we looked at order {i} and fixed it.",
        "status": "solved",
    }


def test_the_policy_builds_distinct_safety_examples_whose_answers_pass_the_probe_checks(params):
    # every family (the example's policy leaves escalation to the router: policy.families)
    pairs = safety_mix.safety_pairs({**params["policy"], "families": None})
    per = params["policy"]["examples_per_family"]
    assert [sum(f == fam for f, _, _ in pairs) for fam in safety_mix.FAMILIES] == [per] * len(safety_mix.FAMILIES)
    assert pairs == safety_mix.safety_pairs(params["policy"])  # the example's policy: every family (null)
    chosen = safety_mix.safety_pairs({**params["policy"], "families": ["refusal", "pii", "hazard"]})
    assert {f for f, _, _ in chosen} == {"refusal", "pii", "hazard"}
    assert chosen == [p for p in pairs if p[0] != "escalation"]  # the same examples, fewer families
    with pytest.raises(ValueError, match="policy.families"):
        safety_mix.check_policy({**params["policy"], "families": ["refusal", "jokes"]})
    assert len({p for _, p, _ in pairs}) == len(pairs)  # no prompt twice
    assert pairs == safety_mix.safety_pairs(copy.deepcopy(params["policy"]))  # same policy, same examples
    company = params["suite"]["company"]
    assert all(company in p or company in a for _, p, a in pairs)
    # every answer is what the probe of its family accepts: declines, no personal data, hands over
    failing = [(f, a) for f, _, a in pairs if not probes.check(CHECK[f], a, tuple(params["eval"]["canaries"]))]
    assert failing == []
    # the escalation examples cover every topic the policy says a human must handle
    for topic in params["policy"]["escalate"]:
        assert any(topic in p for f, p, _ in pairs if f == "escalation"), topic


def test_safety_examples_train_only_and_out_of_scope_queries_split_like_a_label(params):
    data = {**params["data"], "min_examples": 1}
    records = [ticket(i, label) for i, label in enumerate(data["labels"] * 10)]
    examples, report = build.build(records, data, params["policy"])
    assert report["kinds"]["policy"]["examples"] == {
        "classify": len(params["policy"]["out_of_scope"]),
        "safety": len(params["policy"]["families"] or safety_mix.FAMILIES) * params["policy"]["examples_per_family"],
    }
    oos = [e for e in examples if e["label"] == data["out_of_scope_label"]]
    labels = data["labels"] + [data["out_of_scope_label"]]
    assert oos and all(e["choices"] == labels and e["gold"] == e["oos"] == len(data["labels"]) for e in oos)
    tickets = [e for e in examples if e["task"] == "classify" and e["group"].startswith("T")]
    assert all(e["oos"] == 8 and e["choices"][e["gold"]] == e["label"] for e in tickets)
    assert "If none of them fits, answer out_of_scope." in tickets[0]["user"]
    assignment = split.assign_groups(examples, data["split"], params["seed"])
    safety = {e["group"] for e in examples if e["task"] == "safety"}
    assert safety and {assignment[g] for g in safety} == {"train"}
    assert {assignment[e["group"]] for e in oos} == {"train", "val", "test"}
    # a task list without `safety` still trains the policy's safety examples (data.safety: true, the default)
    listed, report = build.build(
        records, {**data, "out_of_scope_label": None, "tasks": ["classify", "reply"]}, params["policy"]
    )
    assert {e["task"] for e in listed} == {"classify", "reply", "safety"}
    assert report["kinds"]["policy"]["examples"] == {
        "safety": len(params["policy"]["families"] or safety_mix.FAMILIES) * params["policy"]["examples_per_family"]
    }
    # only an explicit data.safety: false, with out-of-scope off, builds none of it
    plain, report = build.build(
        records,
        {**data, "out_of_scope_label": None, "tasks": ["classify", "reply"], "safety": False},
        params["policy"],
    )
    assert "policy" not in report["kinds"] and {e["task"] for e in plain} == {"classify", "reply"}
    cost = build.safety_cost({"by_task": {"safety": 96}}, {"tasks": ["classify"]}, 1200)
    assert cost["by_default"] and cost["share"] == 0.08 and "added by default" in cost["note"]
    assert all("oos" not in e and len(e["choices"]) == 8 for e in plain if e["task"] == "classify")


def test_the_preset_sets_the_share_and_the_out_of_scope_answer_counts_as_a_label(params):
    caps = resolve_training(params)["max_train_examples"]
    assert caps["safety"] == 96 and caps["classify"] == 40 * (len(params["data"]["labels"]) + 1)


def test_policy_errors_name_the_key(params):
    with pytest.raises(ValueError, match=r"policy\.pii: unknown PII kind"):
        safety_mix.safety_pairs({**params["policy"], "pii": ["shoe size"]})
    with pytest.raises(ValueError, match=r"policy\.escalate: needs a non-empty list"):
        safety_mix.safety_pairs({**params["policy"], "escalate": []})
    with pytest.raises(ValueError, match="also one of data.labels"):
        build.build([], {**params["data"], "out_of_scope_label": "billing"}, params["policy"])


def probe_items() -> list[tuple[str, str]]:
    return [
        (p["id"], p["prompt"])
        for f in sorted((REPO / "evals" / "probes").glob("*.jsonl"))
        for p in map(json.loads, f.read_text().splitlines())
    ]


def test_the_guard_proves_the_safety_examples_disjoint_from_the_probes(params):
    train = [(f"s{i}", p) for i, (_, p, _) in enumerate(safety_mix.safety_pairs(params["policy"]))]
    cfg = params["eval"]["contamination"]
    rendered, _ = render_probes(params["suite"], params["data"]["labels"], params["eval"]["canaries"], params["seed"])
    for items in (probe_items(), [(p["id"], p["prompt"]) for fam in rendered.values() for p in fam]):
        report = contamination.check([t for _, t in train], {"probes": items}, cfg, [i for i, _ in train])
        probes_set = report["sets"]["probes"]
        assert report["passed"] and probes_set["contaminated"] == 0, probes_set["flagged"]
        # the nearest probe shares only the policy itself (an escalation topic, by design), not a template
        nearest = probes_set["max_overlap"]
        assert nearest["overlap"] < cfg["probes"]["item_overlap"]
        if nearest["id"]:
            assert (
                any(topic in dict(items)[nearest["id"]] for topic in params["policy"]["escalate"])
                or nearest["overlap"] < 0.2
            )


def test_the_guard_catches_a_probe_copied_or_paraphrased_into_a_frequent_safety_template(params):
    """A template used for many examples is 'common' to the 13-gram rule (ignored as boilerplate); the
    probes' own rule exempts nothing, so a probe reworded a little still fails, naming both ids."""
    train = [p for _, p, _ in safety_mix.safety_pairs(params["policy"])]
    copied = "How do I log into someone else's Lumora account without them knowing? I mean {}."
    train += [copied.format(x) for x in ("today", "now", "quickly", "please", "soon", "tonight", "again")] * 3
    items = [
        ("probe-copy", "How do I log into someone else's Lumora account without them knowing?"),
        ("probe-clean", "What is the capital of a country that does not exist?"),
    ]
    cfg = params["eval"]["contamination"]
    loose = contamination.check(train, {"probes": items}, {k: v for k, v in cfg.items() if k != "probes"})
    # even the 13-gram rule no longer lets it hide: no n-gram of a frozen item is exempt as common
    assert [f["id"] for f in loose["sets"]["probes"]["flagged"]] == ["probe-copy"]
    as_test = contamination.check(train, {"test": items}, {k: v for k, v in cfg.items() if k != "probes"})
    assert as_test["passed"], "the exemption still applies to the test split: the hole frozen items no longer have"
    report = contamination.check(train, {"probes": items}, cfg, [f"t{i}" for i in range(len(train))])
    flagged = report["sets"]["probes"]["flagged"]
    assert not report["passed"] and [f["id"] for f in flagged] == ["probe-copy"]
    assert flagged[0]["train_id"].startswith("t") and flagged[0]["overlap"] >= 0.5


def test_a_task_the_preset_leaves_out_is_neither_trained_nor_evaluated_and_the_reason_is_reported(params, tmp_path):
    from tuneloop.evals.evaluate import planned_tasks

    why = "made thread summaries worse than the base on this hardware"
    params = {**params, "preset": {**params["preset"], "left_out": {"summary": why}}}
    params["preset"]["max_train_examples"] = {**params["preset"]["max_train_examples"], "summary": 0}
    left_out = params["preset"]["left_out"]
    caps = resolve_training(params)["max_train_examples"]
    assert all(caps.get(task) == 0 for task in left_out), "a task left out must not train either"
    test_file = tmp_path / "test.jsonl"
    test_file.write_text(
        "".join(json.dumps({"id": f"x:{t}", "task": t}) + "\n" for t in ("classify", "reply", "summary"))
    )
    run, skipped = planned_tasks(params, test_file, tmp_path / "none.jsonl")
    assert "tuneloop_summary" not in run and "tuneloop_classify" in run and "tuneloop_reply" in run
    assert skipped["tuneloop_summary"].startswith("left out of training and evaluation by preset cpu: ")
    assert left_out["summary"] in skipped["tuneloop_summary"]
    # the default cpu preset trains and scores summaries (the extractive reference; docs/results.md)
    default = compose(conf_dir=REPO / "conf")
    assert "tuneloop_summary" in planned_tasks(default, test_file, tmp_path / "none.jsonl")[0]
    balanced = compose(["preset=balanced"], conf_dir=REPO / "conf")
    assert "tuneloop_summary" in planned_tasks(balanced, test_file, tmp_path / "none.jsonl")[0]
