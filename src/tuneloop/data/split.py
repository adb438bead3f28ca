"""Stage `split`: seeded, stratified train/val/test split by ticket, with a leakage check.

    tuneloop split       # data/examples.jsonl -> data/splits/{train,val,test}.jsonl, reports/data/split.json

Tickets (groups) are assigned whole: a ticket's classify and reply examples land in the same split, and
a returning customer's tickets are one group (a follow-up's prompt shows the earlier ticket: data/history.py).
Examples marked `train_only` (the policy's safety examples, built from conf/policy) always go to train.
Within each category, tickets are shuffled with `seed` and cut by data.split fractions, so the label
balance is the same in every split. Same inputs + same seed -> byte-identical files.

Leakage: besides shared groups and identical prompts (an error), no near-duplicate may straddle train
and val/test. The content of every prompt (without instruction, header lines and signatures) is compared with MinHash LSH
(dedup.near_duplicate_pairs, threshold clean.dedup.threshold); with clean.leakage "move" (default)
each val/test group that has a near duplicate in train moves to train, repeatedly until none is left
(nothing is lost, the eval splits shrink a little); with "fail" the run stops and names the groups.
The counts go to reports/data/split.json under "leakage".
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.data.dedup import DedupConfig, near_duplicate_pairs
from tuneloop.data.overlap import TrainIndex
from tuneloop.data.quality import clean_text
from tuneloop.data.synth import source_text
from tuneloop.io import read_jsonl, write_json, write_jsonl

log = logging.getLogger(__name__)

IN_FILE = paths.EXAMPLES_FILE
OUT_DIR = paths.SPLIT_DIR
REPORT = paths.SPLIT_REPORT
SPLITS = ("train", "val", "test")


class LeakageError(RuntimeError):
    pass


def assign_groups(examples: list[dict], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Map each group (ticket id) to a split, stratified by its label. A group with a `train_only` example
    (the policy's safety examples: the probes, not a test split, measure them) always goes to train."""
    pinned = {e["group"] for e in examples if e.get("train_only")}
    # a group is stratified by one label: a returning customer's group (data/history.py) may hold tickets
    # of several categories, and is drawn once, under the first of them
    label_of: dict[str, str] = {}
    for e in examples:
        if e["group"] not in pinned:
            label_of[e["group"]] = min(label_of.get(e["group"], e["label"]), e["label"])
    by_label: dict[str, list[str]] = defaultdict(list)
    for group, label in sorted(label_of.items()):
        by_label[label].append(group)
    rng = random.Random(seed)
    assignment = {group: "train" for group in sorted(pinned)}
    for label in sorted(by_label):
        groups = by_label[label]
        rng.shuffle(groups)
        n_test = round(len(groups) * fractions["test"])
        n_val = round(len(groups) * fractions["val"])
        for i, group in enumerate(groups):
            assignment[group] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return assignment


def check_leakage(splits: dict[str, list[dict]]) -> None:
    """No ticket and no identical prompt may appear in both training and evaluation splits."""
    train_groups = {e["group"] for e in splits["train"]}
    train_prompts = {e["user"] for e in splits["train"]}
    for name in ("val", "test"):
        shared = sorted({e["group"] for e in splits[name]} & train_groups)
        same_prompt = sorted(e["id"] for e in splits[name] if e["user"] in train_prompts)
        if shared or same_prompt:
            raise LeakageError(
                f"train/{name} leakage: shared tickets {shared[:5]}, identical prompts {same_prompt[:5]}"
            )


_HEADER_LINES = re.compile(r"\A(?:(?:Subject|Article|Section): [^\n]*\n*)+")


def comparable_text(user: str) -> str:
    """What two prompts must share to leak: the content without its instruction, header lines
    (Subject:, Article:, Section:) and boilerplate (signatures, footers), which vary between resubmissions."""
    return clean_text(_HEADER_LINES.sub("", source_text(user)))


def group_texts(examples: list[dict]) -> dict[str, list[str]]:
    """The distinct comparable prompt contents of each group, sorted."""
    texts: dict[str, set[str]] = defaultdict(set)
    for e in examples:
        texts[e["group"]].add(comparable_text(e["user"]))
    return {g: sorted(t) for g, t in sorted(texts.items())}


