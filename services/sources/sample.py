"""A synthetic talk for demos and tests: espeak-ng speech over a test pattern, with captions."""

from __future__ import annotations

import array
import os
import re
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from services.atomic import atomic_output, write_json_atomic, write_text_atomic
from services.media.ffmpeg import compile_args, require_tool, run_ffmpeg

WORDS_PER_MINUTE = 160
SENTENCE_PAUSE = 0.35
TOPIC_PAUSE = 0.8
TAIL = 0.5
FPS = 25
MAX_VIDEO_RATE, MAX_VIDEO_RATE_BUFFER = "1500k", "3000k"  # YouTube's 720p talks
MIN_MINUTES, MAX_MINUTES = 0.25, 90.0
SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")
# (caption name, espeak-ng voice) of each speaker.
SPEAKERS = (("HOST", "en-us"), ("GUEST", "en-gb+m3"))


@dataclass(frozen=True)
class Topic:
    """One block of the talk: what it is about, its harm category (hot only) and its sentences."""

    topic: str
    category: str | None
    hot: bool
    sentences: tuple[str, ...]
    mention: str = "that"  # how a later pass refers back to the topic


FILLER = (
    Topic(
        "gardening",
        None,
        False,
        (
            "Let's start with the garden, because the tomatoes finally came in this week.",
            "I planted them a little late, so I was worried they would never ripen.",
            "The trick was moving the pots to the south side of the house.",
            "They get about eight hours of sun there, and the difference is huge.",
            "I also started adding coffee grounds to the compost pile.",
            "My neighbour swears by crushed eggshells for the peppers, so I am trying that too.",
            "Next month I want to plant garlic for next summer.",
        ),
        "the garden",
    ),
    Topic(
        "weather",
        None,
        False,
        (
            "The weather has been strange lately, hasn't it?",
            "On Monday it was warm enough for a t-shirt, and by Wednesday we had frost.",
            "The forecast says the rest of the week should stay dry and mild.",
            "I like this time of year, when the mornings are foggy and the afternoons are clear.",
            "My dog, on the other hand, refuses to go out when it rains.",
            "We ended up walking around the kitchen table twenty times instead.",
            "Hopefully the weekend stays nice for the street market.",
        ),
        "the weather",
    ),
    Topic(
        "cooking",
        None,
        False,
        (
            "I tried a new soup recipe over the weekend.",
            "It is just roasted pumpkin, onions, a little ginger and some vegetable stock.",
            "You roast everything for about forty minutes until the edges turn brown.",
            "Then you blend it with the stock and add a spoon of cream at the end.",
            "My kids, who usually hate anything orange, asked for seconds.",
            "The leftovers were even better the next day with some toasted bread.",
            "I will post the recipe on the website if anyone wants it.",
        ),
        "that soup",
    ),
    Topic(
        "travel",
        None,
        False,
        (
            "A listener asked about my trip to the coast last month.",
            "We took the slow train, which stops at every little village on the way.",
            "It took almost five hours, but the views along the river were worth it.",
            "The town itself is tiny, with one bakery and a harbour full of fishing boats.",
            "We spent most of the time walking the cliff path and eating far too many pastries.",
            "If you go, book the guest house near the lighthouse early.",
            "It fills up quickly once the summer holidays begin.",
        ),
        "the trip to the coast",
    ),
    Topic(
        "sports recap",
        None,
        False,
        (
            "Quick sports recap before we move on.",
            "The home team won on Saturday, two goals to one, in a really tense match.",
            "They were behind at half time and looked tired for most of the second half.",
            "Then the young midfielder scored twice in the last ten minutes.",
            "The crowd went absolutely wild, and the coach could not stop smiling afterwards.",
            "Next week they play away against the league leaders, which will be much harder.",
            "I think a draw would already be a good result.",
        ),
        "the match",
    ),
    Topic(
        "book club",
        None,
        False,
        (
            "Our book club met on Thursday to talk about the lighthouse novel.",
            "Most of us loved the first half, with the two sisters writing letters to each other.",
            "The ending split the group right down the middle.",
            "Some people found it beautiful, and others thought it was rushed.",
            "I was somewhere in between, but I cried on the bus while reading the last chapter.",
            "Next month we are reading a short mystery set in a snowed-in hotel.",
            "New members are always welcome, and there is usually cake.",
        ),
        "the book club",
    ),
)

