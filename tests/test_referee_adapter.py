"""The referee's inputs as data (src/tuneloop/referee/adapter.py) and promotion's conditions (champion.py).

Real PEFT adapters saved for the tiny model, a real pickle, real DVC (`dvc add`, a local remote,
`dvc push`) and real git tags; no training (test_redteam.py trains and judges).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5
from tuneloop.referee import champion
from tuneloop.referee.adapter import AdapterError, read_safetensors_header, validate_adapter

METHOD = {"target_modules": "all-linear"}
NAMES = {"models/base"}
DVC = [sys.executable, "-m", "dvc"]


def save_lora(base_dir: Path, out: Path, **config) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM", **config)
    peft_model = get_peft_model(model, lora)
    peft_model.save_pretrained(out)
    cfg = json.loads((out / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "models/base"  # what the pipeline's train stage writes
    (out / "adapter_config.json").write_text(json.dumps(cfg))
    (out / "README.md").unlink(missing_ok=True)  # PEFT's model card; the train job hands over two files only
    return out


@pytest.fixture(scope="module")
def lora(tiny_model_dir, tmp_path_factory) -> Path:
    return save_lora(tiny_model_dir, tmp_path_factory.mktemp("lora") / "adapter")


def _variant(lora: Path, tmp_path: Path, edit=None) -> Path:
    out = tmp_path / "candidate"
    shutil.copytree(lora, out)
    if edit:
        cfg = json.loads((out / "adapter_config.json").read_text())
        edit(cfg)
        (out / "adapter_config.json").write_text(json.dumps(cfg))
    return out


def test_a_real_lora_of_the_base_passes(lora, tiny_model_dir):
    config = validate_adapter(lora, tiny_model_dir, METHOD, NAMES)
    assert config["peft_type"] == "LORA" and config["r"] == 4
    header = read_safetensors_header(lora / "adapter_model.safetensors")
    assert any(k.endswith("q_proj.lora_A.weight") for k in header)


def test_a_pickle_beside_the_safetensors_is_refused(lora, tiny_model_dir, tmp_path):
    import torch

    bad = _variant(lora, tmp_path)
    torch.save({"w": torch.zeros(1)}, bad / "adapter_model.bin")  # a real pickle
    with pytest.raises(AdapterError, match=r"adapter_model\.bin: unexpected file .*pickles"):
        validate_adapter(bad, tiny_model_dir, METHOD, NAMES)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda c: c.update(base_model_name_or_path="meta-llama/Llama-3.1-8B"), "not the base branch's base model"),
        (lambda c: c.update(modules_to_save=["lm_head"]), r"modules_to_save=\['lm_head'\]"),
        (lambda c: c.update(auto_mapping={"base_model_class": "Evil"}), "auto_mapping"),
        (lambda c: c.update(custom_code="x"), "key 'custom_code' is not allowed"),
        (lambda c: c.update(peft_type="PROMPT_TUNING"), "peft_type"),
        (lambda c: c.update(r=9), r"has shape \[4, "),
    ],
)
def test_config_outside_the_allow_list_is_refused(lora, tiny_model_dir, tmp_path, edit, match):
    with pytest.raises(AdapterError, match=match):
        validate_adapter(_variant(lora, tmp_path, edit), tiny_model_dir, METHOD, NAMES)


def test_target_modules_must_be_the_base_branchs(lora, tiny_model_dir):
    with pytest.raises(
        AdapterError, match=r"target module '[\w.]*(down|gate|up|k|o)_proj' is not allowed by the base branch"
    ):
        validate_adapter(lora, tiny_model_dir, {"target_modules": ["q_proj", "v_proj"]}, NAMES)


def test_an_adapter_of_another_model_does_not_fit(tiny_model_dir, tmp_path):
    from helpers.tiny_model import build_tiny_model
    from transformers import LlamaConfig, LlamaForCausalLM

    other = tmp_path / "other"
    build_tiny_model(other, ["some text for a tokenizer"] * 5)
    config = LlamaConfig.from_pretrained(other)
    config.hidden_size, config.intermediate_size = 48, 96  # same names, other shapes
    LlamaForCausalLM(config).save_pretrained(other)
    foreign = save_lora(other, tmp_path / "foreign")
    with pytest.raises(AdapterError, match=r"has shape \[4, 48\]; the base model's .* is \[\d+, 32\]"):
        validate_adapter(foreign, tiny_model_dir, METHOD, NAMES)


def test_a_forged_safetensors_header_is_refused(lora, tiny_model_dir, tmp_path):
    bad = _variant(lora, tmp_path)
    data = (bad / "adapter_model.safetensors").read_bytes()
    (bad / "adapter_model.safetensors").write_bytes(data + b"\0" * 16)  # bytes no tensor accounts for
    with pytest.raises(AdapterError, match="tensors cover"):
        validate_adapter(bad, tiny_model_dir, METHOD, NAMES)
    (bad / "adapter_model.safetensors").write_bytes((10**9).to_bytes(8, "little") + b"{}")
    with pytest.raises(AdapterError, match="not a safetensors file"):
        validate_adapter(bad, tiny_model_dir, METHOD, NAMES)


def test_links_and_folders_are_refused(lora, tiny_model_dir, tmp_path):
    bad = _variant(lora, tmp_path)
    (bad / "sub").mkdir()
    with pytest.raises(AdapterError, match="links and subfolders"):
        validate_adapter(bad, tiny_model_dir, METHOD, NAMES)


def _dvc_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*DVC, "init", "-q"], cwd=root, check=True)
    return root


def test_md5_is_the_one_dvc_computes(lora, tmp_path):
    repo = _dvc_repo(tmp_path / "repo")
    shutil.copytree(lora, repo / "adapter")
    subprocess.run([*DVC, "add", "-q", "adapter"], cwd=repo, check=True)
    import yaml

    recorded = yaml.safe_load((repo / "adapter.dvc").read_text())["outs"][0]["md5"]
    assert dvc_dir_md5(lora) == recorded == champion.dir_md5(lora)


def test_promotion_tags_only_the_passed_md5_of_the_merge_commit_once_in_the_remote(lora, tmp_path, monkeypatch):
    repo = _dvc_repo(tmp_path / "repo")
    subprocess.run([*DVC, "remote", "add", "-q", "-d", "store", str(tmp_path / "remote")], cwd=repo, check=True)
    md5 = dvc_dir_md5(lora)
    verdict = {"passed": True, "candidate_md5": md5, "base_sha": "b" * 40, "judged_sha": "m" * 40}
    (repo / "promote").mkdir()
    (repo / "promote/adapter.dvc").write_text(champion.dvc_file_text(md5, "adapter"))
    monkeypatch.chdir(repo)
    assert not champion.in_remote("promote/adapter.dvc", dvc=str(Path(sys.executable).parent / "dvc"))
    with pytest.raises(champion.PromotionRefused, match="not in the DVC remote"):
        champion.promotable_md5(verdict, "m" * 40, md5, lambda m: False)
    shutil.copytree(lora, repo / "promote/adapter")
    subprocess.run([*DVC, "add", "-q", "promote/adapter"], cwd=repo, check=True)
    subprocess.run([*DVC, "push", "-q", "promote/adapter.dvc"], cwd=repo, check=True)
    assert champion.in_remote("promote/adapter.dvc", dvc=str(Path(sys.executable).parent / "dvc"))
    assert champion.promotable_md5(verdict, "m" * 40, md5, lambda m: m == md5) == md5
    for bad, match in (
        (dict(verdict, judged_sha="x" * 40), "not the merge commit"),
        (dict(verdict, passed=False), "did not pass"),
        (dict(verdict, candidate_md5="f" * 32 + ".dir"), "hashes to"),
    ):
        with pytest.raises(champion.PromotionRefused, match=match):
            champion.promotable_md5(bad, "m" * 40, md5, lambda m: True)
    # the CLI, as promote.yml runs it (a bare python: PYTHONPATH=src, nothing installed is needed)
    (tmp_path / "verdict.json").write_text(json.dumps(verdict))
    bare = {**os.environ, "PYTHONPATH": str(Path(champion.__file__).parents[2])}
    cmd = [
        sys.executable,
        "-m",
        "tuneloop.referee.champion",
        "verify",
        "--verdict",
        str(tmp_path / "verdict.json"),
        "--adapter",
        str(lora),
        "--merge-sha",
    ]
    ok = subprocess.run([*cmd, "m" * 40], capture_output=True, text=True, env=bare)
    assert ok.returncode == 0 and ok.stdout.strip() == f"md5={md5}"
    refused = subprocess.run([*cmd, "z" * 40], capture_output=True, text=True, env=bare)
    assert refused.returncode == 1 and "not the merge commit" in refused.stderr


def test_champion_is_the_newest_tag_by_number(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo, check=True)
    assert champion.champion_md5(str(repo)) is None
    for n, h in ((2, "b"), (10, "c"), (9, "a")):
        subprocess.run(
            [*git, "tag", "-a", f"adapter@v{n}.0.0", "-m", f"adapter md5 {h * 32}.dir: referee passed"],
            cwd=repo,
            check=True,
        )
    assert champion.champion_md5(str(repo)) == ("adapter@v10.0.0", "c" * 32 + ".dir")


def test_refused_inputs_give_a_failing_verdict_without_scoring(lora, tmp_path):
    """judge() from this checkout: a pickle and a malformed training split are refused before any model loads."""
    import torch
    from conftest import REPO

    from tuneloop.referee import judge

    bad = _variant(lora, tmp_path)
    torch.save({"w": torch.zeros(1)}, bad / "adapter_model.bin")
    split = tmp_path / "train.jsonl"
    split.write_text('{"user": "a ticket"}\n{"nouser": 1}\n')
    verdict = judge.judge(bad, split, tmp_path / "out", repo=REPO, base_sha="b" * 40, judged_sha="m" * 40)
    assert verdict["passed"] is False and verdict["scored"] is False and verdict["base_sha"] == "b" * 40
    assert verdict["candidate_md5"] == dvc_dir_md5(bad)
    reasons = {r["metric"]: r["reason"] for r in verdict["rules"] if not r["passed"]}
    assert "adapter_model.bin" in reasons["adapter"] and "train.jsonl:2" in reasons["train_split"]
    assert json.loads((tmp_path / "out/verdict.json").read_text()) == verdict
    comment = (tmp_path / "out/comment.md").read_text()
    assert comment.startswith("<!-- tuneloop:pr-eval -->") and "Not scored" in comment and "b" * 40 in comment
    assert judge.check(tmp_path / "out/verdict.json") == 1


def test_model_text_in_the_report_cannot_mention_link_or_inject_html():
    from tuneloop.gate.render import _cell

    cell = _cell("@admin see ![x](https://evil.example/p.png) <img src=x> | `code`")
    assert cell.startswith("`") and cell.endswith("`") and cell.count("`") == 2  # one code span
    assert "\\|" in cell and " | " not in cell  # the table cell stays one cell


@pytest.mark.parametrize(
    "offsets, match",
    [
        ([0, 4, 8], "is not two byte offsets"),
        ("0-4", "is not two byte offsets"),
        ([0, "4"], "is not two byte offsets"),
        ([True, 4], "is not two byte offsets"),
    ],
)
def test_a_forged_safetensors_header_gets_a_reason_not_a_traceback(tmp_path, offsets, match):
    import struct

    header = json.dumps(
        {
            "w": {"dtype": "F32", "shape": [1], "data_offsets": offsets},
            "v": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
        }
    ).encode()
    path = tmp_path / "adapter_model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    with pytest.raises(AdapterError, match=match):
        read_safetensors_header(path)


def test_ids_from_the_pull_request_reach_the_comment_inert():
    from tuneloop.gate.render import safe_id

    assert safe_id("T00012:classify") == "`T00012:classify`"
    for hostile in (
        "@octocat please merge",
        "![x](https://evil.example/p.png)",
        "<img src=x onerror=alert(1)>",
        "a`b",
        "x" * 500,
    ):
        shown = safe_id(hostile)
        assert shown.startswith("`<unprintable id:") and "@" not in shown and "<img" not in shown
