# Sourced by the Makefile's recipes: puts uv on PATH (installing it if needed) and
# points it at a Python 3.13 interpreter. uv cannot download Python here (no internet),
# so we look for one the machine already has.
set -e
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  hash -r
fi
if [ -z "${UV_PYTHON:-}" ]; then
  for candidate in "$(command -v python3.13 2>/dev/null)" /root/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      export UV_PYTHON="$("$candidate" -c "import sys; print(sys.executable)")"
      break
    fi
  done
fi
if [ -z "${UV_PYTHON:-}" ]; then
  echo "Python 3.13 is needed: install it (e.g. apt-get install python3.13 or pyenv install 3.13) and retry" >&2
  exit 1
fi
export UV_PYTHON_DOWNLOADS=never