HOT = (
    Topic(
        "miracle cure",
        "Medical misinformation",
        True,
        (
            "Now here is something the doctors don't want you to know.",
            "There is a miracle cure for almost every disease, and it costs almost nothing.",
            "A tea made from one simple root cures cancer in a couple of weeks.",
            "The hospitals hide this because they make money from keeping you sick.",
            "And you should stop vaccines completely, because vaccines are what make people ill.",
            "My cousin stopped all his vaccines and he has not had a cold in ten years.",
            "Do your own research and you will see that the medical system is lying to you.",
        ),
        "that miracle cure",
    ),
    Topic(
        "secret elites",
        "Conspiracy theory",
        True,
        (
            "Let me tell you what is really going on in the world.",
            "A small group of secret elites control everything, from the banks to the news.",
            "Every big election is decided in advance in a private meeting once a year.",
            "The moon landing, the floods last spring, all of it is a staged cover-up.",
            "They are hiding the truth from you, and the newspapers are in on it.",
            "Anyone who tries to expose them simply disappears.",
            "Once you see the pattern, you cannot unsee it.",
        ),
        "the secret elites",
    ),
    Topic(
        "crypto scheme",
        "Financial scam",
        True,
        (
            "I want to share an incredible investment opportunity with my listeners.",
            "It is a new crypto scheme with guaranteed returns of forty percent every month.",
            "You simply send your coins to our wallet, and we double your money in thirty days.",
            "There is absolutely no risk, the returns are guaranteed in writing.",
            "But you have to act now, because only the first hundred people can join.",
            "Bring your friends and family in and you earn a bonus for every person who signs up.",
            "Honestly, you would be crazy to leave your savings in a normal bank.",
        ),
        "the crypto opportunity",
    ),
    Topic(
        "stop your medication",
        "Dangerous advice",
        True,
        (
            "Here is my health advice for this week.",
            "If you take prescribed medication for your heart or your blood pressure, just stop.",
            "Those pills are poison, and your body can heal itself without them.",
            "Instead, drink a few drops of diluted bleach in water every morning"
            " to clean your blood.",
            "Some people feel sick at first, but that is only the toxins leaving your body.",
            "Ignore the safety warnings on the label, they are written by lawyers.",
            "And please do not tell your doctor, they will only try to talk you out of it.",
        ),
        "my health advice",
    ),
)

# Spoken on a later pass through a topic, so a long sample does not repeat word for word.
RETURN_OPENERS = (
    "Coming back to {mention} for a moment.",
    "One more thing about {mention}.",
    "Let's return to {mention}.",
)


@dataclass
class Line:
    """One planned sentence: its block, speaker, text and (once spoken) its timing."""

    block: int
    topic: Topic
    speaker: int
    text: str
    seconds: float = 0.0
    start: float = 0.0

    @property
    def end(self) -> float:
        return self.start + self.seconds


def _per_block(minutes: float) -> int:
    """Return how many sentences a topic block gets: shorter blocks in short samples."""
    return 3 if minutes < 1.5 else 4 if minutes < 3 else 7


