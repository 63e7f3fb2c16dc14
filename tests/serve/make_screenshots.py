"""Regenerate the screenshots of the main pages (docs/figures/serve_*.png).

    python3 tests/serve/make_screenshots.py [OUT_DIR]    # default docs/figures

Starts ``attnscope serve`` on a free loopback port over a temporary working folder holding
the shipped tiny model's results, drives Debian's Chromium, and writes one PNG per page.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import chromium, fill_workdir, running_server  # noqa: E402

PAGES = [
    ("index", "/", None),
    ("profile", "/profile?model=llama-3-8b&context=32768", None),
    ("compare", "/compare?m1=llama-3-8b&m2=qwen2.5-7b&m3=mistral-7b&recipe=X-2&context=32768", None),
    ("recipes", "/recipes?id=X-5&model=llama-3-70b&p_tokens_per_day=1e8&p_batch=16&run=1", None),
    ("dataset", "/dataset", None),
    ("dataset_phase", "/dataset", "#phase"),
    ("results", "/results?path=results.jsonl&panel=1", None),
    ("ask", "/ask?q=Cheapest+GPU+to+serve+Llama-70B+at+100M+tokens%2Fday%3F", None),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_server(fill_workdir(Path(tmp) / "work")) as base, \
            chromium() as browser:
        page = browser.new_page(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
        for name, url, selector in PAGES:
            page.goto(base + url, wait_until="load", timeout=60_000)
            path = out / f"serve_{name}.png"
            if selector:
                page.locator(selector).screenshot(path=str(path))
            else:
                page.screenshot(path=str(path), full_page=False)
            print(f"wrote {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/figures"))
