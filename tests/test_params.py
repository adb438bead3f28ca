"""params.yaml is exactly the composition of conf/, and every config group option composes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tuneloop.params import compose, resolve_training

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
    assert quality["lora_rank"] == 16 and resolve_training({"preset": quality, "method": {"learning_rate": 1}})["lora_alpha"] == 32
    assert compose(["preset=quick_start"], conf_dir=REPO / "conf")["preset"]["epochs"] == 1


def test_models_carry_license_and_size():
    for option in sorted((REPO / "conf" / "model").glob("*.yaml")):
        model = compose([f"model={option.stem}"], conf_dir=REPO / "conf")["model"] if option.stem != "tiny-random" else None
        if model:
            assert model["license"] and model["parameters"] and model["hub_id"]


def test_a_company_conf_without_the_optional_data_keys_still_composes_them(tmp_path):
    # dvc.yaml lists data.out_of_scope_label (and max_listed_labels, chat_loss) as stage params; a company's
    # conf/data written without them must not stop `dvc repro` with "Parameters ... are missing".
    import shutil

    from tuneloop.params import DATA_DEFAULTS

    conf = tmp_path / "conf"
    shutil.copytree(Path(__file__).resolve().parents[1] / "conf", conf)
    example = yaml.safe_load((conf / "data" / "example.yaml").read_text())
    for key in DATA_DEFAULTS:
        example.pop(key, None)
    (conf / "data" / "bare.yaml").write_text(yaml.safe_dump(example))
    params = compose(["data=bare"], conf_dir=conf)
    assert {k: params["data"][k] for k in DATA_DEFAULTS} == DATA_DEFAULTS
