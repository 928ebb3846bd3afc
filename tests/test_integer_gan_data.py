"""Tests for genlab.gan.integers: the integer-pattern GanData adapter."""

from __future__ import annotations

import json
import math

import pytest
import torch

from genlab.data.integers import BinaryCodec, OneHotCodec, make_pattern
from genlab.errors import ConfigError, RunFileError
from genlab.gan.adapter import GanData
from genlab.gan.integers import (
    BATCHES_PER_EPOCH,
    JS_TOLERANCE,
    IntegerGanData,
    IntegerGanSettings,
    make_integer_gan_data,
    perfect_generator_figures,
    recommended_settings,
)


@pytest.fixture
def fives() -> IntegerGanData:
    """The book's case: multiples of 5 in [0, 100), one-hot."""
    return make_integer_gan_data(multiple_of=5, max_value=100)


@pytest.fixture
def sevens_binary() -> IntegerGanData:
    return make_integer_gan_data(encoding="binary", multiple_of=7, max_value=1000)


# ------------------------------------------------------------------------------------------
# Protocol and construction
# ------------------------------------------------------------------------------------------


def test_implements_gan_data(fives: IntegerGanData) -> None:
    assert isinstance(fives, GanData)
    assert fives.kind == "integers"
    assert fives.name == "multiples of 5 in [0, 100)"
    assert fives.dim == 100
    assert fives.monitor == "shortfall"
    assert fives.monitor_mode == "min"
    assert fives.monitor_target == 0.0
    assert fives.batches_per_epoch == BATCHES_PER_EPOCH


def test_binary_dim_is_bit_count(sevens_binary: IntegerGanData) -> None:
    assert sevens_binary.dim == 10  # ceil(log2(1000))
    assert isinstance(sevens_binary.codec, BinaryCodec)


def test_codec_of_another_size_is_refused() -> None:
    pattern = make_pattern(multiple_of=5, max_value=100)
    with pytest.raises(ConfigError, match="covers"):
        IntegerGanData(pattern, OneHotCodec(50))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batches_per_epoch_is_refused(bad: object) -> None:
    pattern = make_pattern(multiple_of=5, max_value=100)
    with pytest.raises(ConfigError, match="batches per epoch"):
        IntegerGanData(pattern, OneHotCodec(100), batches_per_epoch=bad)  # type: ignore[arg-type]


def test_bad_flags_propagate_as_config_errors() -> None:
    with pytest.raises(ConfigError, match="--encoding binary"):
        make_integer_gan_data(multiple_of=5, max_value=10_000)
    with pytest.raises(ConfigError):
        make_integer_gan_data(multiple_of=0)


# ------------------------------------------------------------------------------------------
# Real batches
# ------------------------------------------------------------------------------------------


def test_real_batches_shapes_and_values(fives: IntegerGanData) -> None:
    batches = fives.real_batches(32, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert len(batches) == fives.batches_per_epoch
    for batch in batches:
        assert batch.shape == (32, 100)
        assert batch.dtype == torch.float32
        # exactly one 1.0 per row, the rest 0.0
        assert torch.equal(batch.sum(dim=1), torch.ones(32))
        assert set(batch.unique().tolist()) <= {0.0, 1.0}
    values = fives.decode(torch.cat(batches))
    assert bool(fives.pattern.is_valid(values).all())
    assert set(values.tolist()) == set(range(0, 100, 5))  # 1600 draws cover all 20 values


def test_real_batches_encode_the_drawn_integers(fives: IntegerGanData) -> None:
    """The batches are codec.encode of the same draws real_integers makes."""
    batches = fives.real_batches(16, torch.Generator().manual_seed(3), "cpu")
    ints = fives.real_integers(16 * fives.batches_per_epoch, torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat(batches), fives.codec.encode(ints))


def test_real_batches_are_seeded(fives: IntegerGanData) -> None:
    first = fives.real_batches(8, torch.Generator().manual_seed(7), "cpu")
    again = fives.real_batches(8, torch.Generator().manual_seed(7), "cpu")
    other = fives.real_batches(8, torch.Generator().manual_seed(8), "cpu")
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_real_batches_binary(sevens_binary: IntegerGanData) -> None:
    batches = sevens_binary.real_batches(64, torch.Generator().manual_seed(0), "cpu")
    stacked = torch.cat(batches)
    assert stacked.shape == (64 * sevens_binary.batches_per_epoch, 10)
    assert set(stacked.unique().tolist()) <= {0.0, 1.0}
    values = sevens_binary.decode(stacked)
    assert bool((values % 7 == 0).all()) and int(values.max()) < 1000


def test_real_batches_follow_file_frequencies(tmp_path) -> None:
    path = tmp_path / "counts.txt"
    path.write_text("3 3 3 9\n")
    data = make_integer_gan_data(from_file=path)
    values = data.decode(torch.cat(data.real_batches(200, torch.Generator().manual_seed(0), "cpu")))
    share_of_3 = float((values == 3).float().mean())
    assert set(values.unique().tolist()) == {3, 9}
    assert share_of_3 == pytest.approx(0.75, abs=0.02)


@pytest.mark.parametrize("bad", [0, -4, 1.5])
def test_bad_batch_size_is_refused(fives: IntegerGanData, bad: object) -> None:
    with pytest.raises(ConfigError, match="batch size"):
        fives.real_batches(bad, torch.Generator(), "cpu")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["onehot", "binary"])
