"""A small evaluation corpus of real recorded English speech with exact reference texts.

Built from Debian packages that ship human recordings together with their texts (no speech
synthesis anywhere):

* asterisk-core-sounds-en-g722: the Asterisk PBX voice prompts, recorded by Allison Smith,
  in G.722 (16 kHz wideband). Their texts come from core-sounds-en.txt in
  asterisk-core-sounds-en. Licence CC-BY-SA-3.0. Prompts are joined into four "talks" of
  about 65 to 90 seconds with half a second of silence between them.
* pocketsphinx-testdata: five sentences (utterances 870 to 930) of a LibriVox reading of
  "Sense and Sensibility" (chapter 1) with their verbatim transcription (the reader's
  repeated "a" is in it). The recording is public domain (LibriVox); the package is
  BSD-2-Clause.

The packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a cache
folder (default `.eval/cache`): nothing is installed on the system, no root is needed when the
apt lists are current (as root, a missing package triggers one `apt-get update`), and files
under /usr/share/doc that slim images drop on install (the prompt texts) are still there.

    python -m evaluation.corpus [--target .eval/corpus] [--cache .eval/cache]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TARGET = ROOT / ".eval" / "corpus"
DEFAULT_CACHE = ROOT / ".eval" / "cache"
CORPUS_VERSION = 1
SAMPLE_RATE = 16_000
GAP_SECONDS = 0.5  # silence between joined prompts or sentences
JOIN_GAP_SECONDS = 1.0  # silence between the two speakers of the joined file


class CorpusError(RuntimeError):
    """The corpus could not be built (missing tool, package or file)."""


@dataclass(frozen=True)
class Package:
    """A Debian package that ships recordings or their texts."""

    name: str
    licence: str
    attribution: str


ASTERISK_AUDIO = Package(
    "asterisk-core-sounds-en-g722",
    "CC-BY-SA-3.0",
    "Asterisk voice prompts recorded by Allison Smith (theivrvoice.com), funded by Digium",
)
ASTERISK_TEXTS = Package(
    "asterisk-core-sounds-en",
    "CC-BY-SA-3.0",
    "Texts of the Asterisk core sounds (core-sounds-en.txt)",
)
POCKETSPHINX_TESTDATA = Package(
    "pocketsphinx-testdata",
    "BSD-2-Clause (package); the LibriVox recording itself is public domain",
    "CMU Sphinx test data: LibriVox reading of Jane Austen, Sense and Sensibility, chapter 1",
)

ALLISON = "allison_smith"
LIBRIVOX_READER = "librivox_sense_and_sensibility_reader"

ASTERISK_SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"
ASTERISK_TEXT_FILE = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
LIBRIVOX_DIR = "usr/share/pocketsphinx/test/data/librivox"


@dataclass(frozen=True)
class Recipe:
    """How one corpus file is made: which recordings of which speaker, in order."""

    name: str
    speaker: str
    kind: str  # "asterisk" or "librivox"
    parts: tuple[str, ...]


RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "allison_demo",
        ALLISON,
        "asterisk",
        ("demo-congrats", "demo-echotest", "demo-abouttotry", "demo-nogo", "demo-thanks"),
    ),
    Recipe(
        "allison_voicemail",
        ALLISON,
        "asterisk",
        (
            "vm-options",
            "vm-msginstruct",
            "vm-instructions",
            "vm-record-prepend",
            "vm-tempgreeting2",
            "vm-newuser",
            "vm-invalid-password",
            "vm-rec-temp",
            "vm-rec-unv",
            "vm-saveoper",
            "vm-nobox",
        ),
    ),
    Recipe(
        "allison_conference",
        ALLISON,
        "asterisk",
        (
            "conf-adminmenu-162",
            "conf-usermenu",
            "confbridge-mute-extended",
            "confbridge-pin",
            "confbridge-pin-bad",
            "conf-invalid",
            "confbridge-only-participant",
            "conf-roll-callcomplete",
            "confbridge-lock-no-join",
            "conf-getconfno",
        ),
    ),
    Recipe(
        "allison_callcentre",
        ALLISON,
        "asterisk",
        (
            "basic-pbx-ivr-main",
            "tt-allbusy",
            "queue-youarenext",
            "agent-alreadyon",
            "ss-noservice",
            "pbx-invalid",
            "priv-introsaved",
            "auth-incorrect",
        ),
    ),
    Recipe(
        "librivox_sense_and_sensibility",
        LIBRIVOX_READER,
        "librivox",
        tuple(f"sense_and_sensibility_01_austen_64kb-{n:04d}" for n in (870, 880, 890, 920, 930)),
    ),
)


@dataclass(frozen=True)
class CorpusItem:
    """One recording of the corpus: a 16 kHz mono WAV and its exact reference text."""

    name: str
    wav: Path
    seconds: float
    speaker: str
    package: str
    version: str
    licence: str
    reference: str
    parts: tuple[str, ...]

    @property
    def text_path(self) -> Path:
        """Return the path of the reference text file beside the WAV."""
        return self.wav.with_suffix(".txt")

    def to_json(self) -> dict[str, object]:
        """Return the manifest entry of this item (file names relative to the corpus)."""
        entry = asdict(self)
        entry["wav"] = self.wav.name
        entry["text"] = self.text_path.name
        entry["parts"] = list(self.parts)
        return entry

    @classmethod
    def from_json(cls, entry: dict, folder: Path) -> CorpusItem:
        """Return the item that a manifest entry describes, its files in `folder`."""
        return cls(
            name=entry["name"],
            wav=folder / entry["wav"],
            seconds=float(entry["seconds"]),
            speaker=entry["speaker"],
            package=entry["package"],
            version=entry["version"],
            licence=entry["licence"],
            reference=entry["reference"],
            parts=tuple(entry["parts"]),
        )


@dataclass(frozen=True)
class Turn:
    """One speaker's stretch of a joined recording, in seconds."""

    speaker: str
    start: float
    end: float


