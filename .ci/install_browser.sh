#!/usr/bin/env bash
# Browser + API test dependencies for tests/serve (called from .ci/run).
# Debian's Chromium is driven by playwright with executable_path=/usr/bin/chromium:
# never `playwright install` (it downloads a browser build, which is impossible here).
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "install_browser.sh: no apt-get and no /usr/bin/chromium: the browser tests will be skipped" >&2
  fi
fi
python3 -m pip install --quiet "fastapi>=0.110" "uvicorn>=0.29" "python-multipart>=0.0.9" "httpx>=0.27" "playwright>=1.40"
/usr/bin/chromium --version 2>/dev/null | grep -i chromium || true
