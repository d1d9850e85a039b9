#!/usr/bin/env bash
# Install what the test suite needs and run it: Debian's chromium (for the browser test), a venv with
# the CPU build of torch, fpsearch with its test extras, a second venv for the LangChain MCP client;
# then ruff and pytest. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } >/dev/null 2>&1 \
    || echo "could not install chromium: the browser test will be skipped"
fi
python3 -m venv .venv
. .venv/bin/activate
pip install -q torch==2.13.0
pip install -q -e '.[test]'
# langchain-mcp-adapters 0.3 needs mcp<2 (fpsearch serves with mcp 2.x): its client runs from a venv of its own
python3 -m venv .venv-adapters
.venv-adapters/bin/pip install -q 'langchain-mcp-adapters==0.3.2'
ruff check search tests scripts
ruff format --check search tests scripts
vulture  # dead code; its settings are in pyproject.toml
python -m pytest "$@"
