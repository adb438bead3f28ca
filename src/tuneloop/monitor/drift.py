"""Stage `drift`: how far fresh data has moved from what the production adapter was trained on.

    tuneloop monitor drift                                   # retrain.current (data/fresh) vs data/splits/train.jsonl
    tuneloop monitor drift --current DIR --log requests.jsonl   # another snapshot, or the server's request log alone

Compares the training split (its prepared, redacted records) with a fresh snapshot laid out like data/raw
(read by the same importers and redacted by the same redactor), or with the server's request log:

    input drift   a domain classifier's cross-validated AUC on the texts; PSI of channel, product, priority
    label drift   the label's PSI and the share of fresh labels the adapter never learned (which ones)
    new terms     the share of fresh texts using a term the training split never had (which ones)
    live quality  thumbs-down, edit and escalation rates from the request log's feedback, when there is one

Each figure is held against its threshold in conf/retrain (policy.py: which signals fire). Writes
reports/drift/drift.json (everything), reports/drift/drift.md and drift.png (for people), and
metrics/drift.json (the headline that `dvc metrics diff` shows). The retraining decision itself needs the
calendar, so `tuneloop monitor retrain` takes it (retrain.py), not this stage: the same inputs give the same bytes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import write_json, write_text_atomic
from tuneloop.monitor import plots, sources
from tuneloop.monitor.feedback import quality_signals
from tuneloop.monitor.report import compare, headline, render

log = logging.getLogger(__name__)

SPLIT_FILE = paths.TRAIN_SPLIT
RECORDS_FILE = paths.RECORDS_FILE
REPORT_DIR = paths.DRIFT_DIR
METRICS_FILE = paths.DRIFT_METRICS


def run(
    params: dict[str, Any],
    current: str | Path | None = None,
    log_file: str | Path | None = None,
    split_file: str | Path = SPLIT_FILE,
    records_file: str | Path = RECORDS_FILE,
    report_dir: str | Path = REPORT_DIR,
    metrics_file: str | Path = METRICS_FILE,
) -> dict[str, Any]:
    cfg, data = params["retrain"], params["data"]
    labels, products = list(data.get("labels") or []), dict(cfg["products"])
    current = Path(current or cfg["current"]) if (current or cfg.get("current")) else None
    log_path = Path(log_file or cfg["log"]) if (log_file or cfg.get("log")) else None
    for needed in (split_file, records_file):
        if not Path(needed).exists():
            raise FileNotFoundError(f"{needed}: the training split to compare with is missing; run `dvc repro split`")

    answered = feedback = None
    if log_path is not None and log_path.exists():
        answered, feedback = sources.split_log(sources.read_log(log_path))
    has_snapshot = current is not None and current.exists() and bool(sources.snapshot_sources(data, current))
    if not has_snapshot and answered is None:
        # nothing fresh yet (a new company: data/fresh is the example's, or empty; no server log): the stage
        # succeeds and says so, so `dvc repro` and `make run` finish; a broken input still fails
        why = (
            f"nothing fresh to compare yet: {current} holds none of conf/data's record sources (moved from "
            f"{sources.RAW_DIR})"
            if current is not None and current.exists()
            else f"no snapshot at {current}"
        ) + f", and no request log at {log_path} (retrain.current / retrain.log, or --current / --log)"
        return not_run(why, Path(report_dir), Path(metrics_file))
    reference = sources.reference_rows(split_file, records_file, products)
    counts: dict[str, Any] = {}
    if has_snapshot:
        redactor = None
        if data.get("redact", True):
            from tuneloop.data.pii import make_redactor

            redactor = make_redactor(params.get("redact"))
        rows, counts = sources.snapshot_rows(data, current, products, redactor)
        compared = f"snapshot {current}"
    else:
        rows, compared = sources.log_rows(answered, labels, products), f"request log {log_path}"
    live = quality_signals(answered, feedback) if answered is not None else None
    report = {
        "reference": str(split_file),
        "current": compared,
        "log": str(log_path) if answered is not None else None,
        "read": counts,
        **compare(reference, rows, live, labels, cfg, int(params["seed"])),
    }

    report_dir = Path(report_dir)
    write_json(report_dir / "drift.json", report)
    write_text_atomic(report_dir / "drift.md", render(report))
    plots.drift_chart(report, report_dir / "drift.png")
    write_json(metrics_file, headline(report))
    fired = [s["signal"] for s in report["signals"] if s["fired"]]
    log.info(
        "drift: %d reference vs %d fresh rows (%s); %s",
        len(reference),
        len(rows),
        compared,
        f"signals: {', '.join(fired)}" if fired else "no signal",
    )
    return headline(report)


def not_run(reason: str, report_dir: Path, metrics_file: Path) -> dict[str, Any]:
    """Every output of the stage, saying it did not run and why (dvc.yaml's outs must exist)."""
    report = {"status": "not run", "reason": reason, "signals": [], "drifted": False}
    write_json(report_dir / "drift.json", report)
    write_text_atomic(report_dir / "drift.md", f"# Drift\n\n**Not run**: {reason}.\n")
    plots.not_run_chart(f"drift not run: {reason}", report_dir / "drift.png")
    headline = {"drift": {"status": "not run", "signals_fired": 0, "drifted": False}}
    write_json(metrics_file, headline)
    log.warning("drift: not run: %s", reason)
    return headline
