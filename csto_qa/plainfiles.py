"""Readers for the plain data files csto-qa writes: JSON, JSON Lines and ``.npy``.

Each reader is closed: it accepts only what a writer of this package produces and turns
anything else into ``IndexCorruptError`` naming the file, so a damaged or planted file is
an error that triggers a rebuild, never a crash later on the query path.

- JSON is read with a size cap and a nesting cap (Python's parser raises RecursionError
  past ~1000 levels and ValueError on integers of more than 4,300 digits; both are
  caught here, and the nesting cap of 64 is far above the 3 levels our files use).
- ``.npy`` headers are checked against the file size *before* any array is allocated (a
  header can claim a shape of 10^15 rows), object arrays are refused (allow_pickle=False), the
  dtype kind, number of dimensions and finiteness are checked against what the caller
  expects.
"""

from __future__ import annotations

import hashlib
import json
import math
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np

from csto_qa.errors import IndexCorruptError

MAX_JSON_BYTES = 256 << 20  # the vocabulary of a million passages is ~40 MB
MAX_JSON_DEPTH = 64


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks (corpus files and index files alike)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_json(text: str, where: str, fix: str) -> Any:
    """Parse ``text``; any failure is an ``IndexCorruptError`` naming ``where`` and ``fix``."""
    if len(text) > MAX_JSON_BYTES:
        raise IndexCorruptError(
            f"{where} is {len(text):,} characters, over the {MAX_JSON_BYTES:,} limit; {fix}"
        )
    try:
        value = json.loads(text)
    except RecursionError:
        raise IndexCorruptError(f"{where} is nested too deeply to be a csto-qa file; {fix}") from None
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split(";")[0]
        raise IndexCorruptError(f"{where} is not valid JSON ({reason}); {fix}") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise IndexCorruptError(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep; {fix}")
    return value


def read_json(path: Path, fix: str) -> Any:
    """The JSON value stored in ``path`` (size-checked before it is read)."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise IndexCorruptError(f"'{path}' is {size:,} bytes, over the {MAX_JSON_BYTES:,} limit; {fix}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndexCorruptError(f"'{path}' is missing; {fix}") from None
    except UnicodeDecodeError:
        raise IndexCorruptError(f"'{path}' is not UTF-8 text; {fix}") from None
    except OSError as exc:
        raise IndexCorruptError(f"'{path}' cannot be read ({exc.strerror or exc}); {fix}") from None
    return parse_json(text, f"'{path}'", fix)


def read_jsonl(path: Path, fix: str) -> list[dict[str, Any]]:
    """Objects of a JSON Lines file; any bad line is an error naming the file and the line."""
    if not path.is_file():
        raise IndexCorruptError(f"index file '{path}' is missing; {fix}")
    rows: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row = parse_json(line, f"index file '{path}' line {number}", fix)
                if not isinstance(row, dict):
                    raise IndexCorruptError(f"index file '{path}' line {number} is not an object; {fix}")
                rows.append(row)
    except UnicodeDecodeError:
        raise IndexCorruptError(f"index file '{path}' is not UTF-8; {fix}") from None
    except OSError as exc:
        raise IndexCorruptError(
            f"index file '{path}' cannot be read ({exc.strerror or exc}); {fix}"
        ) from None
    return rows


def load_npy(path: Path, fix: str, kind: str, ndim: int, finite: bool = True) -> np.ndarray:
    """The array in ``path``, checked before and after loading.

    ``kind`` is the dtype kinds allowed (``"f"`` float, ``"i"`` signed int, ``"iu"`` any
    int); ``ndim`` the number of dimensions. The header's shape must account for exactly
    the bytes in the file, so no allocation is ever larger than the file itself.
    """
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"npy format version {version} is not supported")
            offset = handle.tell()
        size = path.stat().st_size
    except FileNotFoundError:
        raise IndexCorruptError(f"index file '{path}' is missing; {fix}") from None
    except (OSError, ValueError, SyntaxError, TypeError) as exc:
        raise IndexCorruptError(f"'{path}' is not a valid .npy array ({exc}); {fix}") from None
    if dtype.hasobject or dtype.kind not in kind or len(shape) != ndim or fortran:
        raise IndexCorruptError(
            f"'{path}' holds a {'Fortran-order ' if fortran else ''}{dtype} array of {len(shape)} "
            f"dimension(s); csto-qa writes {ndim}-D arrays of kind {kind!r} here; {fix}"
        )
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if expected != size - offset:
        raise IndexCorruptError(
            f"'{path}' claims shape {shape} ({expected:,} bytes) but holds {size - offset:,} bytes; {fix}"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexCorruptError(f"'{path}' cannot be read ({exc}); {fix}") from None
    if finite and dtype.kind == "f" and array.size and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise IndexCorruptError(f"'{path}' holds {bad:,} NaN or infinite values; {fix}")
    return array


def matches_type(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the type a record field declares (str, int, lists, unions)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(matches_type(value, a) for a in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(
                matches_type(v, a) for v, a in zip(value, args, strict=True)
            )
        inner = args[0] if args else Any
        return all(matches_type(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            matches_type(v, args[1] if args else Any) for v in value.values()
        )
    return True  # a type this checker does not know: the record's own constructor decides
