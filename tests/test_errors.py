"""The error types (errors.py): one base class the CLI catches, and install hints."""

from __future__ import annotations

import pytest

from csto_qa import errors
from csto_qa.errors import CstoQaError, missing_dependency


@pytest.mark.parametrize(
    "cls",
    [
        errors.CorpusError,
        errors.IndexCorruptError,
        errors.IndexLocationError,
        errors.IndexLockedError,
        errors.ModelError,
        errors.QueryError,
    ],
)
def test_every_error_is_a_csto_qa_error(cls: type) -> None:
    assert issubclass(cls, CstoQaError) and cls.__doc__


def test_a_missing_dependency_is_an_install_hint() -> None:
    error = missing_dependency("faiss-cpu")
    assert isinstance(error, CstoQaError)
    assert str(error) == "the optional dependency 'faiss-cpu' is not installed; run: pip install faiss-cpu"
