"""Check a prompt before it is saved: a guideline must parse, a template must render."""

from __future__ import annotations

from services.engines.narrative.sandbox import check_template_sandboxed
from services.engines.narrative.template import TemplateCheckError
from services.library.guidelines import GuidelineError, parse_guideline
from services.library.prompts import PROMPT_SUFFIX, PromptError


def check_prompt_text(kind: str, content: str, name: str) -> None:
    """Refuse a guideline that does not parse or a template that does not render (sandboxed)."""
    try:
        if kind == "analysis":
            parse_guideline(content, f"{name}{PROMPT_SUFFIX[kind]}")
        else:
            check_template_sandboxed(content, f"{name}{PROMPT_SUFFIX[kind]}")
    except (GuidelineError, TemplateCheckError) as exc:
        raise PromptError(str(exc), "content", line=exc.line) from exc
