"""HTML to text blocks (stdlib html.parser): headings and paragraphs, without page chrome.

Dropped with everything inside them: script, style, noscript, template, svg, iframe, form, button, head
(except <title>), nav, header, footer, aside, and the chrome of Confluence and Notion exports
(breadcrumbs, page metadata, attachment lists, sidebars), recognised by id or class.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
    "button",
    "head",
    "nav",
    "header",
    "footer",
    "aside",
    "object",
    "select",
    "textarea",
}
SKIP_MARKERS = re.compile(
    r"breadcrumb|footer|page-metadata|pagesection|attachments|sidebar|navigation|"
    r"\bnav\b|comment-?section|likes-and-labels|toc-macro",
    re.I,
)
BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "details",
    "summary",
    "hr",
    "body",
    "html",
}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HEADINGS = {f"h{i}": i for i in range(1, 7)}


class _Blocks(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str]] = []  # (heading level or 0 for a paragraph, text)
        self.title_parts: list[str] = []
        self._buffer: list[str] = []
        self._heading: int = 0
        self._skip: list[str] = []  # stack of open tags whose content is dropped
        self._in_title = False
        self._confluence_title = False
        self._cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skip:
            if tag not in VOID_TAGS:
                self._skip.append(tag)
            return
        if tag == "title":
            self._in_title = True
            return
        marker = f"{attrs.get('id') or ''} {attrs.get('class') or ''}"
        if tag in SKIP_TAGS or (tag not in HEADINGS and SKIP_MARKERS.search(marker)):
            if tag not in VOID_TAGS:
                self._skip.append(tag)
            return
        if tag in HEADINGS:
            self._flush()
            self._heading = HEADINGS[tag]
            self._confluence_title = attrs.get("id") == "title-heading"
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "li":
                self._buffer.append("- ")
        elif tag == "br":
            self._buffer.append("\n")
        elif tag in ("td", "th"):
            if self._cell:
                self._buffer.append(" | ")
            self._cell = True

    def handle_endtag(self, tag):
        if self._skip:
            if tag in self._skip:  # close up to the matching tag (tolerates unclosed inner tags)
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if tag == "title":
            self._in_title = False
        elif tag in HEADINGS and self._heading:
            text = _clean("".join(self._buffer))
            if self._confluence_title and " : " in text:  # "Space : Page title"
                text = text.split(" : ", 1)[1].strip()
            self._buffer = []
            if text:
                self.blocks.append((self._heading, text))
            self._heading = 0
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "tr":
                self._cell = False

    def handle_data(self, data):
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip:
            self._buffer.append(data)

    def _flush(self):
        text = _clean("".join(self._buffer))
        self._buffer = []
        self._cell = False
        if text and text != "-":
            self.blocks.append((self._heading, text) if self._heading else (0, text))

    def close(self):
        super().close()
        self._flush()


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").split("\n")]
    return "\n".join(line for line in lines if line).strip()


def html_to_blocks(html: str) -> tuple[str, list[tuple[int, str]]]:
    """(the <title> text, [(level, text)]) where level 1-6 is a heading and 0 a paragraph."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    title = _clean("".join(parser.title_parts))
    if " : " in title:  # Confluence: "Space : Page title"
        title = title.split(" : ", 1)[1].strip()
    return title, parser.blocks


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (a helpdesk message body): blocks separated by blank lines."""
    if not isinstance(html, str) or not html:
        return ""
    if "<" not in html:
        return html.strip()
    _, blocks = html_to_blocks(html)
    return "\n\n".join(text for _, text in blocks)
