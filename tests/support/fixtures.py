"""Pytest fixtures shared across test folders (real PostgreSQL, RPC gateway).

Loaded for the whole suite by `pytest_plugins` in tests/conftest.py.
"""
