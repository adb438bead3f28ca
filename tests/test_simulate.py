"""The loop's simulation, small: the tiny model trained for real (prepare, build, split, train through the
CLI), the drifting stream around the new-policy week, the policy retraining on signals, the referee's
floor and non-inferiority deciding the promotion. The real base's 24-week run: benchmarks/loop_simulation.py."""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from safetensors.torch import load_file

from tuneloop.monitor import simulate
from tuneloop.params import compose

pytestmark = pytest.mark.slow  # two tiny trainings through the CLI: about two minutes on 2 cores


def test_the_loop_retrains_on_signals_and_the_static_arm_never_does(tmp_path, tiny_model_dir):
    params = compose(
        [
            "model=tiny-random",
            f"model.local_path={tiny_model_dir}",
            "preset=smoke",
            "retrain.policy.min_weeks_between=2",
            "retrain.policy.min_fresh_records=10",
        ],
        conf_dir=REPO / "conf",
    )
    for rule in params["gate"]["rules"]:  # a random tiny model scores ~0: let the floor pass what it trains
        if rule.get("metric") == "tuneloop_classify.acc" and "min" in rule:
            rule["min"] = 0.0
    result = simulate.run(
        params,
        tiny_model_dir,
        tmp_path / "sim",
        weeks=2,
        start=13,
        history=2,
        window=2,
        per_week=20,
        eval_per_week=10,
        seed=0,
    )
    weeks = {w["week"]: w for w in result["weeks"]}
    assert weeks[13]["retrain"] is False and "cooldown" in weeks[13]["reasons"][-1]  # trained last week: wait
    assert weeks[14]["retrain"] is True and weeks[14]["events"] == ["new_product", "renamed_plan", "new_policy"]
    assert any(f in weeks[14]["fired"] for f in ("label_psi", "unknown_label_share", "new_term_excess", "domain_auc"))
    (retrain,) = result["retrains"]
    assert retrain["week"] == 15 and retrain["trigger"].startswith("signals") and retrain["promoted"] is True
    assert retrain["candidate_acc"] is not None and retrain["test_items"] > 0
    # both trainings were real: TRL steps, a LoRA adapter on disk
    assert [t["name"] for t in result["trainings"]] == ["week+13", "week+14"]
    assert all(t["steps"] > 0 and t["train_examples"] > 0 for t in result["trainings"])
    weights = load_file(tmp_path / "sim/work/week+14/models/adapter/adapter_model.safetensors")
    assert any("lora_B" in k and v.abs().sum() > 0 for k, v in weights.items())
    # until a retrain is promoted both arms serve the same adapter and score the same
    assert all(w["static"] == {k: v for k, v in w["loop"].items() if k != "adapter"} for w in result["weeks"])
    saved = json.loads((tmp_path / "sim/result.json").read_text())
    assert saved["summary"]["retrains"] == 1 and saved["summary"]["floor"] == 0.0
    assert saved["summary"]["alerts"] == 0 and saved["summary"]["stuck"] == 0 and retrain["stuck"] is False
    assert (tmp_path / "sim/simulation.png").read_bytes()[:4] == b"\x89PNG"