def test_decode_inverts_encode_for_every_value(encoding: str) -> None:
    data = make_integer_gan_data(encoding=encoding, multiple_of=5, max_value=100)
    every = torch.arange(100)
    assert torch.equal(data.decode(data.codec.encode(every)), every)


def test_decode_of_generator_like_outputs(fives: IntegerGanData) -> None:
    soft = torch.softmax(torch.randn(50, 100), dim=-1)
    assert torch.equal(fives.decode(soft), soft.argmax(dim=-1))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("encoding", ["onehot", "binary"])
def test_decoder_module_matches_decode_and_scripts(encoding: str) -> None:
    data = make_integer_gan_data(encoding=encoding, multiple_of=7, max_value=1000)
    outputs = torch.rand(300, data.dim)
    module = data.decoder()
    assert torch.equal(module(outputs), data.decode(outputs))
    assert torch.equal(torch.jit.script(module)(outputs), data.decode(outputs))


def test_decoder_module_msb_first() -> None:
    pattern = make_pattern(multiple_of=3, max_value=64)
    data = IntegerGanData(pattern, BinaryCodec(64, msb_first=True))
    every = torch.arange(64)
    assert torch.equal(data.decoder()(data.codec.encode(every)), every)


# ------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------


def test_evaluate_perfect_samples(fives: IntegerGanData) -> None:
    figures = fives.test_figures(torch.arange(0, 100, 5).repeat(500))  # 10,000 exact samples
    assert figures["validity"] == 1.0
    assert figures["coverage"] == 1.0
    assert figures["covered"] == 20
    assert figures["js"] == pytest.approx(0.0, abs=1e-12)
    assert figures["shortfall"] == 0.0
    assert fives.warnings(figures) == []
    json.dumps(figures)  # plain values


def test_evaluate_one_value_only(fives: IntegerGanData) -> None:
    figures = fives.test_figures(torch.full((1000,), 35))
    assert figures["validity"] == 1.0
    assert figures["coverage"] == pytest.approx(1 / 20)
    assert figures["top_share"] == 1.0
    # coverage gap 19/20 plus the JS beyond tolerance
    assert figures["shortfall"] > 0.95
    warnings = fives.warnings(figures)
    assert any("mode collapse: only 1 of 20" in w for w in warnings)


def test_evaluate_invalid_samples(fives: IntegerGanData) -> None:
    samples = torch.cat([torch.arange(0, 100, 5).repeat(45), torch.full((100,), 3)])
    figures = fives.test_figures(samples)
    assert figures["validity"] == pytest.approx(900 / 1000)
    assert figures["shortfall"] >= 0.1
    assert any("not in the pattern" in w for w in fives.warnings(figures))


def test_shortfall_parts(fives: IntegerGanData) -> None:
    # all valid, all covered, JS small but above tolerance + sampling noise: only JS counts
    skewed = torch.cat([torch.arange(0, 100, 5).repeat(40), torch.zeros(200, dtype=torch.long)])
    figures = fives.test_figures(skewed)
    expected_js = perfect_generator_figures(fives.pattern, figures["n_samples"])["expected_js"]
    assert figures["validity"] == 1.0 and figures["coverage"] == 1.0
    assert figures["js"] > JS_TOLERANCE + expected_js
    assert figures["shortfall"] == pytest.approx(figures["js"] - JS_TOLERANCE - expected_js)


