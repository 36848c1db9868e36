"""A letter's markup, one way for the public page and the HTML export.

Letters are markdown from a small safe subset: paragraphs, emphasis, lists, headings and line
breaks. No raw HTML, no images (they would load from elsewhere), no links. markdown-it escapes
all text (html is off), so the result is safe to put in a page as it is.
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
    ["emphasis", "list", "heading", "newline"]
)

# Emphasis is the costly rule (a 20,000-character letter of `**_…` took 120 ms): past this many
# delimiters a letter is rendered without it, its marks shown as typed (about 8 ms).
EMPHASIS_LIMIT = 2000
_PLAIN = MarkdownIt("zero", {"html": False, "breaks": True}).enable(["list", "heading", "newline"])


@functools.lru_cache(maxsize=256)
def letter_html(text: str) -> str:
    """A letter's HTML, rendered once per text (each version, whatever the language or the
    number of readers)."""
    costly = text.count("*") + text.count("_") > EMPHASIS_LIMIT
    return (_PLAIN if costly else _MARKDOWN).render(text)
