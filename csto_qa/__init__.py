"""csto-qa: cited answers from documents about the Collective Security Treaty Organization."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from csto_qa.engine import Engine

__all__ = ["Engine", "__version__"]


def __getattr__(name: str) -> object:
    # Importing the engine pulls numpy/scipy; keep ``import csto_qa`` and ``--help`` instant.
    if name == "Engine":
        from csto_qa.engine import Engine

        return Engine
    raise AttributeError(name)
