"""The parent-child wire protocol (autograder.protocol) at its trust boundary: whatever a sandbox sends back,
malformed, huge, non-finite or wrongly typed, is rejected with a reason, never crashes the grader and is never
taken for a correct answer."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from autograder import sandbox
from autograder.compare import Mismatch, compare
from autograder.protocol import (MAX_DEPTH, MAX_ELEMENTS, CaseError, CaseResult, Cell, CellError, Job, ProtocolError,
                                 RunResult, decode, decode_checked, encode, encode_input)

LIMITS = sandbox.Limits(cpu_s=10, wall_s=30, memory_mb=1024)


def _roundtrip(value):
    return decode_checked(json.loads(json.dumps(encode(value))))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                                   "uint16", "uint32", "uint64", "bool"])
def test_arrays_and_scalars_keep_dtype_and_shape(dtype):
    arr = (np.arange(6) % 2 if dtype == "bool" else np.arange(6)).astype(dtype).reshape(2, 3)
    d = _roundtrip(arr)
    assert d.kind == "ndarray" and d.value.dtype == np.dtype(dtype) and d.value.shape == (2, 3)
    assert np.array_equal(d.value, arr)
    s = _roundtrip(arr.ravel()[1])
    assert s.kind == "npscalar" and s.dtype == np.dtype(dtype) and s.value == arr.ravel()[1]


def test_containers_and_plain_values_round_trip():
    value = {"t": (1, 2.5, "x", None, True), "l": [np.zeros((0, 3), np.float32)], "d": {"k": np.int64(3)}}
    d = _roundtrip(value)
    assert d.kind == "dict" and d.value["t"].kind == "tuple" and d.value["l"].kind == "list"
    assert [v.kind for v in d.value["t"].value] == ["int", "float", "str", "none", "bool"]
    plain = d.plain()
    assert plain["t"] == [1, 2.5, "x", None, True] and plain["l"][0].shape == (0, 3) and plain["d"]["k"] == 3


def test_inputs_decode_in_the_child_as_they_were_made():
    value = {"args": {"x": np.arange(4, dtype=np.float32).reshape(2, 2), "n": 3, "pair": (1, [2, 3]),
                      "s": np.float64(0.5)}}
    back = decode(json.loads(json.dumps(encode_input(value))))
    assert back["args"]["x"].dtype == np.float32 and np.array_equal(back["args"]["x"], value["args"]["x"])
    assert back["args"]["n"] == 3 and back["args"]["pair"] == (1, [2, 3]) and type(back["args"]["s"]) is np.float64


class Sub(np.ndarray):
    pass


@pytest.mark.parametrize("value,what", [
    (np.zeros(2).view(Sub), "Sub"),
    (np.array(["a"]), "dtype <U1"),
    (np.array([1 + 2j]), "dtype complex128"),
    ({1: 2}, "non-string keys"),
    (object(), "builtins.object"),
    (np.zeros(MAX_ELEMENTS + 1, np.int8), f"size {MAX_ELEMENTS + 1}"),
])
def test_what_cannot_be_encoded_is_unsupported_or_refused(value, what):
    got = encode(value)
    assert "__unsupported__" in got and what in got["__unsupported__"]
    assert _roundtrip(value).kind == "unsupported"
    with pytest.raises(TypeError):
        encode_input({"args": {"x": value}})
    with pytest.raises(ProtocolError, match="returned an object of type"):
        _roundtrip([value]).plain()


def test_nesting_is_bounded_both_ways():
    deep = 1
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    assert "nesting too deep" in json.dumps(encode(deep))
    obj = 1
    for _ in range(MAX_DEPTH + 2):
        obj = {"__list__": [obj]}
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode_checked(obj)


MALFORMED_VALUES = [
    [],                                                            # a bare JSON list
    {},
    {"__pickle__": "gASV"},
    {"__ndarray__": ["<f4"], "shape": [1], "data": [1.0]},         # a dtype that is not a string
    {"__ndarray__": "|O", "shape": [1], "data": [1]},              # object arrays
    {"__ndarray__": "<U3", "shape": [1], "data": ["abc"]},
    {"__ndarray__": "<f4", "shape": [-1], "data": []},
    {"__ndarray__": "<f4", "shape": [True], "data": [1.0]},
    {"__ndarray__": "<f4", "shape": "2", "data": [1.0, 2.0]},
    {"__ndarray__": "<f4", "shape": [2], "data": "12"},
    {"__ndarray__": "<f4", "shape": [3], "data": [1.0, 2.0]},       # size
    {"__ndarray__": "<f4", "shape": [10**12], "data": []},          # a huge claimed shape
    {"__ndarray__": "<f4", "shape": [1], "data": ["1.5"]},          # text where a number belongs
    {"__ndarray__": "<f4", "shape": [1], "data": [[1.0]]},
    {"__ndarray__": "<f4", "shape": [1], "data": [{"a": 1}]},
    {"__ndarray__": "<i8", "shape": [1], "data": [2**70]},          # does not fit the dtype
    {"__ndarray__": "<i8", "shape": [1], "data": [float("nan")]},
    {"__ndarray__": "<i4", "shape": [1], "data": [float("inf")]},
    {"__ndarray__": "<f4", "shape": [1], "data": [1.0], "extra": 1},
    {"__npscalar__": "<f4", "value": [1.0, 2.0]},
    {"__npscalar__": "<f4", "value": "1"},
    {"__npscalar__": "<i8", "value": 10**30},
    {"__npscalar__": "<M8[s]", "value": 1},
    {"__tuple__": 5},
    {"__list__": "abc"},
    {"__list__": [1], "__tuple__": [1]},
    {"__dict__": [["k", 1]]},
    {"__dict__": {"k": []}},
]


@pytest.mark.parametrize("obj", MALFORMED_VALUES, ids=[json.dumps(o)[:40] for o in MALFORMED_VALUES])
def test_malformed_values_raise_protocol_error(obj):
    with pytest.raises(ProtocolError):
        decode_checked(obj)


def test_non_finite_values_decode_but_never_compare_equal():
    got = decode_checked({"__ndarray__": "<f4", "shape": [2], "data": [float("nan"), float("inf")]})
    assert got.kind == "ndarray" and not np.isfinite(got.value).any()
    expected = decode_checked(encode(np.array([1.0, 2.0], np.float32)))
    with pytest.raises(Mismatch, match="non-finite"):
        compare(expected, got, "f", 1e-4, 1e-5)
    nan = RunResult.from_text('{"cell_errors": [], "missing": false, "cases": [{"ok": NaN}]}').cases[0].ok
    assert math.isnan(nan)
    with pytest.raises(Mismatch, match="non-finite"):
        compare(decode_checked(1.0), decode_checked(nan), "f", 1e-4, 1e-5)


def test_results_round_trip():
    run = RunResult([CellError("c", "SyntaxError", "bad", "cell c, line 1")], False,
                    [CaseResult(ok=encode((1, 2))), CaseResult(error=CaseError("ValueError", "no", ""))], 0.5)
    assert RunResult.from_text(json.dumps(run.to_json())) == run
    job = Job("f", [Cell("c", "def f(): pass")], [encode_input({"args": {}})], harness="def run(ns, p): pass")
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job
    assert job.required_name is None and Job("f", [], []).required_name == "f"
    assert Job("f", [], [], harness="h", requires="g").required_name == "g"


GOOD = {"cell_errors": [], "missing": False, "cases": [{"ok": 1}], "seconds": 0.1}
MALFORMED_RESULTS = [
    [GOOD],
    {**GOOD, "cases": {"0": {"ok": 1}}},
    {**GOOD, "missing": 0},
    {**GOOD, "missing": "false"},
    {k: v for k, v in GOOD.items() if k != "missing"},
    {k: v for k, v in GOOD.items() if k != "cases"},
    {**GOOD, "cell_errors": "none"},
    {**GOOD, "cell_errors": [{"cell": 1, "type": "E", "message": "m"}]},
    {**GOOD, "cell_errors": [{"cell": "c", "type": "E"}]},
    {**GOOD, "cases": [{"ok": 1, "error": {"type": "E", "message": "m"}}]},
    {**GOOD, "cases": [{}]},
    {**GOOD, "cases": [1]},
    {**GOOD, "cases": [{"error": "ValueError"}]},
    {**GOOD, "cases": [{"error": {"type": "E"}}]},
    {**GOOD, "cases": [{"error": {"type": ["E"], "message": "m"}}]},
    {**GOOD, "cases": [{"error": {"type": "E", "message": "m", "after_reload": True}}]},   # a parent-only field
    {**GOOD, "seconds": "fast"},
    {**GOOD, "seconds": float("nan")},
]


@pytest.mark.parametrize("obj", MALFORMED_RESULTS, ids=[json.dumps(o)[:50] for o in MALFORMED_RESULTS])
def test_malformed_results_raise_protocol_error(obj):
    with pytest.raises(ProtocolError):
        RunResult.from_text(json.dumps(obj))


@pytest.mark.parametrize("text", ["", "{", "null", '"ok"', "[" * 100_000 + "]" * 100_000,
                                  '{"cases": ' * 50_000 + "1" + "}" * 50_000])
def test_unreadable_result_text_raises_protocol_error(text):
    with pytest.raises(ProtocolError):
        RunResult.from_text(text)


def _read(tmp_path, data: bytes | None = None, size: int | None = None):
    path = tmp_path / "result.json"
    if data is not None:
        path.write_bytes(data)
    if size is not None:
        with open(path, "wb") as f:
            f.truncate(size)
    return sandbox._read_result(str(tmp_path), LIMITS, sandbox.SandboxResult(status="ok", returncode=0))


def test_result_files_that_are_too_large_unreadable_or_absent(tmp_path):
    limit = sandbox.MAX_RESULT_BYTES
    assert _read(tmp_path, size=limit + 1)[:2] == ("bad_result", "crashed: result too large: more than the "
                                                                  f"limit of {limit} bytes")
    status, detail, run = _read(tmp_path, data=b"\xff\xfe not utf-8")
    assert status == "bad_result" and "unreadable result" in detail and run is None
    status, detail, run = _read(tmp_path, data=json.dumps({**GOOD, "missing": 1}).encode())
    assert status == "bad_result" and detail.startswith("crashed: malformed result") and run is None
    os.remove(tmp_path / "result.json")
    assert _read(tmp_path)[0] == "no_result"
    assert _read(tmp_path, data=json.dumps(GOOD).encode()) == ("ok", "", RunResult.from_json(GOOD))


def test_a_submission_that_forges_its_result_file_is_not_believed():
    """The learner's code writes result.json itself and exits before the child can: the parent rejects it."""
    forged = json.dumps({"cell_errors": [], "missing": False, "cases": [{"ok": 1, "error": None}]})
    code = (f"import os\nwith open('result.json', 'w') as f:\n    f.write({forged!r})\nos._exit(0)\n"
            "def f():\n    return 1\n")
    res = sandbox.run_job(Job("f", [Cell("c", code)], [encode_input({"args": {}})]), LIMITS)
    assert res.status == "bad_result" and res.run is None and "malformed result" in res.detail, res.detail