def test_shortfall_allows_sampling_misses_of_rare_values(tmp_path) -> None:
    """A value a perfect generator would rarely show does not count against coverage."""
    path = tmp_path / "rare.txt"
    path.write_text("1 " * 99_999 + "2")
    data = make_integer_gan_data(from_file=path)
    figures = data.test_figures(torch.ones(1000, dtype=torch.long))
    expected = perfect_generator_figures(data.pattern, 1000)["expected_coverage"]
    assert figures["coverage"] == 0.5
    assert expected == pytest.approx(0.505, abs=1e-3)  # value 2 shows up 1% of the time
    assert figures["shortfall"] == pytest.approx(expected - 0.5)  # not the full 0.5


def test_perfect_generator_figures() -> None:
    pattern = make_pattern(multiple_of=5, max_value=100)
    figures = perfect_generator_figures(pattern, 10_000)
    assert figures["expected_coverage"] == pytest.approx(1.0)
    assert figures["expected_js"] == pytest.approx(19 / (8 * 10_000 * math.log(2)))
    few = perfect_generator_figures(pattern, 20)
    assert few["expected_coverage"] == pytest.approx(1 - (19 / 20) ** 20)
    with pytest.raises(ConfigError):
        perfect_generator_figures(pattern, 0)


def test_sampled_real_data_has_zero_shortfall(fives: IntegerGanData) -> None:
    """Real draws themselves (sampling noise only) meet the target."""
    real = fives.real_integers(10_000, torch.Generator().manual_seed(0))
    assert fives.test_figures(real)["shortfall"] == 0.0


# ------------------------------------------------------------------------------------------
# Storage
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["onehot", "binary"])
def test_to_dict_from_dict_round_trip(encoding: str, tmp_path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("1 1 2 40\n")
    for data in (
        make_integer_gan_data(encoding=encoding, rule="n % 3 == 1", max_value=60),
        make_integer_gan_data(encoding=encoding, from_file=path),
    ):
        stored = json.loads(json.dumps(data.to_dict()))  # plain values only
        again = IntegerGanData.from_dict(stored)
        assert again.pattern == data.pattern
        assert again.codec == data.codec
        assert again.to_dict() == data.to_dict()
        samples = torch.tensor([1, 2, 4, 40, 7])
        assert again.test_figures(samples) == data.test_figures(samples)


def test_from_dict_refuses_other_kinds_and_damage(fives: IntegerGanData) -> None:
    with pytest.raises(RunFileError, match="kind"):
        IntegerGanData.from_dict({"kind": "curve"})
    damaged = fives.to_dict()
    del damaged["pattern"]
    with pytest.raises(RunFileError, match="damaged"):
        IntegerGanData.from_dict(damaged)
    wrong_width = fives.to_dict()
    wrong_width["codec"] = {**wrong_width["codec"], "width": 7}
    with pytest.raises(RunFileError):
        IntegerGanData.from_dict(wrong_width)


# ------------------------------------------------------------------------------------------
# Recommended settings
# ------------------------------------------------------------------------------------------


def test_recommended_settings(fives: IntegerGanData, sevens_binary: IntegerGanData) -> None:
    genlab = recommended_settings(fives)
    assert genlab.g_out_activation == "softmax"
    assert genlab.g_hidden == () and genlab.d_hidden == ()
    assert genlab.d_lr > genlab.lr
    book = recommended_settings(fives, "book")
    assert (book.g_out_activation, book.lr, book.d_lr, book.batch_size) == ("relu", 5e-4, 5e-4, 10)
    binary = recommended_settings(sevens_binary)
    assert binary.g_out_activation == "sigmoid"
    stored = json.loads(json.dumps(genlab.to_dict()))
    assert IntegerGanSettings(**{**stored, "g_hidden": (), "d_hidden": ()}) == genlab
    with pytest.raises(ConfigError, match="preset"):
        recommended_settings(fives, "fast")


def test_book_reference_names_only_the_books_pattern(sevens_binary: IntegerGanData) -> None:
    assert make_integer_gan_data(multiple_of=5, max_value=100).book_reference == (
        "gan-multiples-of-5"
    )
    assert make_integer_gan_data(encoding="binary", multiple_of=5, max_value=100).book_reference
    assert make_integer_gan_data(multiple_of=5, max_value=105).book_reference is None
    assert make_integer_gan_data(rule="n % 5 == 1").book_reference is None
    assert sevens_binary.book_reference is None


def test_validation_and_test_figures_agree_on_the_same_samples(fives: IntegerGanData) -> None:
    samples = torch.arange(0, 100, 5).repeat(50)
    assert fives.validation_figures(samples) == fives.test_figures(samples)
    assert set(fives.splits()) == {"train", "validation", "test"}
