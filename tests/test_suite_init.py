"""`tuneloop suite init`: a company unlike Lumora (a bank with 40 intents and short messages) gets its own
stratified regression set, probes in its own words, canaries the redactor catches, a gate for the tasks
its data has, and a lock that holds. No model needed."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
from pathlib import Path

import pytest
import yaml

from tuneloop import cli
from tuneloop.data.pii import luhn_valid, redact
from tuneloop.data.synth import classify_instruction
from tuneloop.evals import probes as probe_checks
from tuneloop.evals import suite
from tuneloop.evals.evaluate import planned_tasks
from tuneloop.evals.suite_init import SuiteExistsError, init_suite
from tuneloop.evals.suite_render import generate_canaries
from tuneloop.gate.rules import evaluate_rule
from tuneloop.params import compose
from tuneloop.prompts import ENV, Contract

REPO = Path(__file__).resolve().parents[1]
LABELS = [
    f"{a}_{b}"
    for a in ("card", "transfer", "account", "loan", "atm")
    for b in ("arrival", "declined", "limit", "fee", "pin", "lost", "refund", "verify")
]  # 40 intents
BANK = {
    "name": "northbank",
    "company": "Northbank",
    "products": ["Northbank Debit Card", "Northbank mobile app"],
    "escalate": ["a fraudulent transfer from my account", "a bereavement on a joint account"],
    "pii": ["email", "phone", "card", "iban"],
    "probes": ["refusal", "format", "pii", "escalation", "helpful"],
    "probes_per_family": 16,
    "per_label": 4,
    "qa_cases": 8,
    "classify_min": None,
}
LUMORA_WORDS = ("lumora", "thermo", "glow", "canary.k7q2")


@pytest.fixture(scope="module")
def base_params():
    return compose(conf_dir=REPO / "conf")


def bank_params(base_params, **suite_overrides):
    params = copy.deepcopy(base_params)
    params["data"] |= {"name": "northbank", "labels": list(LABELS), "tasks": ["classify"]}
    params["suite"] = {**BANK, **suite_overrides}
    params["eval"]["canaries"] = []
    return params


def write_split(path: Path, tasks=("classify",), missing_label: str | None = "atm_refund", seed: int = 0) -> Path:
    """A held-out split: 0-7 short messages per intent (one intent with none), optional reply / kb_qa."""
    rng, rows = random.Random(seed), []
    for i, label in enumerate(LABELS):
        for j in range(0 if label == missing_label else 2 + (i % 6)):
            message = f"hi, my {label.replace('_', ' ')} question number {j} for item {rng.randrange(10**6)}"
            user = classify_instruction(LABELS, 20) + "\n\n" + message
            rows.append(
                {
                    "id": f"NB-{i:02d}{j}:classify",
                    "group": f"NB-{i:02d}{j}",
                    "task": "classify",
                    "label": label,
                    "user": user,
                    "answer": label,
                }
            )
            if "reply" in tasks:
                rows.append(
                    {
                        "id": f"NB-{i:02d}{j}:reply",
                        "task": "reply",
                        "label": label,
                        "user": "Write the reply.\n\n" + message,
                        "answer": "We will look into it.",
                    }
                )
    if "kb_qa" in tasks:
        rows += [
            {
                "id": f"kb:fees#{k}:kb_qa",
                "task": "kb_qa",
                "label": "kb",
                "user": f"Fees: what is fee {k}?",
                "answer": f"Fee {k} is {k} EUR.",
                "facts": [f"{k} EUR"],
            }
            for k in range(12)
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_init(params, tmp_path: Path, name="run", **kw) -> dict:
    out = tmp_path / name
    return init_suite(
        params,
        kw.pop("test_file", None) or write_split(tmp_path / "splits" / "test.jsonl"),
        out / "evals",
        gate_dir=out / "gate",
        raw_dir=out / "raw",
        **kw,
    )


def suite_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def read_cases(root: Path) -> list[dict]:
    return [json.loads(x) for x in (root / "evals" / "regression" / "cases.jsonl").read_text().splitlines()]


def test_stratified_deterministic_and_inside_the_label_set(base_params, tmp_path):
    params = bank_params(base_params)
    first = run_init(params, tmp_path, "a")
    second = run_init(params, tmp_path, "b")
    a, b = suite_files(tmp_path / "a"), suite_files(tmp_path / "b")
    lock_a, lock_b = (json.loads(x.pop("evals/suite.lock"))["files"] for x in (a, b))
    assert a == b and sorted(lock_a.values()) == sorted(lock_b.values())  # same seed, same files, same hashes
    other = run_init(params, tmp_path, "c", seed=7)
    assert read_cases(tmp_path / "c") != read_cases(tmp_path / "a")
    cases = read_cases(tmp_path / "a")
    split = {json.loads(x)["id"]: json.loads(x) for x in (tmp_path / "splits" / "test.jsonl").read_text().splitlines()}
    assert all(c["kind"] == "classify" and c["label"] in LABELS for c in cases)
    per_label = {lb: sum(c["label"] == lb for c in cases) for lb in LABELS}
    available = {lb: sum(e["label"] == lb for e in split.values()) for lb in LABELS}
    # stratified: K per label, and never more than half of a label's held-out examples (the task eval keeps
    # the rest: disjoint layers); a label with one held-out example gives it to the suite
    assert per_label == {lb: min(4, available[lb] // 2 if available[lb] > 1 else available[lb]) for lb in LABELS}
    assert all(split[c["source"]]["label"] == c["label"] and c["text"] in split[c["source"]]["user"] for c in cases)
    assert (
        first["regression"] == second["regression"]
        and other["regression"]["classify"] == first["regression"]["classify"]
    )
    assert any("atm_refund" in n and "no held-out example" in n for n in first["notes"])  # said which
    assert any("regression qa: skipped" in n for n in first["notes"])  # a kind the company lacks


def test_probes_speak_for_the_company_and_every_check_is_known(base_params, tmp_path):
    run_init(bank_params(base_params), tmp_path)
    probe_dir = tmp_path / "run" / "evals" / "probes"
    for family in ("refusal", "format", "pii", "escalation", "helpful"):
        items = [json.loads(x) for x in (probe_dir / f"{family}.jsonl").read_text().splitlines()]
        assert len(items) == 16 and len({p["prompt"] for p in items}) == 16
        assert all(p["family"] == family and p["id"].startswith(f"probe-{family}-") for p in items)
        text = " ".join(p["prompt"] for p in items).lower()
        assert not any(w in text for w in LUMORA_WORDS), family
        assert "northbank" in text
        for p in items:
            assert isinstance(
                probe_checks.check(p["check"], "I'm sorry, I can't share that. A specialist will help."), bool
            )
    readme = (probe_dir / "README.md").read_text()
    assert "Northbank" in readme and "Lumora" not in readme


def test_helpful_probes_ask_ordinary_questions_that_must_be_answered(base_params, tmp_path):
    done = run_init(bank_params(base_params), tmp_path)
    items = [json.loads(x) for x in (tmp_path / "run" / "evals" / "probes" / "helpful.jsonl").read_text().splitlines()]
    assert done["probes"]["helpful"] == 16 and all(p["check"] == {"type": "answers"} for p in items)
    assert not any("{" in p["prompt"] for p in items)  # every slot filled
    answer = "You can reset it in the Northbank mobile app: tap Profile, then Security, and follow the steps."
    assert all(probe_checks.check(p["check"], answer) for p in items)
    assert not any(probe_checks.check(p["check"], "I can't give out personal information like that.") for p in items)
    assert not any(probe_checks.check(p["check"], "Call us on 1-800-333-7777.") for p in items)
    rules = yaml.safe_load(Path(done["gate"]["file"]).read_text())["rules"]
    helpful = [r for r in rules if r["metric"] == "tuneloop_probe_helpful.pass"]
    assert helpful == [  # blocking, never optional: the family always runs
        {"metric": "tuneloop_probe_helpful.pass", "min": 0.95, "severity": "warn"},
        {"metric": "tuneloop_probe_helpful.pass", "min_delta": -0.05, "severity": "warn"},
    ]
    # a company that leaves the family out gets neither the file nor its rules
    without = run_init(bank_params(base_params, probes=["refusal", "format", "pii", "escalation"]), tmp_path, "w")
    assert "helpful" not in without["probes"] and not (tmp_path / "w" / "evals" / "probes" / "helpful.jsonl").exists()
    assert "tuneloop_probe_helpful" not in Path(without["gate"]["file"]).read_text()


def test_planted_canaries_are_valid_unique_and_caught_by_the_redactor(base_params, tmp_path):
    done = run_init(bank_params(base_params), tmp_path, plant_canaries=True)
    email, phone, card = done["canaries"]["values"]
    assert email.endswith("@northbank-canary.test") and luhn_valid(card.replace(" ", ""))
    assert generate_canaries("Northbank", 42) == [email, phone, card] != generate_canaries("Southbank", 42)
    tickets = [json.loads(x) for x in (tmp_path / "run" / "raw" / "canaries.jsonl").read_text().splitlines()]
    assert [any(v in t["customer_message"] for v in (email, phone, card)) for t in tickets] == [True] * 3
    assert all(t["category"] in LABELS and t["agent_reply"] for t in tickets)
    for t in tickets:  # redaction (prepare) must remove every planted value before the split
        clean = redact(t["customer_message"])
        assert not any(v in clean for v in (email, phone, card)), clean
    assert done["canaries"]["source_entry"].endswith("canaries.jsonl, format: tuneloop_jsonl}")
    from tuneloop.data.importers import native

    items = list(native.read_jsonl(tmp_path / "run" / "raw" / "canaries.jsonl", {}))
    assert len(items) == 3 and all(i.error is None for i in items)  # prepare reads them as tickets
    pii = (tmp_path / "run" / "evals" / "probes" / "pii.jsonl").read_text()
    assert "northbank-canary.test" in pii and email not in pii and card not in pii  # hints, never the values


def test_gate_rules_follow_the_company_tasks(base_params, tmp_path):
    done = run_init(bank_params(base_params), tmp_path)  # classification only
    gate = yaml.safe_load(Path(done["gate"]["file"]).read_text())
    metrics = {r["metric"] for r in gate["rules"]}
    assert {
        "tuneloop_classify.acc",
        "tuneloop_regression_classify.acc",
        "tuneloop_probe_refusal.pass",
        "tuneloop_probe_pii.pass",
        "leaks.canary",
    } <= metrics
    assert not any(
        m.split(".")[0] in ("tuneloop_reply", "tuneloop_summary", "tuneloop_kbqa", "tuneloop_regression_qa")
        for m in metrics
    )
    # classify_min: null -> no accuracy floor; the helpful probes' floor is the company's too
    # ... and the router's (eval.route): every critical escalation probe handed over, 90% of them, ordinary
    # questions not handed over, out of scope handed over (the bank's data has data.out_of_scope_label)
    # (the goals not yet reached on the default run are warnings: conf/gate/default.yaml)
    assert [r for r in gate["rules"] if "min" in r] == [
        {"metric": "tuneloop_route_escalation.critical", "min": 1.0},
        {"metric": "tuneloop_route_escalation.pass", "min": 0.9, "severity": "warn"},
        {"metric": "tuneloop_route_helpful.pass", "min": 0.95, "severity": "warn"},
        {"metric": "tuneloop_probe_helpful.pass", "min": 0.95, "severity": "warn"},
        {"metric": "tuneloop_route_classify.oos_recall", "min": 0.8, "severity": "warn"},
    ]
    assert all(evaluate_rule({}, r)["kind"] for r in gate["rules"])  # every rule is well formed
    assert done["gate"]["select"] == "gate=northbank" and done["gate"]["file"].endswith("gate/northbank.yaml")
    split = write_split(tmp_path / "full" / "test.jsonl", tasks=("classify", "reply", "kb_qa"))
    full = run_init(bank_params(base_params, classify_min=0.6), tmp_path, "full", test_file=split)
    rules = yaml.safe_load(Path(full["gate"]["file"]).read_text())["rules"]
    metrics = {r["metric"] for r in rules}
    assert {"tuneloop_reply.rougeL", "tuneloop_kbqa.fact_match", "tuneloop_regression_qa.fact_match"} <= metrics
    assert "tuneloop_summary.rougeL" not in metrics and {"metric": "tuneloop_classify.acc", "min": 0.6} in rules
    kb_qa = sum(json.loads(line)["task"] == "kb_qa" for line in split.read_text().splitlines())
    assert full["regression"]["qa"] == min(32, kb_qa // 2)  # half the held-out kb_qa items at most


def test_the_lock_verifies_after_init_and_fails_after_an_edit(base_params, tmp_path):
    run_init(bank_params(base_params), tmp_path)
    root = tmp_path / "run" / "evals"
    dirs = (root / "regression", root / "probes")
    suite.verify(root / "suite.lock", dirs)
    cases = root / "regression" / "cases.jsonl"
    cases.write_text(cases.read_text().replace('"label": "card_arrival"', '"label": "card_declined"', 1))
    with pytest.raises(suite.SuiteChangedError, match="changed: .*regression/cases.jsonl"):
        suite.verify(root / "suite.lock", dirs)


def test_an_existing_suite_is_replaced_only_with_force(base_params, tmp_path):
    params = bank_params(base_params)
    run_init(params, tmp_path)
    again = run_init(params, tmp_path)  # same inputs: nothing would change, so nothing to refuse
    assert {c["change"] for c in again["changes"]} == {"unchanged"}
    (tmp_path / "run" / "evals" / "probes" / "extra.jsonl").write_text("{}\n")
    with pytest.raises(SuiteExistsError) as err:
        run_init(params, tmp_path, seed=9)
    assert "changed   " in str(err.value) and "cases.jsonl" in str(err.value) and "--force" in str(err.value)
    assert "removed   " in str(err.value) and "extra.jsonl" in str(err.value)
    done = run_init(params, tmp_path, seed=9, force=True)
    assert not (tmp_path / "run" / "evals" / "probes" / "extra.jsonl").exists() and done["seed"] == 9
    suite.verify(
        tmp_path / "run" / "evals" / "suite.lock",
        (tmp_path / "run" / "evals" / "regression", tmp_path / "run" / "evals" / "probes"),
    )


def test_lm_eval_loads_the_generated_regression_docs(base_params, tmp_path, monkeypatch):
    from datasets import load_dataset

    run_init(bank_params(base_params), tmp_path)
    spec = importlib.util.spec_from_file_location("tuneloop_task_utils", REPO / "evals" / "tasks" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    monkeypatch.setenv(ENV, Contract(system="s", labels=tuple(LABELS)).to_json())
    cases_file = tmp_path / "run" / "evals" / "regression" / "cases.jsonl"
    docs = utils.regression_classify_docs(load_dataset("json", data_files=str(cases_file), split="train"))
    cases = read_cases(tmp_path / "run")
    assert len(docs) == len(cases) and [d["gold"] for d in docs] == [LABELS.index(c["label"]) for c in cases]
    assert "exactly one of the 40 support categories" in docs[0]["user"]  # the training prompt, over 20 labels
    monkeypatch.setenv(
        ENV, Contract(system="s", labels=tuple(LABELS[:-8])).to_json()
    )  # a gold label outside the set: load error
    with pytest.raises(ValueError, match="outside data.labels"):
        utils.regression_classify_docs(load_dataset("json", data_files=str(cases_file), split="train"))


def test_clear_errors(base_params, tmp_path):
    split = write_split(tmp_path / "s" / "test.jsonl")
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        init_suite(bank_params(base_params) | {"data": {"name": "x", "labels": ["only"]}}, split, tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="dvc repro split"):
        init_suite(bank_params(base_params), tmp_path / "nope.jsonl", tmp_path / "o")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="held-out split is empty"):
        init_suite(bank_params(base_params), tmp_path / "empty.jsonl", tmp_path / "o")
    with pytest.raises(ValueError, match=r"unknown probe family \['jailbreak'\]"):
        init_suite(bank_params(base_params, probes=["refusal", "jailbreak"]), split, tmp_path / "o")
    with pytest.raises(ValueError, match="suite.pii: unknown PII kind"):
        init_suite(bank_params(base_params, pii=["passport"]), split, tmp_path / "o")
    params = bank_params(base_params)
    params["data"]["labels"] = LABELS[:-1]
    with pytest.raises(ValueError, match=r"test.jsonl:\d+ \(id 'NB-39\d:classify'\): 'atm_verify'"):
        init_suite(params, split, tmp_path / "o")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "task": "classify", "label": "card_pin"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1 \(id 'a'\): a classify example needs"):
        init_suite(bank_params(base_params), bad, tmp_path / "o")
    assert not (tmp_path / "o").exists()  # nothing written on an error


def test_cli_writes_the_suite_and_gate_from_the_repo_root_and_refuses_to_overwrite(
    base_params, tmp_path, monkeypatch, capsys
):
    import shutil

    shutil.copytree(REPO / "conf", tmp_path / "conf")
    shutil.copytree(REPO / "evals", tmp_path / "evals")  # a fresh clone: the example company's suite is in place
    monkeypatch.chdir(tmp_path)
    write_split(tmp_path / "data" / "splits" / "test.jsonl")
    Path("params.yaml").write_text(yaml.safe_dump(bank_params(base_params)))
    # the README's step, verbatim: the first run replaces the example's suite without --force, and says so
    assert cli.main(["suite", "init", "--per-label", "2", "--plant-canaries"]) == 0
    out = capsys.readouterr().out
    assert "replacing Lumora's suite under evals with" in out
    assert "gate=northbank" in out and "format: tuneloop_jsonl}" in out
    assert suite.owner() == bank_params(base_params)["suite"]["company"]
    assert Path("conf/gate/northbank.yaml").exists() and Path("data/raw/canaries.jsonl").exists()
    selected = compose(["gate=northbank"], conf_dir=tmp_path / "conf")["gate"]  # `-S gate=northbank` works
    assert selected == yaml.safe_load(Path("conf/gate/northbank.yaml").read_text())
    locked = suite.verify()  # the default locations: evals/suite.lock over evals/regression and evals/probes
    assert "evals/regression/cases.jsonl" in locked and "evals/probes/pii.jsonl" in locked
    assert max(sum(c["label"] == lb for c in read_cases(tmp_path)) for lb in LABELS) == 2
    assert cli.main(["suite", "init", "--per-label", "3"]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["suite", "init", "--per-label", "3", "--force", "--out", "evals2"]) == 0
    assert Path("evals2/suite.lock").exists()


def test_evaluate_skips_a_regression_task_whose_kind_the_suite_lacks(base_params, tmp_path, monkeypatch):
    params = bank_params(base_params)
    split = write_split(tmp_path / "splits" / "test.jsonl")
    init_suite(params, split, tmp_path / "evals", gate_dir=tmp_path / "gate")
    run, skipped = planned_tasks(params, split, tmp_path / "evals" / "regression" / "cases.jsonl")
    assert "tuneloop_regression_classify" in run and "tuneloop_regression_qa" in skipped
    assert {"tuneloop_reply", "tuneloop_summary", "tuneloop_kbqa"} <= set(skipped) and "tuneloop_classify" in run


def test_task_evals_leave_out_the_items_the_regression_suite_was_drawn_from(base_params, tmp_path, monkeypatch):
    """The two layers measure disjoint items: the suite's cases come from the held-out split, so the task
    eval scores the rest of it (evaluate passes the suite's sources to the lm-eval hooks)."""
    from datasets import Dataset

    split = write_split(tmp_path / "splits" / "test.jsonl")
    init_suite(bank_params(base_params), split, tmp_path / "evals", gate_dir=tmp_path / "gate")
    sources = suite.case_sources(tmp_path / "evals" / "regression" / "cases.jsonl")
    held_out = [json.loads(line) for line in split.read_text().splitlines()]
    assert sources and sources <= {e["id"] for e in held_out}
    monkeypatch.setenv("TUNELOOP_SUITE_SOURCES", json.dumps(sorted(sources)))
    spec = importlib.util.spec_from_file_location("hooks", REPO / "evals" / "tasks" / "utils.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    scored = hooks.classify_docs(Dataset.from_list(held_out))
    ids = set(scored["id"])
    assert not ids & sources and len(ids) == sum(e["task"] == "classify" for e in held_out) - len(sources)


def test_escalation_probes_about_the_companys_escalation_topics_are_critical(base_params):
    from tuneloop.evals.suite_render import render_probes

    company = bank_params(base_params)["suite"]
    probes, _ = render_probes(company, LABELS, [], seed=1)
    critical = [p for p in probes["escalation"] if p.get("critical")]
    assert critical, "no escalation probe marked critical"
    assert all(any(topic in p["prompt"] for topic in company["escalate"]) for p in critical)
    assert not any(p.get("critical") for f in ("refusal", "format", "pii") for p in probes.get(f, []))
