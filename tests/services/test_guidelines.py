"""Analysis guidelines: the built-in ones, and errors that name the line."""

from __future__ import annotations

import pytest

from config.settings import BUILTIN_PROMPTS_DIR
from services.engines.analysis.text import CueMatcher, stems
from services.episodes.segments import SEVERITIES
from services.library.guidelines import (
    GuidelineError,
    SeverityThresholds,
    load_guideline,
    parse_guideline,
)

pytestmark = pytest.mark.unit

VALID = """\
name = "Test"
description = "A test guideline."

[severity]
critical = 9
high = 5
medium = 2

[[categories]]
name = "First"
description = "The first."
weight = 1.0
severity = "HIGH"
cues = ["alpha", "beta gamma"]

[[categories]]
name = "Second"
description = "The second."
weight = 0.5
severity = "LOW"
title = "{cue} about {topic}"
cues = ["delta"]
"""


def _error(text: str) -> GuidelineError:
    with pytest.raises(GuidelineError) as info:
        parse_guideline(text, "test.toml")
    return info.value


def test_default_guideline():
    guideline = load_guideline(BUILTIN_PROMPTS_DIR / "analysis" / "default.toml")
    assert guideline.name == "Harmful content"
    assert [c.name for c in guideline.categories] == [
        "Medical misinformation",
        "Conspiracy theory",
        "Financial scam",
        "Dangerous advice",
    ]
    for category in guideline.categories:
        assert 10 <= len(category.cues) <= 25, category.name
        assert category.severity in SEVERITIES
        assert category.description and category.weight > 0
    assert guideline.instructions  # free text for an LLM
    cues = guideline.category("Medical misinformation").cues
    assert "miracle cure" in cues and "doctors don't want you to know" in cues
    assert "guaranteed returns" in guideline.category("Financial scam").cues
    thresholds = guideline.thresholds
    assert thresholds.critical > thresholds.high > thresholds.medium > 0
    assert (guideline.min_seconds, guideline.max_seconds) == (20, 120)
    assert guideline.text.startswith("# Clipcast analysis guideline")
    # A harm review lists only flagged passages when there are some.
    assert (guideline.fallback.name, guideline.fallback.severity, guideline.fill) == (
        "Key passage",
        "LOW",
        False,
    )


def test_highlights_guideline():
    guideline = load_guideline(BUILTIN_PROMPTS_DIR / "analysis" / "highlights.toml")
    assert guideline.name == "Highlights"
    names = {c.name for c in guideline.categories}
    assert {"Strong opinion", "Surprising fact", "Personal story", "Humour"} <= names
    assert guideline.fill and guideline.fallback.name == "Key moment"


def test_valid_text_parses():
    guideline = parse_guideline(VALID)
    assert guideline.thresholds == SeverityThresholds(9, 5, 2)
    assert guideline.category("Second").title == "{cue} about {topic}"
    assert guideline.category("First").title == "{category}: {topic}"
    assert guideline.fallback.name == "Key passage" and not guideline.fill


FALLBACK = """
[fallback]
name = "Best bits"
title = "On {topic}"
severity = "medium"
fill = true
"""


def test_fallback_table_parses():
    guideline = parse_guideline(VALID.replace("[severity]", FALLBACK + "\n[severity]"))
    fallback = guideline.fallback
    assert (fallback.name, fallback.title, fallback.severity) == (
        "Best bits",
        "On {topic}",
        "MEDIUM",
    )
    assert fallback.cues == () and guideline.fill


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("fill = true", 'fill = "yes"', "fill must be true or false"),
        ('title = "On {topic}"', 'title = "{cue}!"', "cannot use {cue}"),
        ('severity = "medium"', 'severity = "mild"', "severity must be"),
        ('name = "Best bits"', 'name = "First"', "is a category"),
        ("fill = true", "fill = true\nweight = 2", "unknown key"),
    ],
)
def test_fallback_errors_name_the_line(old, new, reason):
    text = VALID.replace("[severity]", FALLBACK.replace(old, new) + "\n[severity]")
    error = _error(text)
    assert reason in error.reason
    line = text.splitlines()[error.line - 1]
    assert line.split("=")[0].strip() in new or line == "[fallback]", (line, error)


def test_toml_syntax_error_names_the_line():
    text = VALID.replace("weight = 0.5", "weight = = 0.5")
    error = _error(text)
    assert error.line == text.splitlines().index("weight = = 0.5") + 1
    assert "test.toml, line" in str(error) and "not valid TOML" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "marker", "reason"),
    [
        ('severity = "LOW"', 'severity = "SEVERE"', 'severity = "SEVERE"', "severity must be"),
        ("weight = 0.5", "weight = -1", "weight = -1", "weight must be"),
        ('cues = ["delta"]', "cues = []", "cues = []", "cues must be"),
        (
            'title = "{cue} about {topic}"',
            'title = "{speaker}"',
            'title = "{speaker}"',
            "title may only use",
        ),
        ('cues = ["delta"]', 'cues = ["delta"]\ncolour = "red"', 'colour = "red"', "unknown key"),
        ('name = "Second"', 'name = "First"', 'name = "First"', "used twice"),
        ("high = 5", "high = 10", "[severity]", "critical > high > medium"),
    ],
)
def test_semantic_errors_name_the_line(old, new, marker, reason):
    text = VALID.replace(old, new)
    error = _error(text)
    lines = text.splitlines()
    expected = max(n for n, line in enumerate(lines, 1) if line == marker)
    assert error.line == expected, (str(error), expected)
    assert reason in error.reason


def test_missing_keys():
    error = _error(VALID.replace('description = "The second."\n', ""))
    assert "'description'" in error.reason
    assert error.line == VALID.splitlines().index("[[categories]]", 10) + 1
    assert "'categories'" in _error('name = "x"\ndescription = "y"\n').reason


def test_rate_respects_the_ceiling():
    thresholds = SeverityThresholds(critical=9, high=5, medium=2)
    assert thresholds.rate(10) == "CRITICAL"
    assert thresholds.rate(6) == "HIGH"
    assert thresholds.rate(2) == "MEDIUM"
    assert thresholds.rate(1.5) == "LOW"
    assert thresholds.rate(10, ceiling="MEDIUM") == "MEDIUM"
    assert thresholds.rate(1.5, ceiling="MEDIUM") == "LOW"


def test_cue_matching_is_light_on_word_endings():
    matcher = CueMatcher({"Medical": ("miracle cure", "cure", "doctors don't want you to know")})
    found = matcher.count(stems("Miracle cures! Doctors do not want you to know. A cure."))
    by_phrase = {cue.phrase: count for cue, count in found.items()}
    # "miracle cures" counts once as the longer phrase, not also as "cure".
    assert by_phrase == {"miracle cure": 1, "doctors don't want you to know": 1, "cure": 1}
