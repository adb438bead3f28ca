"""params.yaml is exactly the composition of conf/, and every config group option composes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tuneloop.params import compose, load_params, resolve_training

REPO = Path(__file__).resolve().parents[1]


def test_params_yaml_equals_composition_of_conf():
    committed = yaml.safe_load((REPO / "params.yaml").read_text())
    assert committed == compose(conf_dir=REPO / "conf"), "params.yaml is stale: run `tuneloop params`"


@pytest.mark.parametrize("group", ["model", "method", "preset", "data", "eval", "gate", "logger", "suite", "policy"])
def test_every_option_of_every_group_composes(group):
    for option in sorted((REPO / "conf" / group).glob("*.yaml")):
        cfg = compose([f"{group}={option.stem}"], conf_dir=REPO / "conf")
        assert cfg[group]["name" if group not in ("eval", "gate") else next(iter(cfg[group]))] is not None


def test_presets_keep_seed_defaults_and_resolve_auto():
    cfg = compose(["preset=balanced"], conf_dir=REPO / "conf")
    p = cfg["preset"]
    assert (p["epochs"], p["batch_size"], p["weight_decay"], p["max_length"], p["lora_rank"]) == (3, 4, 0.01, 2048, 8)
    resolved = resolve_training(cfg)
    assert resolved["lora_alpha"] == 16 and resolved["learning_rate"] == 2e-4 and resolved["warmup"] == 0.03
    full = resolve_training(compose(["preset=balanced", "method=full"], conf_dir=REPO / "conf"))
    assert full["learning_rate"] == 2e-5


def test_presets_differ_where_they_say():
    quality = compose(["preset=quality"], conf_dir=REPO / "conf")["preset"]
    assert (
        quality["lora_rank"] == 16
        and resolve_training({"preset": quality, "method": {"learning_rate": 1}})["lora_alpha"] == 32
    )
    assert compose(["preset=quick_start"], conf_dir=REPO / "conf")["preset"]["epochs"] == 1


def test_models_carry_license_and_size():
    for option in sorted((REPO / "conf" / "model").glob("*.yaml")):
        model = (
            compose([f"model={option.stem}"], conf_dir=REPO / "conf")["model"] if option.stem != "tiny-random" else None
        )
        if model:
            assert model["license"] and model["parameters"] and model["hub_id"]


def _dvc_data_params() -> set[str]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {
        p.split(".", 1)[1]
        for s in stages.values()
        for p in s.get("params", [])
        if isinstance(p, str) and p.startswith("data.")
    }


def test_a_minimal_company_conf_composes_every_key_dvc_yaml_names(tmp_path):
    # the minimal conf/data of README "Your company's data": a name, one source and labels. Every data.*
    # key a dvc.yaml stage lists must come out of the composition, or `dvc repro` stops on "missing".
    import shutil

    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf", conf)
    (conf / "data" / "bare.yaml").write_text(
        "name: bare\nsources:\n  - {path: data/raw/intents.csv, format: classification_csv}\n"
        "labels: [a_very_long_label_name_of_forty_chars_x, b]\n"
    )
    params = compose(["data=bare"], conf_dir=conf)
    assert _dvc_data_params() <= set(params["data"]), _dvc_data_params() - set(params["data"])
    assert params["data"]["max_record_bytes"] == 2_000_000 and params["data"]["tasks"] == "auto"
    assert params["data"]["name"] == "bare" and params["data"]["kb_dir"] is None


def test_a_company_conf_without_a_name_is_refused_by_name(tmp_path):
    import shutil

    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf", conf)
    (conf / "data" / "nameless.yaml").write_text("labels: [a, b]\n")
    with pytest.raises(ValueError, match="data.name is required"):
        compose(["data=nameless"], conf_dir=conf)
    # DVC's own composition writes the mark as it is: a stage reading that params.yaml stops the same way
    (tmp_path / "params.yaml").write_text("data: {name: '???', labels: [a, b]}\n")
    with pytest.raises(ValueError, match="data.name is required"):
        load_params(tmp_path / "params.yaml")
