"""Shared helpers for the browser tests and the screenshot script: a real ``attnscope serve``
subprocess on a free loopback port, and Debian's Chromium driven by playwright (never a
downloaded browser)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = os.environ.get("ATTNSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DATA = Path(__file__).parent / "data"


def tree(folder: Path) -> dict[str, int]:
    """Every file under a folder with its size (to prove nothing was written)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill_workdir(folder: Path) -> Path:
    """A working folder with a real results JSONL and atlas JSON of the shipped tiny model."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "results_tiny.jsonl", folder / "results.jsonl")
    shutil.copy(DATA / "atlas_tiny.json", folder / "atlas.json")
    return folder


@contextmanager
def running_server(workdir: Path, *, timeout_s: float = 90.0, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """``attnscope serve`` on 127.0.0.1:<free port> in a subprocess; yields the base URL, stops it after."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", MPLBACKEND="Agg")
    log_path = workdir.parent / f"serve-{port}.log"  # a file, not a pipe: a chatty server can never block on it
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "attnscope", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workdir", str(workdir), *extra], env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"attnscope serve exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"attnscope serve did not answer within {timeout_s:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium browser (playwright with an explicit executable path)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
