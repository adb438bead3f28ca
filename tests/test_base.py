"""base: a local folder is copied with provenance; a tampered offline wheel is refused."""

from __future__ import annotations

import zipfile

import pytest

from tuneloop.io import read_json
from tuneloop.train import base


def test_local_folder_becomes_models_base_with_provenance(tiny_model_dir, tmp_path):
    model = {
        "name": "tiny",
        "local_path": str(tiny_model_dir),
        "hub_id": None,
        "license": "apache-2.0",
        "parameters": "0.1M",
    }
    out = base.run({"model": model}, tmp_path / "base")
    assert (out / "config.json").exists() and (out / "tokenizer.json").exists()
    assert read_json(out / base.PROVENANCE_FILE)["source"] == "local"


def test_missing_local_folder_is_a_clear_error(tmp_path):
    model = {"name": "x", "local_path": str(tmp_path / "nope"), "hub_id": None}
    with pytest.raises(base.BaseModelError, match="no config.json"):
        base.run({"model": model}, tmp_path / "base")
    assert not (tmp_path / "base").exists() and not (tmp_path / "base.partial").exists()


def test_offline_wheel_with_wrong_sha256_is_refused(tmp_path):
    wheel = tmp_path / "fake_model-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake_model/model.gguf", b"not a model")
        zf.writestr("fake_model-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: fake-model\nVersion: 0.1\n")
        zf.writestr("fake_model-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("fake_model-0.1.dist-info/RECORD", "")
    offline = {"wheel": str(wheel), "sha256": "0" * 64, "gguf_file": "fake_model/model.gguf"}
    model = {"name": "x", "local_path": None, "hub_id": None, "offline": offline}
    with pytest.raises(base.BaseModelError, match="does not match model.offline.sha256"):
        base.run({"model": model}, tmp_path / "base")