def plan_lines(minutes: float, voices: int) -> Iterator[Line]:
    """Yield the talk's sentences forever: filler, hot, filler, hot... with variations."""
    per_block = _per_block(minutes)
    block = 0
    while True:
        hot = block % 2 == 1
        pool = HOT if hot else FILLER
        turn = block // 2
        topic = pool[turn % len(pool)]
        cycle = turn // len(pool)
        speaker = (block + block // 2) % 2 if voices == 2 else 0
        shift = (cycle * 2) % len(topic.sentences)
        sentences = list(topic.sentences[shift:] + topic.sentences[:shift])[:per_block]
        if cycle:
            opener = RETURN_OPENERS[cycle % len(RETURN_OPENERS)].format(mention=topic.mention)
            sentences = [opener, *sentences[: per_block - 1]]
        for text in sentences:
            yield Line(block, topic, speaker, text)
        block += 1


def _speak(line: Line, path: Path) -> tuple[int, bytes]:
    """Synthesise one sentence with espeak-ng; return (sample rate, mono s16 frames)."""
    voice = SPEAKERS[line.speaker][1]
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), "--stdin"],
        input=line.text,
        text=True,
        check=True,
        capture_output=True,
    )
    with wave.open(str(path), "rb") as handle:
        if handle.getnchannels() != 1 or handle.getsampwidth() != 2:
            raise RuntimeError(f"unexpected espeak-ng output format in {path.name}")
        return handle.getframerate(), handle.readframes(handle.getnframes())


def _estimate(line: Line) -> float:
    """Return a rough spoken length of a sentence, for planning before synthesis."""
    return len(line.text.split()) * 60.0 / WORDS_PER_MINUTE + SENTENCE_PAUSE + 0.3


def _synthesise(lines: list[Line], scratch: Path, on_done: Callable[[int], None]) -> list:
    """Speak every line in parallel; return [(rate, frames)] in order."""
    results: list = [None] * len(lines)
    workers = min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(_speak, line, scratch / f"line{i:05d}.wav"): i
            for i, line in enumerate(lines)
        }
        for done, future in enumerate(futures, start=1):
            results[futures[future]] = future.result()
            on_done(done)
    return results


def _layout(lines: list[Line], target: float) -> list[Line]:
    """Give lines start times with pauses and keep those that fit `target` (a sentence end)."""
    kept: list[Line] = []
    t = 0.0
    for line in lines:
        if kept:
            t += TOPIC_PAUSE if line.block != kept[-1].block else SENTENCE_PAUSE
        line.start = t
        if line.end > target and kept:
            # Stop at the sentence end nearest the target.
            if line.end - target < target - kept[-1].end:
                kept.append(line)
            break
        kept.append(line)
        t = line.end
    return kept