@dataclass(frozen=True)
class JoinedRecording:
    """A WAV of one real speaker followed by another, for speaker-count and diarization tests."""

    wav: Path
    seconds: float
    reference: str
    turns: tuple[Turn, ...]
    sources: tuple[str, ...]

    @property
    def speakers(self) -> list[str]:
        """Return the distinct speakers in order of appearance."""
        return list(dict.fromkeys(turn.speaker for turn in self.turns))


# --- packages ------------------------------------------------------------------------------


def _run(command: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(list(command), cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as error:
        raise CorpusError(f"{command[0]} is not installed (dpkg-deb, apt-get, ffmpeg)") from error


def _last_line(output: bytes) -> str:
    lines = [line for line in output.decode(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("E:", "dpkg"))]
    return (errors or lines or ["no output"])[-1]


def _download(name: str, debs: Path) -> Path:
    """Fetch the candidate version of a package into `debs` with apt-get download."""
    debs.mkdir(parents=True, exist_ok=True)
    result = _run(["apt-get", "download", "-q", name], cwd=debs)
    if result.returncode != 0 and hasattr(os, "geteuid") and os.geteuid() == 0:
        _run(["apt-get", "update", "-qq"])  # the lists may be missing or stale on a new machine
        result = _run(["apt-get", "download", "-q", name], cwd=debs)
    found = sorted(debs.glob(f"{name}_*.deb"), key=lambda path: path.stat().st_mtime)
    if result.returncode != 0 or not found:
        raise CorpusError(
            f"apt-get download {name} failed: {_last_line(result.stderr + result.stdout)}"
            " (run `apt-get update` first, as root)"
        )
    return found[-1]


def fetch_package(name: str, cache: Path) -> tuple[Path, str]:
    """Download (once) and unpack (once) a Debian package; return its root folder and version."""
    debs = cache / "debs"
    found = sorted(debs.glob(f"{name}_*.deb"), key=lambda path: path.stat().st_mtime)
    deb = found[-1] if found else _download(name, debs)
    result = _run(["dpkg-deb", "-f", str(deb), "Version"])
    if result.returncode != 0 and found:  # a broken download left behind: fetch it again
        deb.unlink()
        deb = _download(name, debs)
        result = _run(["dpkg-deb", "-f", str(deb), "Version"])
    if result.returncode != 0:
        raise CorpusError(f"{deb.name} is not a readable package: {_last_line(result.stderr)}")
    version = result.stdout.decode().strip()
    root = cache / "root" / f"{name}_{version}"
    stamp = root / ".unpacked"
    if not stamp.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        result = _run(["dpkg-deb", "-x", str(deb), str(root)])
        if result.returncode != 0:
            raise CorpusError(f"dpkg-deb -x {deb.name} failed: {_last_line(result.stderr)}")
        stamp.touch()
    return root, version


# --- sources -------------------------------------------------------------------------------


def spoken_prompt_text(text: str) -> str:
    """Return a prompt text as spoken: no ellipses, "*" and "#" as the words she says."""
    text = text.replace("*", " star ").replace("#", " pound ")
    text = re.sub(r"\.\.\.|\u2026", " ", text)
    return " ".join(text.split())


def read_asterisk_texts(root: Path) -> dict[str, str]:
    """Return prompt name -> text from core-sounds-en.txt of asterisk-core-sounds-en."""
    path = root / ASTERISK_TEXT_FILE
    if not path.exists():
        raise CorpusError(f"{path} is missing from asterisk-core-sounds-en")
    texts: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            texts[name.strip()] = text.strip()
    return texts


def read_librivox_transcription(root: Path) -> dict[str, str]:
    """Return utterance id -> text from pocketsphinx's `<s> text </s> (id)` transcription."""
    path = root / LIBRIVOX_DIR / "transcription"
    if not path.exists():
        raise CorpusError(f"{path} is missing from pocketsphinx-testdata")
    texts: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^)]+)\)\s*", line)
        if match:
            texts[match.group(2)] = " ".join(match.group(1).split())
    return texts


