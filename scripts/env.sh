# Sourced by the Makefile's recipes: puts uv on PATH (installing it if needed) and points it
# at a Python 3.13 interpreter the machine already has (uv is not allowed to download one:
# the machine may have no internet access).
set -e
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv (the Python package manager) with pip into your user site"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  hash -r
fi

_python313_candidates() {
  command -v python3.13 2>/dev/null || true
  if command -v pyenv >/dev/null 2>&1; then
    ls -d "$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null || true
  fi
  ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 2>/dev/null || true
  uv python find --no-python-downloads 3.13 2>/dev/null || true
  local prefix
  for prefix in /usr/local/bin /usr/bin /opt/homebrew/bin /opt/python/bin /opt/python3.13/bin; do
    echo "$prefix/python3.13"
  done
}

if [ -z "${UV_PYTHON:-}" ]; then
  while read -r candidate; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      UV_PYTHON="$("$candidate" -c "import sys; print(sys.executable)")"
      export UV_PYTHON
      break
    fi
  done < <(_python313_candidates)
fi
if [ -z "${UV_PYTHON:-}" ]; then
  echo "Python 3.13 is needed: install it (e.g. apt-get install python3.13, or pyenv install 3.13)," >&2
  echo "or set UV_PYTHON to its path, and retry" >&2
  exit 1
fi
export UV_PYTHON_DOWNLOADS=never
