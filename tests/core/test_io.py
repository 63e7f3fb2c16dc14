"""The JSONL store: atomic appends, crash repair, strict reads, content keys."""
import json

import pytest

from attnscope.errors import RecordError
from attnscope.io import append_jsonl, atomic_write_text, content_key, read_jsonl, repair_jsonl


def test_append_then_read_roundtrip(tmp_path):
    path = tmp_path / "sub" / "r.jsonl"
    append_jsonl(path, {"a": 1})
    append_jsonl(path, {"b": [1, 2]})
    assert list(read_jsonl(path)) == [{"a": 1}, {"b": [1, 2]}]
    assert path.read_text().count("\n") == 2


def test_truncated_final_line_is_repaired_before_next_append(tmp_path):
    path = tmp_path / "r.jsonl"
    append_jsonl(path, {"a": 1})
    with open(path, "a") as fh:  # a crash mid-write leaves half a line
        fh.write('{"b": ')
    assert list(read_jsonl(path)) == [{"a": 1}]  # the partial line is not a record
    append_jsonl(path, {"c": 3})
    assert list(read_jsonl(path)) == [{"a": 1}, {"c": 3}]
    assert not repair_jsonl(path)


def test_malformed_middle_line_is_an_error(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(RecordError, match="line 2 is not JSON"):
        list(read_jsonl(path))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(RecordError, match="no such results file"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_content_key_is_order_independent_and_sensitive():
    assert content_key({"a": 1, "b": 2}) == content_key({"b": 2, "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})


def test_atomic_write_text_replaces_whole_file(tmp_path):
    path = tmp_path / "x.json"
    atomic_write_text(path, json.dumps({"v": 1}))
    atomic_write_text(path, json.dumps({"v": 2}))
    assert json.loads(path.read_text()) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
