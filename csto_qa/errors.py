"""Errors a user can act on: each says what happened, to which file, and the fix."""

from __future__ import annotations


class CstoQaError(Exception):
    """Base class; the CLI prints ``str(error)`` on one line and exits non-zero."""


class CorpusError(CstoQaError):
    """The corpus folder or its manifest cannot be read."""


class IndexCorruptError(CstoQaError):
    """The index on disk is missing, damaged or was built by another format version."""


class IndexLocationError(CstoQaError):
    """The index folder given is not one csto-qa may write (a user's folder, the corpus)."""


class IndexLockedError(CstoQaError):
    """Another process is building the index right now."""


class ModelError(CstoQaError):
    """The embedding model cannot be loaded or failed its integrity check."""


class QueryError(CstoQaError):
    """The request is not usable (unknown mode, k out of range, ...)."""


def missing_dependency(package: str) -> CstoQaError:
    """An install hint instead of a bare ImportError."""
    return CstoQaError(f"the optional dependency '{package}' is not installed; run: pip install {package}")
