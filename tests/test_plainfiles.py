"""The plain-file readers (plainfiles.py), by hand: JSON limits, .npy headers checked against
the file size before any allocation, and the JSON type check the index records use."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from csto_qa.errors import IndexCorruptError
from csto_qa.plainfiles import file_sha256, load_npy, matches_type, parse_json, read_json, read_jsonl


def test_parse_json_limits() -> None:
    assert parse_json('{"a": [1, {"b": 2}]}', "x", "fix") == {"a": [1, {"b": 2}]}
    with pytest.raises(IndexCorruptError, match="nested"):
        parse_json("[" * 65 + "]" * 65, "x", "fix")  # within the parser's limit, over ours
    with pytest.raises(IndexCorruptError, match="nested too deeply"):
        parse_json("[" * 10_000 + "]" * 10_000, "x", "fix")
    with pytest.raises(IndexCorruptError, match="not valid JSON"):
        parse_json("1" * 5000, "x", "fix")


def test_load_npy_checks_header_against_file_size(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.ones((3, 2), dtype=np.float32))
    assert load_npy(path, "fix", kind="f", ndim=2).shape == (3, 2)
    with pytest.raises(IndexCorruptError, match="1-D"):
        load_npy(path, "fix", kind="f", ndim=1)
    with pytest.raises(IndexCorruptError, match="kind 'iu'"):
        load_npy(path, "fix", kind="iu", ndim=2)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(IndexCorruptError, match="claims shape"):
        load_npy(path, "fix", kind="f", ndim=2)


@pytest.mark.parametrize(
    ("value", "hint", "expected"),
    [
        (3, int, True),
        (True, int, False),  # JSON true is not a count
        (3, float, True),  # JSON has one number type: 3 is a valid float field
        (float("inf"), float, False),
        ("3", int, False),
        (None, int | None, True),
        ([1, 2], list[int], True),
        ([1, "2"], list[int], False),
        ([1, 2], tuple[int, int], True),
        ([1, 2, 3], tuple[int, int], False),
        ([1, 2, 3], tuple[int, ...], True),
        ({"a": 1}, dict[str, int], True),
        ({"a": False}, dict[str, int], False),
        ("x", Any, True),
    ],
)
def test_matches_type_by_hand(value: object, hint: object, expected: bool) -> None:
    assert matches_type(value, hint) is expected


def test_read_json_and_jsonl_name_the_file_and_the_line(tmp_path: Path) -> None:
    good = tmp_path / "a.json"
    good.write_text('{"k": [1, 2]}', encoding="utf-8")
    assert read_json(good, "fix it") == {"k": [1, 2]}
    with pytest.raises(IndexCorruptError, match=r"'.*missing.json' is missing; fix it"):
        read_json(tmp_path / "missing.json", "fix it")
    (tmp_path / "latin1.json").write_bytes('{"k": "é"}'.encode("latin-1"))
    with pytest.raises(IndexCorruptError, match="not UTF-8 text; fix it"):
        read_json(tmp_path / "latin1.json", "fix it")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"a": 1}\n\n{"a": 2}\n[3]\n', encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"rows.jsonl' line 4 is not an object; fix it"):
        read_jsonl(rows, "fix it")
    rows.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert read_jsonl(rows, "fix it") == [{"a": 1}, {"a": 2}]  # blank lines are skipped


def test_file_sha256_is_the_hash_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MB block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
