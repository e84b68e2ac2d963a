"""Turning exceptions into sentences a person at a venue can act on."""

from __future__ import annotations

import errno


def explain(exc: BaseException) -> str:
    """A short, plain-words description of ``exc`` (no traceback, no HTTP codes)."""
    from app.store.db import DatabaseProblem

    if isinstance(exc, DatabaseProblem):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"File not found: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"Not allowed to open {exc.filename}: check its permissions."
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "The disk is full. Free some space; nothing already saved has been lost."
    text = str(exc).strip() or type(exc).__name__
    return text[:300]
