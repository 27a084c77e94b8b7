"""Helpers shared by presence-svc's tests (on pytest's pythonpath, see the root pyproject)."""
