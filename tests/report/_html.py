"""Helpers to check a rendered page: self-containment, well-formedness, unique ids."""
from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
ATTRIBUTION_URL = "https://github.com/karlesmarin/tafagent"


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            if k == "id" and v:
                self.ids.append(v)
            if k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and v is not None:
                self.refs.append(v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            if k == "id" and v:
                self.ids.append(v)
            if k in ("src", "href", "xlink:href") and v is not None:
                self.refs.append(v)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def check_page(html: str) -> _Checker:
    """Parse the page and assert: balanced tags, unique ids, only local/data references, no scripts."""
    c = _Checker()
    c.feed(html)
    c.close()
    assert not c.errors, c.errors[:5]
    assert not c.stack, f"unclosed tags: {c.stack[-5:]}"
    dup = {i for i in c.ids if c.ids.count(i) > 1}
    assert not dup, f"duplicate ids: {sorted(dup)[:5]}"
    bad = [r for r in c.refs if not (r.startswith("#") or r.startswith("data:"))]
    assert not bad, f"external references: {bad[:5]}"
    assert not ({"script", "link", "iframe", "object", "embed"} & c.tags)
    assert "@import" not in html and "url(http" not in html
    # every http(s) URL outside XML namespace declarations is the plain-text attribution link
    text = re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {ATTRIBUTION_URL}, urls
    for m in re.finditer(re.escape(ATTRIBUTION_URL), text):
        before = text[max(0, m.start() - 400):m.start()]
        assert "attribution" in before or "Reference-panel data" in before
    return c
