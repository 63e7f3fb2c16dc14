"""resolve_source order: bundled model → preset (name or HF id) → folder → file → hub (offline error)."""
from __future__ import annotations

import json

import pytest

from attnscope.arch import load_arch, resolve_source
from attnscope.errors import ConfigError, ModelSourceError


def _tiny_cfg():
    return {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 512, "rope_theta": 300.0,
            "max_position_embeddings": 256, "tie_word_embeddings": True}


def test_preset_by_name_and_case_insensitive_hf_id():
    a = resolve_source("pythia-70m")
    b = resolve_source("eleutherai/PYTHIA-70M")
    assert a.kind == b.kind == "preset" and a.name == b.name == "pythia-70m"
    assert a.hf_id == "EleutherAI/pythia-70m" and a.config_sha256 == b.config_sha256 and a.path is None


def test_bundled_model_folder_wins(tmp_path, monkeypatch):
    mdir = tmp_path / "tiny-main"
    mdir.mkdir()
    (mdir / "config.json").write_text(json.dumps(_tiny_cfg()))
    (mdir / "model.safetensors").write_bytes(b"\0" * 8)
    monkeypatch.setenv("ATTNSCOPE_MODELS_DIR", str(tmp_path))
    rs = resolve_source("tiny-main")
    assert rs.kind == "bundled-model" and rs.path == mdir
    spec = load_arch("tiny-main")
    assert spec.rope_theta == 300.0 and spec.source == "bundled-model:tiny-main"


def test_local_folder_with_and_without_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(_tiny_cfg()))
    rs = resolve_source(str(tmp_path))
    assert rs.kind == "folder" and rs.path is None
    (tmp_path / "pytorch_model-00001-of-00002.bin").write_bytes(b"\0")
    assert resolve_source(str(tmp_path)).path == tmp_path


def test_config_file_path(tmp_path):
    p = tmp_path / "my.json"
    p.write_text(json.dumps(_tiny_cfg()))
    rs = resolve_source(str(p))
    assert rs.kind == "file" and rs.config["rope_theta"] == 300.0


def test_folder_without_config_and_missing_path(tmp_path):
    with pytest.raises(ModelSourceError, match="no config.json"):
        resolve_source(str(tmp_path))
    with pytest.raises(ModelSourceError, match="no such file"):
        resolve_source(str(tmp_path / "nope.json"))


def test_offline_hub_id_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSourceError) as ei:
        resolve_source("some-org/some-model")
    msg = ei.value.one_line()
    assert "\n" not in msg and "HF_HUB_OFFLINE=1" in msg
    assert "huggingface-cli download some-org/some-model config.json" in msg


def test_config_that_is_not_json(tmp_path):
    p = tmp_path / "config.json"
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        resolve_source(str(p))
    p.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        resolve_source(str(p))


def test_config_sha256_is_canonical(tmp_path):
    cfg = _tiny_cfg()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(cfg, indent=2))
    b.write_text(json.dumps(dict(reversed(list(cfg.items())))))
    assert resolve_source(str(a)).config_sha256 == resolve_source(str(b)).config_sha256
    assert load_arch(str(a)).config_sha256 == resolve_source(str(a)).config_sha256


def test_hub_branch_uses_hf_hub_download_lazily(tmp_path, monkeypatch):
    """Online path, with the download stubbed (no network in tests)."""
    import huggingface_hub

    p = tmp_path / "config.json"
    p.write_text(json.dumps(_tiny_cfg()))
    calls = []

    def fake_download(repo_id, filename, revision=None):
        calls.append((repo_id, filename, revision))
        return str(p)

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    rs = resolve_source("some-org/tiny", revision="abc123")
    assert rs.kind == "hub" and rs.hf_id == "some-org/tiny" and rs.path is None
    assert calls == [("some-org/tiny", "config.json", "abc123")]
    assert load_arch("some-org/tiny").source == "hub:some-org/tiny"


def test_hub_failure_is_one_line(monkeypatch):
    import huggingface_hub

    def boom(repo_id, filename, revision=None):
        raise OSError("404 Client Error\nRepository Not Found")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", boom)
    with pytest.raises(ModelSourceError) as ei:
        resolve_source("some-org/missing")
    assert "\n" not in ei.value.one_line() and "Repository Not Found" in ei.value.one_line()
