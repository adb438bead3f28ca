"""Shared fixtures: a small example corpus and a tiny random model, built locally (no network)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers/ (import helpers.tiny_model ...)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Under pytest-xdist, each worker (and every stage it starts) gets its share of the cores: two workers each
# running 2 OpenMP threads on 2 cores oversubscribe them. Measured on the 2-core guest: 7 min 14 s for the
# suite against 8 min 33 s with the default threads. Set before torch is imported (here, or in a subprocess).
if os.environ.get("PYTEST_XDIST_WORKER"):
    _share = max(1, (os.cpu_count() or 1) // max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)))
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, str(_share))


def pytest_collection_modifyitems(config, items):
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs CUDA")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    from tuneloop.data import example as example_corpus

    out = tmp_path_factory.mktemp("corpus") / "raw"
    example_corpus.generate(out, n_tickets=160, seed=7)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, corpus_dir) -> Path:
    from helpers.tiny_model import build_tiny_model

    texts = [line for line in (corpus_dir / "tickets.jsonl").read_text().splitlines()]
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny", texts)


def tiny_params(tiny_model_dir: Path, *overrides: str) -> dict:
    """The real composed config, shrunk for a tiny model on CPU."""
    from tuneloop.params import compose

    return compose(
        # passages of 12 words: a grounded prompt fits the tiny model's 512 positions (lm-eval would cut it)
        [
            "model=tiny-random",
            f"model.local_path={tiny_model_dir}",
            "preset=smoke",
            "retrieval.passage_words=12",
            *TINY_EVAL,
            *overrides,
        ],
        conf_dir=REPO / "conf",
    )


# The eval harness shrunk for the tiny model: fewer items and shorter generations per task (the real
# sizes are the default run's; the harness code path is the same).
TINY_EVAL_SIZES = {
    "tasks.tuneloop_reply": (8, 16),
    "tasks.tuneloop_summary": (4, 16),
    "tasks.tuneloop_kbqa": (4, 16),
    "tasks.tuneloop_reply_history": (4, 16),
    "tasks.tuneloop_reply_history_blind": (4, 16),
    "regression.tuneloop_regression_classify": (16, 8),
    "regression.tuneloop_regression_qa": (8, 16),
    **{f"probes.tuneloop_probe_{f}": (4, 16) for f in ("refusal", "format", "pii", "helpful")},
}
TINY_EVAL = [
    o
    for key, (limit, toks) in TINY_EVAL_SIZES.items()
    for o in (f"eval.layers.{key}.limit={limit}", f"eval.layers.{key}.max_gen_toks={toks}")
]


@pytest.fixture
def workdir(tmp_path, corpus_dir, monkeypatch) -> Path:
    """A scratch repo root with data/raw holding the small corpus; stages run with their default paths."""
    import shutil

    shutil.copytree(corpus_dir, tmp_path / "data" / "raw")
    shutil.copytree(REPO / "evals", tmp_path / "evals")
    monkeypatch.chdir(tmp_path)
    return tmp_path
