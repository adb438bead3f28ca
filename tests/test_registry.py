"""The registry on real git + DVC + GTO: register, promote, rollback, stock, refusals, the table, files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers.registry_repo import dvc, git, make_repo, train_and_commit, verdict

from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5
from tuneloop.registry.files import materialize
from tuneloop.registry.store import Registry, RegistryError


def _adapter(path, content: str):
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "tag": content}))
    (path / "sub").mkdir()
    (path / "sub" / "w.bin").write_bytes(content.encode() * 100)
    return path


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reg")
    adapters = {name: _adapter(tmp / "src" / name, name) for name in ("a", "b", "c")}
    root = make_repo(tmp / "repo", adapters)
    md5 = {}
    summary = {"gate": {"passed": True}, "classify": {"acc": {"pre": 0.01, "post": 0.72}}}
    for name in ("a", "b", "c"):
        md5[name] = train_and_commit(root, name, summary)
        reg = Registry(root)
        reg.register("HEAD", verdict=verdict(md5[name], passed=name != "c"))
    return root, md5


def test_dvc_dir_md5_is_the_md5_dvc_records(repo):
    root, md5 = repo
    assert dvc_dir_md5(root / "models" / "adapter") == md5["c"]


def test_register_writes_gto_tags_with_facts_and_the_verdict(repo):
    root, md5 = repo
    tags = git(root, "tag", "--list", "adapter@*").split()
    assert tags == ["adapter@v1.0.0", "adapter@v2.0.0", "adapter@v3.0.0"]
    v1 = Registry(root).version("v1.0.0")
    assert v1.md5 == md5["a"] and v1.verdict["passed"] is True and v1.info["metrics"]["classify.acc"] == 0.72
    assert v1.info["data_md5"] == {"data/splits/train.jsonl": v1.info["data_md5"]["data/splits/train.jsonl"]}
    shown = git(root, "tag", "-n99", "adapter@v1.0.0")  # what a reviewer sees
    assert md5["a"] in shown and "referee verdict" in shown
    with pytest.raises(RegistryError, match="already registered as v3.0.0"):
        Registry(root).register("HEAD")


def test_verdict_for_another_adapter_is_not_attached(repo, tmp_path):
    root, md5 = repo
    with pytest.raises(RegistryError, match="already registered|refusing to attach"):
        Registry(root).register("HEAD", verdict=verdict("f" * 32 + ".dir"))


def test_promote_rollback_stock_keep_one_production_and_all_history(repo):
    root, md5 = repo
    reg = Registry(root)
    with pytest.raises(RegistryError, match="referee failed"):
        reg.promote("v3.0.0", "production")
    with pytest.raises(RegistryError, match="unknown stage"):
        reg.promote("v1.0.0", "canary")
    with pytest.raises(RegistryError, match="unknown version"):
        reg.promote("v9.0.0", "production")
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback()
    reg.promote("v1.0.0", "production")
    reg.promote("v2.0.0", "production")
    state = reg.state()
    assert state.holder("production") == "v2.0.0"
    assert [e.version for e in state.events if e.action == "assign"] == ["v1.0.0", "v2.0.0"]
    assert reg.rollback() == {"stage": "production", "version": "v1.0.0", "previous": "v2.0.0", "adapter_md5": md5["a"]}
    assert reg.state().holder("production") == "v1.0.0"
    reg.stock()
    assert reg.state().holder("production") is None
    with pytest.raises(RegistryError, match="already serves the stock base"):
        reg.stock()
    reg.rollback()  # undo the stock: back to v1
    assert reg.state().holder("production") == "v1.0.0"
    reg.promote("v2.0.0", "staging")
    rows = {r["version"]: r for r in reg.table()}
    assert rows["v1.0.0"]["stage"] == "production" and rows["v2.0.0"]["stage"] == "staging"
    assert rows["v3.0.0"]["stage"] == "registered" and rows["v3.0.0"]["verdict"] == "failed"
    # GTO reads the same tags (its own ordering is by timestamp, one-second resolution: tuneloop uses
    # the tag counter, so a promote and a rollback within one second still order correctly)
    from gto import api

    assert {v["version"] for v in api.show(str(root), "adapter")} == {"v1.0.0", "v2.0.0", "v3.0.0"}
    # nothing deleted: every change is a tag
    assert len(git(root, "tag", "--list", "adapter#*").split()) == len(reg.state().events) == 8


def test_a_version_without_a_verdict_cannot_change_stage(tmp_path):
    root = make_repo(tmp_path / "r", {"a": _adapter(tmp_path / "a", "a")})
    train_and_commit(root, "a")
    reg = Registry(root)
    v = reg.register("HEAD")
    assert v.verdict is None
    with pytest.raises(RegistryError, match="never passed the referee"):
        reg.promote(v.name, "staging")
    from gto import api

    api.deregister(str(root), "adapter", version=v.name)  # withdrawn: `gto deregister adapter v1.0.0`
    assert reg.table()[0]["stage"] == "deprecated"
    with pytest.raises(RegistryError, match="deregistered"):
        reg.promote(v.name, "staging")


def test_materialize_from_the_dvc_cache_checks_the_md5(repo, tmp_path):
    root, md5 = repo
    out = materialize(md5["a"], tmp_path / "store", root)
    assert (out / "sub" / "w.bin").read_bytes() == b"a" * 100 and dvc_dir_md5(out) == md5["a"]
    assert materialize(md5["a"], tmp_path / "store", root) == out  # second time: from the store
    with pytest.raises(FileNotFoundError, match="dvc pull"):
        materialize("0" * 32 + ".dir", tmp_path / "store", root)


def test_cli_registry_promote_and_refusal(repo):
    root, _ = repo
    cli = [sys.executable, "-m", "tuneloop.cli"]
    shown = subprocess.run(cli + ["registry", "list"], cwd=root, capture_output=True, text=True)
    assert shown.returncode == 0 and "v3.0.0" in shown.stdout and "production" in shown.stdout
    refused = subprocess.run(
        cli + ["registry", "promote", "v3.0.0", "--stage", "production"], cwd=root, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "referee failed" in refused.stderr
    as_json = json.loads(
        subprocess.run(cli + ["registry", "list", "--json"], cwd=root, capture_output=True, text=True).stdout
    )
    assert {r["version"] for r in as_json} == {"v1.0.0", "v2.0.0", "v3.0.0"}
    dvc(root, "status")  # the repo stays a healthy DVC repo
