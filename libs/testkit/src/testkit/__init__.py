"""Shared pytest fixtures for Assistline. Imported by conftest.py, never run."""
