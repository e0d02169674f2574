"""Hand-written transcripts for the analysis and narrative stage tests."""

from __future__ import annotations

from pathlib import Path

from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles

GARDEN = [
    "Welcome back to the show, today we start in the garden with tomatoes.",
    "Tomatoes need full sun and rich soil to grow well in the summer.",
    "I like to add compost to the soil every spring before planting.",
    "Water the tomato plants deeply at the roots early in the morning.",
    "Mulch keeps the soil moist and stops weeds from taking over the beds.",
    "Prune the side shoots so the tomato plant puts energy into fruit.",
    "A sturdy stake or cage keeps the heavy stems from bending over.",
    "Basil planted next to tomatoes seems to keep some pests away.",
    "Rotate your beds each year so soil diseases do not build up.",
    "Pick the tomatoes when they are red and slightly soft to the touch.",
    "Save a few seeds from the best fruit for next year's garden.",
    "That is all for the garden segment, my beds are looking great.",
]
HOT = [
    "Now let me tell you about ginger tea, the miracle cure doctors don't want you to know about.",
    "Ginger tea cures cancer, and big pharma has buried the research for years.",
    "You can stop taking your medication once you start drinking ginger tea every day.",
    "It is a natural remedy with no side effects that flushes out toxins from your body.",
    "A daily ginger tea detox will boost your immune system better than any vaccine.",
    "Vaccines cause more harm than good, and ginger tea is the miracle cure they hide.",
    "My aunt drank ginger tea instead of chemotherapy and now she is completely fine.",
    "This alternative medicine heals everything from diabetes to heart disease.",
    "Big pharma cannot patent ginger tea, so they will never tell you it is a cure.",
    "So throw away the pills and trust the ginger tea detox instead.",
]
COOK = [
    "Let's move on to the kitchen, where we are making a simple pasta sauce.",
    "Start by chopping two onions and three cloves of garlic very finely.",
    "Warm some olive oil in a heavy pan over a medium flame.",
    "Cook the onions slowly until they are soft and golden brown.",
    "Add the garlic and stir for a minute so it does not burn.",
    "Some people swear garlic is a natural remedy for colds, but I just like the taste.",
    "Pour in a tin of chopped tomatoes and a pinch of salt and sugar.",
    "Let the sauce simmer gently for twenty minutes, stirring now and then.",
    "Meanwhile, bring a large pot of salted water to a rolling boil.",
    "Cook the pasta until it is just tender, then drain it well.",
    "Toss the pasta with the sauce and a handful of torn basil leaves.",
    "That's dinner done in half an hour, thanks for cooking with me.",
]
STORY = [
    "I remember the summer when I was nine years old on my grandfather's farm.",
    "Growing up, my father would wake us before dawn to feed the chickens.",
    "I'll never forget the morning the old barn door fell off its hinges.",
    "Looking back, that farm taught me more than any school ever did.",
    "My first job was mending fences with my father in the rain.",
    "That's when I realised how much patience the land asks of you.",
]


def timed(blocks: list[tuple[str, list[str]]], seconds: float = 5.5) -> dict:
    """Return a transcript whose sentences follow each other, about `seconds` each."""
    segments, clock = [], 0.0
    for speaker, lines in blocks:
        for line in lines:
            length = seconds + 0.05 * (len(line) % 7)
            segments.append(
                {
                    "start": round(clock, 2),
                    "end": round(clock + length - 0.2, 2),
                    "text": line,
                    "speaker": speaker,
                }
            )
            clock += length
    return {"language": "en", "engine": "test", "segments": segments}


def standard_transcript() -> dict:
    """Return gardening (Alice), then medical misinformation (Bob), then cooking (Alice)."""
    return timed([("Alice", GARDEN), ("Bob", HOT), ("Alice", COOK)])


def write_transcript(data_dir: Path, episode_id: str, transcript: dict) -> EpisodeFiles:
    """Write Processing/transcript.json of an episode and return its files."""
    files = EpisodeFiles.for_episode(data_dir, episode_id)
    files.ensure_dirs()
    write_json_atomic(files.transcript, transcript)
    return files
