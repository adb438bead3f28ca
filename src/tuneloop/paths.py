"""Where the pipeline's files live: the one place for the paths that dvc.yaml also names.

    from tuneloop import paths
    paths.ADAPTER_DIR        # models/adapter (the train stage's out; the referee, registry and server read it)

Relative to the repository root, where DVC runs the stages. tests/test_layout.py checks that every
`outs`, `metrics` and `plots` entry of dvc.yaml is named here, so a renamed output cannot drift from the code.
Standard library only: the comment job and promote.yml import it without the ML dependencies.
"""

from __future__ import annotations

from pathlib import Path

# inputs
RAW_DIR = Path("data/raw")  # data.dvc: the company's exports, immutable
FRESH_DIR = Path("data/fresh")  # fresh.dvc: the newest snapshot, for drift
GENERAL_SLICE = Path("data/general/hellaswag.jsonl")  # the forgetting check's slice (dvc add)
SEALED_DIR = Path("data/sealed")  # sealed.dvc (its own remote): the holdout only the referee reads (docs/sealed.md)
SEALED_DVC = Path("sealed.dvc")
# base / prepare / build / split
BASE_DIR = Path("models/base")
PREPARED_DIR = Path("data/prepared")
RECORDS_FILE = PREPARED_DIR / "records.jsonl"
INDEX_DIR = Path("data/index")  # the help-center index (BM25 over the KB chunks): the index stage's out
DATA_REPORTS = Path("reports/data")  # prepare.json/md, redactions.jsonl, data.png, build.json/md, split.json
EXAMPLES_FILE = Path("data/examples.jsonl")
SPLIT_DIR = Path("data/splits")
TRAIN_SPLIT = SPLIT_DIR / "train.jsonl"
VAL_SPLIT = SPLIT_DIR / "val.jsonl"
TEST_SPLIT = SPLIT_DIR / "test.jsonl"
SEALED_SPLIT = SPLIT_DIR / "sealed.jsonl"  # the sealed set's classify items: built by the referee only
SPLIT_REPORT = DATA_REPORTS / "split.json"
# train
ADAPTER_DIR = Path("models/adapter")
CHAMPION_DIR = Path("models/champion")  # the adapter on main, when the evaluate stage compares with it
TRAIN_METRICS = Path("metrics/train.json")
LOSS_PLOT = Path("plots/train_loss.json")
# the frozen suite (git, not DVC: reviewed in the pull request)
SUITE_DIR = Path("evals")
SUITE_LOCK = SUITE_DIR / "suite.lock"
REGRESSION_FILE = SUITE_DIR / "regression" / "cases.jsonl"
PROBE_DIR = SUITE_DIR / "probes"
TASK_DIR = SUITE_DIR / "tasks"
# guard / evaluate / gate / card
CONTAMINATION_REPORT = Path("reports/contamination.json")
EVAL_METRICS = Path("metrics/eval.json")
SAMPLES_FILE = Path("reports/samples.jsonl")
FLIPS_FILE = Path("reports/flips.json")
GATE_METRICS = Path("metrics/gate.json")
SUMMARY_METRICS = Path("metrics/summary.json")  # the gate's headline figures (`dvc metrics show`)
GATE_REPORT = Path("reports/gate.md")
GATE_CHART = Path("reports/gate.png")
CARD_FILE = Path("model_card.md")
# the loop
DRIFT_DIR = Path("reports/drift")
DRIFT_METRICS = Path("metrics/drift.json")
# not DVC-tracked: wall times written by train/evaluate, read by the PR comment
TIMING_FILE = Path("reports/timing.json")


def is_full_model(folder: Path | str | None) -> bool:
    """A trained folder that is a whole model (method=full: config.json, no adapter_config.json), not an adapter.
    evaluate's lm-eval model and the router's scorer load it alone instead of base + adapter."""
    return (
        folder is not None
        and (Path(folder) / "config.json").exists()
        and not (Path(folder) / "adapter_config.json").exists()
    )