def decode_pcm(path: Path, input_args: Sequence[str] = ()) -> bytes:
    """Return the audio of `path` as 16 kHz mono signed 16-bit PCM, decoded by ffmpeg."""
    command = ["ffmpeg", "-nostdin", "-v", "error", *input_args, "-i", str(path)]
    command += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    result = _run(command)
    if result.returncode != 0 or not result.stdout:
        raise CorpusError(f"ffmpeg could not decode {path}: {_last_line(result.stderr)}")
    return result.stdout


def write_wav(path: Path, pcm: bytes) -> float:
    """Write 16 kHz mono 16-bit PCM to `path` atomically; return its length in seconds."""
    partial = path.with_name(path.name + ".partial")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    partial.replace(path)
    return round(len(pcm) / 2 / SAMPLE_RATE, 3)


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _silence(seconds: float) -> bytes:
    return b"\0\0" * round(seconds * SAMPLE_RATE)


def _parts(recipe: Recipe, roots: dict[str, Path]) -> list[tuple[bytes, str]]:
    """Return (PCM, reference text) for each recording of a recipe."""
    if recipe.kind == "asterisk":
        texts = read_asterisk_texts(roots[ASTERISK_TEXTS.name])
        sounds = roots[ASTERISK_AUDIO.name] / ASTERISK_SOUNDS
        found = []
        for part in recipe.parts:
            if part not in texts:
                raise CorpusError(f"no text for the Asterisk prompt {part}")
            pcm = decode_pcm(sounds / f"{part}.g722", ["-f", "g722"])
            found.append((pcm, spoken_prompt_text(texts[part])))
        return found
    if recipe.kind == "librivox":
        folder = roots[POCKETSPHINX_TESTDATA.name] / LIBRIVOX_DIR
        texts = read_librivox_transcription(roots[POCKETSPHINX_TESTDATA.name])
        return [(decode_pcm(folder / f"{part}.wav"), texts[part]) for part in recipe.parts]
    raise CorpusError(f"unknown recipe kind {recipe.kind!r}")


def _audio_package(recipe: Recipe) -> Package:
    return ASTERISK_AUDIO if recipe.kind == "asterisk" else POCKETSPHINX_TESTDATA


def _packages(recipes: Sequence[Recipe]) -> list[Package]:
    kinds = {recipe.kind for recipe in recipes}
    wanted = []
    if "asterisk" in kinds:
        wanted += [ASTERISK_AUDIO, ASTERISK_TEXTS]
    if "librivox" in kinds:
        wanted.append(POCKETSPHINX_TESTDATA)
    return wanted


