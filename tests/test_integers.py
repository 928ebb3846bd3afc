"""Tests for genlab.data.integers: patterns, real samples and codecs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genlab.data.integers import (
    MAX_ONEHOT,
    MAX_VALUE,
    BinaryCodec,
    IntegerCodec,
    IntegerPattern,
    OneHotCodec,
    codec_from_dict,
    make_codec,
    make_pattern,
    sample_real,
)
from genlab.errors import ConfigError, DataError, ExpressionError, GenlabError, RunFileError

# ------------------------------------------------------------------------------------------
# Codecs
# ------------------------------------------------------------------------------------------

SIZES = [2, 5, 100, 1000]
CODECS = [
    pytest.param("onehot", {}, id="onehot"),
    pytest.param("binary", {}, id="binary-lsb"),
    pytest.param("binary", {"msb_first": True}, id="binary-msb"),
]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("name", "options"), CODECS)
def test_codec_round_trips_every_value(name: str, options: dict, size: int) -> None:
    codec = make_codec(name, size, **options)
    assert isinstance(codec, IntegerCodec)
    ints = torch.arange(size)
    x = codec.encode(ints)
    assert x.shape == (size, codec.width)
    assert x.dtype == torch.float32
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    decoded = codec.decode(x)
    assert decoded.dtype == torch.int64
    assert torch.equal(decoded, ints)


@pytest.mark.parametrize(
    ("size", "width"), [(2, 1), (3, 2), (4, 2), (5, 3), (100, 7), (1000, 10), (1024, 10)]
)
def test_binary_width_is_ceil_log2(size: int, width: int) -> None:
    assert make_codec("binary", size).width == width
    assert make_codec("onehot", size).width == size


def test_binary_bit_order() -> None:
    lsb = BinaryCodec(8)
    msb = BinaryCodec(8, msb_first=True)
    assert lsb.encode(torch.tensor([6])).tolist() == [[0.0, 1.0, 1.0]]
    assert msb.encode(torch.tensor([6])).tolist() == [[1.0, 1.0, 0.0]]
    assert lsb.bit_order == "lsb" and msb.bit_order == "msb"


def test_binary_decode_thresholds_at_half_and_keeps_out_of_range_values() -> None:
    codec = BinaryCodec(5)  # width 3: codes 5, 6, 7 are not values
    x = torch.tensor([[0.49, 0.51, 0.0], [0.9, 0.8, 0.7], [-3.0, 0.2, 4.0]])
    assert codec.decode(x).tolist() == [2, 7, 4]
    pattern = make_pattern(max_value=5, even=True)
    assert pattern.is_valid(codec.decode(x)).tolist() == [True, False, True]


def test_onehot_decode_is_argmax_and_keeps_batch_shape() -> None:
    codec = OneHotCodec(10)
    x = torch.randn(4, 3, 10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(codec.decode(x), x.argmax(dim=-1))
    ints = torch.tensor([[1, 2], [3, 9]])
    assert codec.encode(ints).shape == (2, 2, 10)
    assert torch.equal(codec.decode(codec.encode(ints)), ints)


def test_encode_dtype_option() -> None:
    assert make_codec("binary", 10).encode(torch.tensor([3]), dtype=torch.float64).dtype == (
        torch.float64
    )


@pytest.mark.parametrize(("name", "options"), CODECS)
def test_codec_rejects_bad_input(name: str, options: dict) -> None:
    codec = make_codec(name, 10, **options)
    with pytest.raises(DataError, match=r"outside \[0, 10\)"):
        codec.encode(torch.tensor([3, 10]))
    with pytest.raises(DataError, match=r"outside \[0, 10\)"):
        codec.encode(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        codec.encode(torch.tensor([1.0]))
    with pytest.raises(DataError, match=f"last dimension must be {codec.width}"):
        codec.decode(torch.zeros(2, codec.width + 1))


def test_make_codec_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown --encoding 'gray'; choose one of: onehot"):
        make_codec("gray", 10)
    with pytest.raises(
        ConfigError,
        match=rf"--max {MAX_ONEHOT + 1} is too large for one-hot encoding.*--encoding binary",
    ):
        make_codec("onehot", MAX_ONEHOT + 1)
    with pytest.raises(ConfigError, match="--max must be an integer of at least 2"):
        make_codec("binary", 1)
    big = make_codec("binary", 10**6)
    assert big.width == 20
    assert make_codec("one-hot", 7).name == "onehot"


@pytest.mark.parametrize(("name", "options"), CODECS)
def test_codec_to_dict_round_trip(name: str, options: dict) -> None:
    codec = make_codec(name, 37, **options)
    stored = json.loads(json.dumps(codec.to_dict()))
    again = codec_from_dict(stored)
    assert again == codec
    assert type(again) is type(codec)
    assert again.width == codec.width
    x = codec.encode(torch.arange(37))
    assert torch.equal(again.decode(x), torch.arange(37))


def test_codec_from_dict_rejects_bad_dicts() -> None:
    with pytest.raises(RunFileError, match="stored integer encoding is invalid"):
        codec_from_dict({"size": 10})
    with pytest.raises(RunFileError, match="stored integer encoding is invalid"):
        codec_from_dict({"name": "gray", "size": 10})
    with pytest.raises(RunFileError, match="width 4 != 10"):
        codec_from_dict({"name": "onehot", "size": 10, "width": 4})


@settings(max_examples=40, deadline=None)
@given(size=st.integers(2, 100_000), data=st.data())
def test_binary_round_trip_property(size: int, data: st.DataObject) -> None:
    ints = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=20))
    codec = BinaryCodec(size, msb_first=data.draw(st.booleans()))
    t = torch.tensor(ints)
    assert codec.decode(codec.encode(t)).tolist() == ints


# ------------------------------------------------------------------------------------------
# Patterns
# ------------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str | bytes, name: str = "numbers.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_multiples_of_5_is_the_books_pattern() -> None:
    pattern = make_pattern(max_value=100, multiple_of=5)
    assert pattern.values.tolist() == list(range(0, 100, 5))
    assert pattern.values.dtype == torch.int64
    assert pattern.probs.dtype == torch.float64
    assert torch.allclose(pattern.probs, torch.full((20,), 0.05, dtype=torch.float64))
    assert pattern.max_value == 100
    assert pattern.description == "multiples of 5 in [0, 100)"
    assert pattern.is_uniform
    assert make_pattern(multiple_of=5) == pattern  # --max defaults to 100


def test_rule_pattern() -> None:
    pattern = make_pattern(max_value=60, rule="n % 3 == 1")
    assert pattern.n_values == 20
    assert pattern.values.tolist() == list(range(1, 60, 3))
    assert pattern.max_value == 60
    assert "n % 3 == 1" in pattern.description


@pytest.mark.parametrize(("flag", "start"), [("odd", 1), ("even", 0)])
def test_odd_and_even(flag: str, start: int) -> None:
    pattern = make_pattern(max_value=11, **{flag: True})
    assert pattern.values.tolist() == list(range(start, 11, 2))
    assert pattern.description == f"{flag} numbers in [0, 11)"


def test_file_pattern_uses_empirical_frequencies(tmp_path: Path) -> None:
    path = _write(tmp_path, "3, 7 7\n\n  10,3,7\n")
    pattern = make_pattern(from_file=path)
    assert pattern.values.tolist() == [3, 7, 10]
    assert pattern.probs.tolist() == pytest.approx([2 / 6, 3 / 6, 1 / 6])
    assert pattern.max_value == 11
    assert not pattern.is_uniform
    assert "numbers.txt" in pattern.description
    larger = make_pattern(from_file=str(path), max_value=50)
    assert larger.max_value == 50
    assert larger.values.tolist() == [3, 7, 10]


def test_file_with_only_zero_gets_max_2(tmp_path: Path) -> None:
    pattern = make_pattern(from_file=_write(tmp_path, "0 0 0"))
    assert pattern.max_value == 2
    assert pattern.values.tolist() == [0]


def test_is_valid() -> None:
    pattern = make_pattern(multiple_of=5)
    ints = torch.tensor([[0, 5, 7], [-5, 100, 95]])
    assert pattern.is_valid(ints).tolist() == [[True, True, False], [False, False, True]]
    assert pattern.is_valid(ints.to(torch.int32)).dtype == torch.bool
    with pytest.raises(TypeError):
        pattern.is_valid(torch.tensor([5.0]))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ConfigError, "no integer pattern given; choose one of --multiple-of, --rule, --odd"),
        (
            {"multiple_of": 5, "odd": True},
            ConfigError,
            "several integer patterns given; choose one of --multiple-of, --rule, --odd, "
            "--even, --from-file",
        ),
        ({"rule": "n > 1", "from_file": "x.txt"}, ConfigError, "several integer patterns"),
        ({"odd": True, "even": True}, ConfigError, "--odd and --even contradict each other"),
        ({"multiple_of": 0}, ConfigError, "--multiple-of must be a positive integer, got 0"),
        ({"multiple_of": -5}, ConfigError, "--multiple-of must be a positive integer, got -5"),
        ({"multiple_of": 1}, ConfigError, "--multiple-of 1 makes every value valid"),
        ({"multiple_of": 100}, ConfigError, "--multiple-of 100 leaves only 0 below --max 100"),
        ({"multiple_of": 2.5}, ConfigError, "--multiple-of must be an integer"),
        ({"multiple_of": 5, "max_value": 1}, ConfigError, "--max must be at least 2, got 1"),
        ({"odd": True, "max_value": -3}, ConfigError, "--max must be at least 2, got -3"),
        ({"even": True, "max_value": MAX_VALUE + 1}, ConfigError, "is too large"),
        ({"even": True, "max_value": "10"}, ConfigError, "--max must be an integer"),
        ({"rule": "n > 1000"}, ConfigError, r"--rule 'n > 1000' matches no value in \[0, 100\)"),
        ({"rule": "n >= 0"}, ConfigError, r"--rule 'n >= 0' matches every value in \[0, 100\)"),
        ({"rule": "__import__('os').system('ls')"}, ExpressionError, "--rule: .*not allowed"),
        ({"rule": "n % 3"}, ExpressionError, "--rule: .*must be a condition"),
        ({"rule": "n %% 3 == 1"}, ExpressionError, "--rule: .*not valid syntax"),
        ({"rule": "   "}, ExpressionError, "--rule is empty"),
    ],
)
def test_bad_patterns(kwargs: dict, error: type[GenlabError], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        make_pattern(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no numbers"),
        (" \n , ,\n\n", "holds no numbers"),
        ("1 2\n3\n4 five 6\n", r"line 3: 'five' is not an integer"),
        ("1, 2.5", r"line 1: '2.5' is not an integer"),
        ("1\n2\n-3\n", "line 3: -3 is negative"),
        (f"1 {MAX_VALUE}", "is too large"),
        (b"\xff\xfe\x00\x01", "not a UTF-8 text file"),
    ],
)
def test_bad_files(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(DataError, match=message) as info:
        make_pattern(from_file=path)
    assert f"--from-file {path}" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        make_pattern(from_file=tmp_path / "nope.txt")
    with pytest.raises(DataError, match="not a file"):
        make_pattern(from_file=tmp_path)


def test_file_max_too_small(tmp_path: Path) -> None:
    path = _write(tmp_path, "1 2 30")
    with pytest.raises(ConfigError, match="--max 20 is too small for --from-file .*use --max 31"):
        make_pattern(from_file=path, max_value=20)


# ------------------------------------------------------------------------------------------
# Storage and invariants
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uniform", [True, False])
def test_pattern_to_dict_round_trip(tmp_path: Path, uniform: bool) -> None:
    if uniform:
        pattern = make_pattern(max_value=60, rule="n % 3 == 1")
    else:
        pattern = make_pattern(from_file=_write(tmp_path, "1 1 2 9 9 9 4"))
    stored = pattern.to_dict()
    text = json.dumps(stored)
    assert all(isinstance(v, (str, int, list, type(None))) for v in stored.values())
    again = IntegerPattern.from_dict(json.loads(text))
    assert again == pattern
    assert hash(again) == hash(pattern)
    assert torch.equal(again.probs, pattern.probs)
    assert (stored["probs"] is None) == uniform


@pytest.mark.parametrize(
    "data",
    [
        {"description": "x", "max_value": 10},
        {"description": "x", "max_value": 10, "values": [1, 1]},
        {"description": "x", "max_value": 10, "values": [3, 1]},
        {"description": "x", "max_value": 10, "values": [1, 10]},
        {"description": "x", "max_value": 10, "values": []},
        {"description": "x", "max_value": 10, "values": [1, 2], "probs": [0.5]},
        {"description": "x", "max_value": 10, "values": [1, 2], "probs": [0.5, 0.6]},
        {"description": "x", "max_value": 10, "values": [1, 2], "probs": [1.0, 0.0]},
        {"description": "x", "max_value": "10", "values": [1, 2]},
        {"description": "x", "max_value": 10, "values": ["a"]},
        "not a dict",
    ],
)
def test_pattern_from_dict_rejects_bad_data(data: object) -> None:
    with pytest.raises(RunFileError, match="stored integer pattern is invalid"):
        IntegerPattern.from_dict(data)  # type: ignore[arg-type]


def test_pattern_is_frozen() -> None:
    pattern = make_pattern(multiple_of=5)
    with pytest.raises(AttributeError):
        pattern.max_value = 7  # type: ignore[misc]
    assert pattern != make_pattern(multiple_of=5, max_value=101)


# ------------------------------------------------------------------------------------------
# Real samples
# ------------------------------------------------------------------------------------------


def test_sample_real_is_seeded_and_valid() -> None:
    pattern = make_pattern(multiple_of=5)
    a = sample_real(pattern, 1000, torch.Generator().manual_seed(7))
    b = sample_real(pattern, 1000, torch.Generator().manual_seed(7))
    c = sample_real(pattern, 1000, torch.Generator().manual_seed(8))
    assert a.dtype == torch.int64 and a.shape == (1000,)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert bool(pattern.is_valid(a).all())


def test_sample_real_matches_the_books_draw() -> None:
    pattern = make_pattern(multiple_of=5)
    ours = sample_real(pattern, 50, torch.Generator().manual_seed(3))
    book = torch.randint(0, 20, (50,), generator=torch.Generator().manual_seed(3)) * 5
    assert torch.equal(ours, book)


def _chi_square(counts: torch.Tensor, probs: torch.Tensor) -> float:
    n = counts.sum()
    expected = probs * n
    return float(((counts - expected) ** 2 / expected).sum())


def test_sample_real_is_uniform_ish() -> None:
    pattern = make_pattern(multiple_of=5)
    samples = sample_real(pattern, 20_000, torch.Generator().manual_seed(0))
    counts = torch.bincount(samples // 5, minlength=20).to(torch.float64)
    # 19 degrees of freedom: the 99.9% quantile of chi-square is 43.8.
    assert _chi_square(counts, pattern.probs) < 43.8
    assert int(counts.min()) > 0


def test_sample_real_follows_file_frequencies(tmp_path: Path) -> None:
    pattern = make_pattern(from_file=_write(tmp_path, "2 2 2 2 2 2 5 5 5 9"))
    samples = sample_real(pattern, 20_000, torch.Generator().manual_seed(1))
    index = torch.searchsorted(pattern.values, samples)
    assert torch.equal(pattern.values[index], samples)
    counts = torch.bincount(index, minlength=3).to(torch.float64)
    # 2 degrees of freedom: the 99.9% quantile of chi-square is 13.8.
    assert _chi_square(counts, pattern.probs) < 13.8
    again = sample_real(pattern, 20_000, torch.Generator().manual_seed(1))
    assert torch.equal(samples, again)


def test_sample_real_edge_cases() -> None:
    pattern = make_pattern(odd=True, max_value=10)
    empty = sample_real(pattern, 0, torch.Generator().manual_seed(0))
    assert empty.shape == (0,) and empty.dtype == torch.int64
    with pytest.raises(ConfigError, match="number of samples"):
        sample_real(pattern, -1, torch.Generator())