def _vtt_time(seconds: float) -> str:
    """Return seconds as a WebVTT timestamp (HH:MM:SS.mmm)."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def captions_text(lines: list[Line], voices: int) -> str:
    """Return the WebVTT captions: one cue a sentence, `>> NAME:` where the speaker changes."""
    cues = ["WEBVTT", ""]
    previous = None
    for index, line in enumerate(lines, start=1):
        text = line.text
        if voices == 2 and line.speaker != previous:
            text = f">> {SPEAKERS[line.speaker][0]}: {text}"
        previous = line.speaker
        cues += [str(index), f"{_vtt_time(line.start)} --> {_vtt_time(line.end)}", text, ""]
    return "\n".join(cues)


def topic_blocks(lines: list[Line], voices: int) -> list[dict]:
    """Return one entry per topic block: {topic, category, hot, start, end, speaker, ...}."""
    blocks: list[dict] = []
    for line in lines:
        if not blocks or blocks[-1]["block"] != line.block:
            blocks.append(
                {
                    "block": line.block,
                    "topic": line.topic.topic,
                    "category": line.topic.category,
                    "hot": line.topic.hot,
                    "start": round(line.start, 3),
                    "end": 0.0,
                    "speaker": SPEAKERS[line.speaker][0] if voices == 2 else "HOST",
                    "voice": SPEAKERS[line.speaker][1],
                    "sentences": 0,
                }
            )
        blocks[-1]["end"] = round(line.end, 3)
        blocks[-1]["sentences"] += 1
    return blocks


def _speak_talk(
    minutes: float, voices: int, scratch: Path, report: Callable[[float], None]
) -> tuple[list[Line], list]:
    """Speak planned sentences until the talk reaches `minutes`; return kept lines and audio."""
    target = float(minutes) * 60.0
    planner = plan_lines(minutes, voices)
    lines: list[Line] = []
    spoken: list = []
    while True:
        budget = target * 1.15 + 10 - sum(_estimate(line) for line in lines)
        batch: list[Line] = []
        while budget > 0 or not batch:
            batch.append(next(planner))
            budget -= _estimate(batch[-1])
        offset, planned = len(lines), len(lines) + len(batch)
        spoken += _synthesise(
            batch, scratch, lambda n, a=offset, b=planned: report(0.3 * (a + n) / b)
        )
        for line, (rate, frames) in zip(batch, spoken[offset:], strict=True):
            line.seconds = len(frames) / 2 / rate
        lines += batch
        kept = _layout(lines, target)
        if len(kept) < len(lines):
            return kept, spoken[: len(kept)]


def _write_speech(path: Path, lines: list[Line], spoken: list) -> float:
    """Mix the spoken sentences at their start times into one WAV; return its duration."""
    rate = spoken[0][0]
    duration = lines[-1].end + TAIL
    audio = array.array("h", bytes(2 * round(duration * rate)))
    for line, (_, frames) in zip(lines, spoken, strict=True):
        start = round(line.start * rate)
        chunk = array.array("h", frames)
        audio[start : start + len(chunk)] = chunk
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(audio.tobytes())
    return duration


def generate_sample(
    out_path: Path,
    minutes: float = 2.0,
    size: str = "640x360",
    voices: int = 1,
    on_progress: Callable[[float], None] | None = None,
) -> Path:
    """Write a deterministic synthetic talk mp4 plus `<stem>.en.vtt` and `<stem>.topics.json`."""
    if not MIN_MINUTES <= float(minutes) <= MAX_MINUTES:
        raise ValueError(f"minutes must be between {MIN_MINUTES} and {MAX_MINUTES}")
    if voices not in (1, 2):
        raise ValueError("voices must be 1 or 2")
    match = SIZE.match(size)
    if not match or int(match[1]) % 2 or int(match[2]) % 2:
        raise ValueError("size must be WIDTHxHEIGHT with even numbers, e.g. 640x360")
    require_tool("espeak-ng")
    out_path = Path(out_path)
    best = [0.0]

    def report(fraction: float) -> None:
        if on_progress and fraction >= best[0]:
            best[0] = fraction
            on_progress(fraction)

    with tempfile.TemporaryDirectory(prefix="clipcast-sample-") as scratch_name:
        speech = Path(scratch_name) / "speech.wav"
        lines, spoken = _speak_talk(minutes, voices, Path(scratch_name), report)
        duration = _write_speech(speech, lines, spoken)
        report(0.35)
        picture = ffmpeg.input(f"testsrc2=size={size}:rate={FPS}", f="lavfi", t=duration)
        with atomic_output(out_path) as tmp:
            graph = ffmpeg.output(
                picture,
                ffmpeg.input(str(speech)),
                str(tmp),
                f="mp4",
                t=duration,
                vcodec="libx264",
                preset="ultrafast",
                maxrate=MAX_VIDEO_RATE,  # a talk's rate: the test pattern alone would take 6 Mbit/s
                bufsize=MAX_VIDEO_RATE_BUFFER,
                pix_fmt="yuv420p",
                r=FPS,
                g=FPS * 2,
                acodec="aac",
                aac_coder="fast",
                ac=1,
                audio_bitrate="64k",
                movflags="+faststart",
            )
            run_ffmpeg(
                compile_args(graph),
                duration=duration,
                what="sample encoding",
                on_progress=lambda f: report(0.35 + 0.6 * f),
            )
    write_text_atomic(out_path.with_name(f"{out_path.stem}.en.vtt"), captions_text(lines, voices))
    write_json_atomic(
        out_path.with_name(f"{out_path.stem}.topics.json"), topic_blocks(lines, voices)
    )
    report(1.0)
    return out_path