def move_near_duplicates(
    assignment: dict[str, str], examples: list[dict], cfg: DedupConfig, action: str = "move"
) -> dict:
    """Move every val/test group with a near duplicate in train to train (in place); return the counts.

    Repeats with the groups just moved until no val/test group is near a train group, so a chain
    test~moved~train cannot leak either. action "fail" raises LeakageError naming the groups instead.
    """
    if action not in ("move", "fail"):
        raise ValueError(f"clean.leakage must be 'move' or 'fail', got {action!r}")
    texts = group_texts(examples)

    def flat(groups):
        return [(g, t) for g in groups for t in texts.get(g, [])]

    frontier = flat(g for g in sorted(assignment) if assignment[g] == "train")
    moved: list[dict] = []
    pairs_found = 0
    while frontier:
        rest = flat(g for g in sorted(assignment) if assignment[g] != "train")
        pairs = near_duplicate_pairs([t for _, t in frontier], [t for _, t in rest], cfg) if rest else []
        pairs_found += len(pairs)
        best: dict[str, tuple[str, float]] = {}
        for i, j, jaccard in pairs:
            group, near = rest[j][0], frontier[i][0]
            if group not in best or (jaccard, near) > (best[group][1], best[group][0]):
                best[group] = (near, jaccard)
        if not best:
            break
        if action == "fail":
            listed = ", ".join(
                f"{g} ({assignment[g]}) ~ {n} (train, J={j:.2f})" for g, (n, j) in sorted(best.items())[:20]
            )
            raise LeakageError(f"{len(best)} val/test group(s) have a near duplicate in train: {listed}")
        for group, (near, jaccard) in sorted(best.items()):
            moved.append({"group": group, "from": assignment[group], "near": near, "jaccard": jaccard})
            assignment[group] = "train"
        frontier = flat(sorted(best))
    for m in moved:
        log.info(
            "split: moved %s from %s to train (near duplicate of %s, J=%.2f)",
            m["group"],
            m["from"],
            m["near"],
            m["jaccard"],
        )
    return {
        "action": action,
        "threshold": cfg.threshold,
        "pairs": pairs_found,
        "moved_to_train": {
            "val": sum(m["from"] == "val" for m in moved),
            "test": sum(m["from"] == "test" for m in moved),
        },
        "moved_groups": sorted(m["group"] for m in moved),
    }


def move_guard_overlaps(
    assignment: dict[str, str], examples: list[dict], guard: dict[str, Any], action: str = "move"
) -> dict:
    """Move every val/test group the contamination guard would flag to train (in place), repeatedly.

    The guard (evals/contamination.py) compares word 13-grams of the whole prompt; the MinHash check
    above compares the content without headers. Redaction can make two tickets closer for the guard
    than for MinHash (`Subject: Chat with <PERSON>` + the same first dozen words of a question), so the
    split applies the guard's own rule too: what it leaves in test cannot fail the guard later.
    """
    moved: list[dict] = []
    for _ in range(20):  # each pass moves groups to train, which can only add training n-grams
        train_texts = [e["user"] for e in examples if assignment[e["group"]] == "train"]
        index = TrainIndex(train_texts, int(guard["ngram"]), float(guard["ignore_common"]))
        limit, flagged = float(guard["item_overlap"]), {}
        for e in examples:
            group = e["group"]
            if assignment[group] == "train" or group in flagged:
                continue
            exact, fraction, _ = index.nearest(e["user"])
            if exact or fraction >= limit:
                flagged[group] = round(fraction, 3)
        if not flagged:
            break
        if action == "fail":
            raise LeakageError(
                f"{len(flagged)} val/test group(s) the contamination guard would flag: {sorted(flagged.items())[:20]}"
            )
        for group, fraction in sorted(flagged.items()):
            moved.append({"group": group, "from": assignment[group], "overlap": fraction})
            log.info(
                "split: moved %s from %s to train (the guard's rule: %.0f%% of its %d-grams in training)",
                group,
                assignment[group],
                100 * fraction,
                int(guard["ngram"]),
            )
            assignment[group] = "train"
    return {
        "moved_to_train": {
            "val": sum(m["from"] == "val" for m in moved),
            "test": sum(m["from"] == "test" for m in moved),
        },
        "moved_groups": sorted(m["group"] for m in moved),
    }


def run(
    params: dict[str, Any],
    in_file: str | Path = IN_FILE,
    out_dir: str | Path = OUT_DIR,
    report_file: str | Path = REPORT,
) -> dict:
    examples = read_jsonl(in_file)
    fractions = params["data"]["split"]
    if abs(sum(fractions[s] for s in SPLITS) - 1.0) > 1e-6:
        raise ValueError(f"data.split fractions must add up to 1, got {fractions}")
    assignment = assign_groups(examples, fractions, int(params["seed"]))
    clean = params.get("clean") or {}
    dedup_cfg = DedupConfig.from_params(params)
    leakage = (
        move_near_duplicates(assignment, examples, dedup_cfg, clean.get("leakage", "move"))
        if dedup_cfg.enabled
        else {"action": "off"}
    )
    guard = (params.get("eval") or {}).get("contamination")
    if guard and clean.get("leakage", "move") in ("move", "fail"):
        leakage["guard_rule"] = {
            k: v
            for k, v in move_guard_overlaps(assignment, examples, guard, clean.get("leakage", "move")).items()
            if k != "moved_groups"
        }
    splits: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for example in examples:
        splits[assignment[example["group"]]].append(example)
    check_leakage(splits)
    for name, rows in splits.items():
        write_jsonl(Path(out_dir) / f"{name}.jsonl", rows)
    report = {
        name: {
            "examples": len(rows),
            "tickets": len({e["group"] for e in rows}),
            "tasks": dict(sorted(Counter(e["task"] for e in rows).items())),
            "labels": dict(sorted(Counter(e["label"] for e in rows if e["task"] == "classify").items())),
        }
        for name, rows in splits.items()
    }
    report["leakage"] = {k: v for k, v in leakage.items() if k != "moved_groups"}
    write_json(report_file, report)
    log.info("split: %s; leakage %s", {k: report[k]["examples"] for k in SPLITS}, report["leakage"])
    return report