def recipe_fingerprint(recipes: Sequence[Recipe] = RECIPES) -> str:
    """Return a short hash of what the corpus is made of (a change means a rebuild)."""
    spec = {
        "version": CORPUS_VERSION,
        "rate": SAMPLE_RATE,
        "gap": GAP_SECONDS,
        "recipes": [asdict(recipe) for recipe in recipes],
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


# --- corpus --------------------------------------------------------------------------------


def load_corpus(target: Path = DEFAULT_TARGET) -> list[CorpusItem] | None:
    """Return the items of an up-to-date built corpus in `target`, or None."""
    target = Path(target)
    data = _read_json(target / "manifest.json")
    if data.get("fingerprint") != recipe_fingerprint():
        return None
    items = [CorpusItem.from_json(entry, target) for entry in data.get("items", [])]
    if not items or not all(item.wav.exists() and item.text_path.exists() for item in items):
        return None
    return items


def build_corpus(target: Path = DEFAULT_TARGET, cache: Path = DEFAULT_CACHE) -> list[CorpusItem]:
    """Build (or reuse) the corpus in `target`: <name>.wav, <name>.txt and manifest.json."""
    target = Path(target)
    existing = load_corpus(target)
    if existing is not None:
        return existing
    target.mkdir(parents=True, exist_ok=True)
    roots: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for package in _packages(RECIPES):
        roots[package.name], versions[package.name] = fetch_package(package.name, Path(cache))
    items = []
    for recipe in RECIPES:
        parts = _parts(recipe, roots)
        pcm = _silence(GAP_SECONDS).join(part_pcm for part_pcm, _ in parts)
        wav = target / f"{recipe.name}.wav"
        seconds = write_wav(wav, pcm)
        _write_text(wav.with_suffix(".txt"), "\n".join(text for _, text in parts) + "\n")
        package = _audio_package(recipe)
        items.append(
            CorpusItem(
                name=recipe.name,
                wav=wav,
                seconds=seconds,
                speaker=recipe.speaker,
                package=package.name,
                version=versions[package.name],
                licence=package.licence,
                reference=" ".join(text for _, text in parts),
                parts=recipe.parts,
            )
        )
    packages = {
        package.name: {
            "version": versions[package.name],
            "licence": package.licence,
            "attribution": package.attribution,
        }
        for package in _packages(RECIPES)
    }
    manifest = {
        "fingerprint": recipe_fingerprint(),
        "sample_rate": SAMPLE_RATE,
        "total_seconds": round(sum(item.seconds for item in items), 3),
        "speakers": sorted({item.speaker for item in items}),
        "packages": packages,
        "items": [item.to_json() for item in items],
    }
    _write_text(target / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return items


def _read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as source:
        if (source.getframerate(), source.getnchannels()) != (SAMPLE_RATE, 1):
            raise CorpusError(f"{path} is not 16 kHz mono")
        return source.readframes(source.getnframes())


def joined_two_speakers(
    target: Path = DEFAULT_TARGET,
    items: Sequence[CorpusItem] | None = None,
    name: str = "two_speakers",
) -> JoinedRecording:
    """Write joined/<name>.wav: the shortest file of one real speaker, then another's."""
    target = Path(target)
    if items is None:
        items = build_corpus(target)
    shortest: dict[str, CorpusItem] = {}
    for item in items:
        if item.speaker not in shortest or item.seconds < shortest[item.speaker].seconds:
            shortest[item.speaker] = item
    if len(shortest) < 2:
        raise CorpusError("the corpus has fewer than two real speakers")
    first, second = list(shortest.values())[:2]
    folder = target / "joined"
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"{name}.wav"
    second_start = round(first.seconds + JOIN_GAP_SECONDS, 3)
    seconds = round(second_start + second.seconds, 3)
    built = _read_json(wav.with_suffix(".json"))
    if not (
        wav.exists()
        and built.get("sources") == [first.name, second.name]
        and built.get("seconds") == seconds
        and built.get("fingerprint") == recipe_fingerprint()
    ):
        gap = _silence(JOIN_GAP_SECONDS)
        seconds = write_wav(wav, _read_pcm(first.wav) + gap + _read_pcm(second.wav))
    joined = JoinedRecording(
        wav=wav,
        seconds=seconds,
        reference=f"{first.reference} {second.reference}",
        turns=(
            Turn(first.speaker, 0.0, first.seconds),
            Turn(second.speaker, second_start, round(second_start + second.seconds, 3)),
        ),
        sources=(first.name, second.name),
    )
    _write_text(wav.with_suffix(".txt"), joined.reference + "\n")
    info = {
        "fingerprint": recipe_fingerprint(),
        "wav": wav.name,
        "seconds": seconds,
        "speakers": joined.speakers,
        "turns": [asdict(turn) for turn in joined.turns],
        "sources": list(joined.sources),
        "reference": joined.reference,
    }
    _write_text(wav.with_suffix(".json"), json.dumps(info, indent=2) + "\n")
    return joined


def format_table(items: Sequence[CorpusItem]) -> str:
    """Return a plain-text table of the corpus items and their totals."""
    rows = [("name", "seconds", "words", "speaker", "package", "licence")]
    for item in items:
        words = str(len(item.reference.split()))
        package = f"{item.package} {item.version}"
        rows.append((item.name, f"{item.seconds:.1f}", words, item.speaker, package, item.licence))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    widths[-1] = 0  # the last column is not padded
    lines = ["  ".join(map(str.ljust, row, widths)).rstrip() for row in rows]
    total = sum(item.seconds for item in items)
    voices = len({item.speaker for item in items})
    minutes = total / 60
    lines.append(f"total: {len(items)} files, {total:.1f} s ({minutes:.2f} min), {voices} voices")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpus and the two-speaker file, then print what they hold."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.corpus",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="corpus folder")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="package cache folder")
    args = parser.parse_args(argv)
    try:
        items = build_corpus(args.target, args.cache)
        joined = joined_two_speakers(args.target, items)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_table(items))
    turns = ", ".join(f"{t.speaker} {t.start:.1f}-{t.end:.1f} s" for t in joined.turns)
    print(f"joined: {joined.wav} ({joined.seconds:.1f} s): {turns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
