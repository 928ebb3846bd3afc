"""Tests for curve datasets: the book's shapes, formula points, CSV files."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data.curves import (
    SHAPES,
    CurveDataset,
    book_shape,
    formula_points,
    load_curve_dataset,
    read_csv_points,
)
from genlab.errors import ConfigError, DataError, ExpressionError
from genlab.expressions import parse_formula


def _book_listing(name: str, n: int = 2048) -> torch.Tensor:
    """The book's listing 3.1 (and its sine exercise), run with the global seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        train_data = torch.zeros((n, 2))
        if name == "exp":
            train_data[:, 0] = 50 * torch.rand(n)
            train_data[:, 1] = 1.08 ** train_data[:, 0]
        else:
            train_data[:, 0] = 10 * (torch.rand(n) - 0.5)
            train_data[:, 1] = torch.sin(train_data[:, 0])
    return train_data


@pytest.mark.parametrize("name", ["exp", "sine"])
def test_book_shape_is_the_books_data(name):
    data = book_shape(name)
    assert data.shape == (2048, 2)
    assert data.dtype == torch.float32
    assert torch.equal(data, _book_listing(name))


def test_book_exp_first_values():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        x = 50 * torch.rand(3)
    data = book_shape("exp")
    assert torch.equal(data[:3, 0], x)
    assert data[:3, 0].tolist() == pytest.approx([24.8128, 38.4111, 4.4239], abs=1e-4)
    assert data[:3, 1].tolist() == pytest.approx([1.08**v for v in x.tolist()], rel=1e-5)


def test_book_shape_ranges_and_relation():
    for name, (text, (lo, hi)) in SHAPES.items():
        data = book_shape(name)
        assert lo <= float(data[:, 0].min()) and float(data[:, 0].max()) <= hi
        expected = parse_formula(text)(data[:, 0].double())
        assert torch.allclose(data[:, 1].double(), expected, rtol=1e-5, atol=1e-6)


def test_book_shape_leaves_global_rng_alone_and_seeds_differ():
    state = torch.random.get_rng_state()
    a = book_shape("exp", n=100, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a, book_shape("exp", n=100, seed=1))
    assert not torch.equal(a, book_shape("exp", n=100, seed=2))
    assert book_shape("sine", n=10).shape == (10, 2)


def test_book_shape_refuses_bad_arguments():
    with pytest.raises(ConfigError, match="exp, sine"):
        book_shape("cosine")
    with pytest.raises(ConfigError):
        book_shape("exp", n=1)
    with pytest.raises(ConfigError):
        book_shape("exp", n=2.5)  # type: ignore[arg-type]


def test_formula_points_matches_book_exp():
    assert torch.equal(formula_points("1.08**x", (0.0, 50.0)), book_shape("exp"))


def test_formula_points_range_seed_and_values():
    points = formula_points("x**2 - 1", (2.0, 3.0), n=500, seed=3)
    assert points.shape == (500, 2)
    assert points.dtype == torch.float32
    x, y = points[:, 0], points[:, 1]
    assert float(x.min()) >= 2.0 and float(x.max()) < 3.0
    assert torch.allclose(y, x**2 - 1)
    assert torch.equal(points, formula_points("x**2 - 1", (2.0, 3.0), n=500, seed=3))
    assert not torch.equal(points, formula_points("x**2 - 1", (2.0, 3.0), n=500, seed=4))


def test_formula_points_stays_below_high_end():
    points = formula_points("x", (0.0, 1e-30), n=1000)
    assert float(points[:, 0].max()) < 1e-30


@pytest.mark.parametrize(
    "x_range", [(1.0, 1.0), (2.0, 1.0), (0.0, math.inf), (math.nan, 1.0), (1.0,), "ab"]
)
def test_formula_points_bad_range(x_range):
    with pytest.raises(ConfigError):
        formula_points("x", x_range)  # type: ignore[arg-type]


def test_formula_points_bad_count():
    for n in (0, 1, -5):
        with pytest.raises(ConfigError, match="at least 2"):
            formula_points("x", (0.0, 1.0), n=n)


def test_formula_points_non_finite_names_x():
    with pytest.raises(ExpressionError, match=r"not finite at x = -"):
        formula_points("sqrt(x)", (-1.0, 1.0))
    with pytest.raises(ExpressionError, match="not finite"):
        formula_points("exp(x)", (0.0, 200.0))  # overflows float32
    with pytest.raises(ExpressionError, match="not finite"):
        formula_points("log(x - 1)", (0.0, 2.0))


def test_formula_points_refuses_unsafe_formula():
    with pytest.raises(ExpressionError):
        formula_points("__import__('os')", (0.0, 1.0))


# --------------------------------------------------------------------------- CSV


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header(tmp_path):
    points, columns = read_csv_points(_write(tmp_path, "time,value\n0,1\n1,2.5\n2,-3e2\n"))
    assert columns == ["time", "value"]
    assert points.dtype == torch.float32
    assert points.tolist() == [[0.0, 1.0], [1.0, 2.5], [2.0, -300.0]]


def test_csv_without_header(tmp_path):
    points, columns = read_csv_points(_write(tmp_path, "0,1\n1,2\n"))
    assert columns == ["x", "y"]
    assert points.tolist() == [[0.0, 1.0], [1.0, 2.0]]


def test_csv_single_and_many_columns(tmp_path):
    points, columns = read_csv_points(_write(tmp_path, "1\n2\n3\n", "one.csv"))
    assert columns == ["x"] and points.shape == (3, 1)
    points, columns = read_csv_points(_write(tmp_path, "1,2,3\n4,5,6\n", "three.csv"))
    assert columns == ["column_1", "column_2", "column_3"] and points.shape == (2, 3)


def test_csv_other_separators_bom_blank_lines_and_quotes(tmp_path):
    points, columns = read_csv_points(_write(tmp_path, "a;b\n1;2\n\n3;4\n", "semi.csv"))
    assert columns == ["a", "b"] and points.tolist() == [[1, 2], [3, 4]]
    points, _ = read_csv_points(_write(tmp_path, "1\t2\n3\t4\n", "tab.csv"))
    assert points.tolist() == [[1, 2], [3, 4]]
    points, columns = read_csv_points(
        _write(tmp_path, '\ufeff"x","y"\r\n" 1 ",2\r\n3,4\r\n', "bom.csv")
    )
    assert columns == ["x", "y"] and points.tolist() == [[1, 2], [3, 4]]


def test_csv_with_a_separator_after_the_last_column(tmp_path):
    points, columns = read_csv_points(_write(tmp_path, "x,y,\n1,2,\n3,4,\n", "trail.csv"))
    assert columns == ["x", "y"] and points.tolist() == [[1, 2], [3, 4]]
    points, columns = read_csv_points(_write(tmp_path, "1;2;;\n3;4;;\n", "trail2.csv"))
    assert columns == ["x", "y"] and points.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(DataError, match="line 2.*empty cell"):  # a cell there after all
        read_csv_points(_write(tmp_path, "x,y,\n1,2,\n3,4,5\n", "trail3.csv"))


def test_csv_duplicate_header_names_made_unique(tmp_path):
    _, columns = read_csv_points(_write(tmp_path, "v,v,\n1,2,3\n4,5,6\n"))
    assert columns == ["v", "v_2", "column_3"]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("x,y\n1,2\n3,abc\n", r"line 3, column 'y': 'abc' is not a number"),
        ("1,2\n3,abc\n", r"line 2, column 'y'"),
        ("x,y\n1,2\n3,\n", r"line 3, column 'y': an empty cell"),
        ("x,y\n1,2\nnan,4\n", r"line 3, column 'x': 'nan' is not a finite"),
        ("x,y\n1,2\n3,inf\n", r"line 3, column 'y': 'inf' is not a finite"),
        ("x,y\n1,-Infinity\n3,4\n", r"line 2, column 'y'"),
        ("x,y\n1,2\n3,4,5\n", r"line 3: 3 values, but the file has 2 columns"),
        ("x,y\n1,2\n3\n", r"line 3: 1 values"),
        ("x,y\n1,2\n\n\n3,1e39\n", r"line 5: a value is too large"),
        ("1,abc\n2,3\n", r"line 1, column 'y'"),
        ("x;y\n1,5;2\n3;4\n", r"line 2, column 'x': '1,5' is not a number"),
    ],
)
def test_csv_bad_cells_name_the_line(tmp_path, text, pattern):
    with pytest.raises(DataError, match=pattern):
        read_csv_points(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", "empty"),
        ("\n \n", "empty"),
        ("x,y\n", "no data rows"),
        ("x,y\n1,2\n", "single data row"),
        ("1,2\n", "single data row"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(256)), "binary"),
        ("x,y\n1,2\n3,4\n".encode("utf-16"), "binary"),
        (b"x,y\n1,2\n\xff\xfe,3\n", "not UTF-8"),
    ],
)
def test_csv_bad_files(tmp_path, content, pattern):
    with pytest.raises(DataError, match=pattern):
        read_csv_points(_write(tmp_path, content))


def test_csv_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_csv_points(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="not a file"):
        read_csv_points(tmp_path)


# --------------------------------------------------------------------------- datasets


def test_load_book_kinds():
    for kind in ("exp", "sine"):
        data = load_curve_dataset(kind, n=64, seed=0)
        assert isinstance(data, CurveDataset)
        assert data.name == kind
        assert torch.equal(data.points, book_shape(kind, n=64))
        assert data.columns == ["x", "y"]
        assert data.relation == parse_formula(SHAPES[kind][0])
        assert data.x_range == SHAPES[kind][1]


def test_load_formula_kind():
    data = load_curve_dataset("formula", formula="x**3", x_range=(-1, 2), n=50, seed=1)
    assert data.points.shape == (50, 2)
    assert data.relation is not None and data.relation.text == "x**3"
    assert data.x_range == (-1.0, 2.0)
    assert "x**3" in data.name
    default = load_curve_dataset("formula", formula="x", n=10)
    assert default.x_range == (-5.0, 5.0)


def test_load_csv_kind(tmp_path):
    path = _write(tmp_path, "t,v\n3,1\n-1,2\n5,0\n", "series.csv")
    data = load_curve_dataset("csv", csv=path)
    assert data.name == "series"
    assert data.columns == ["t", "v"]
    assert data.relation is None
    assert data.x_range == (-1.0, 5.0)
    assert data.points.shape == (3, 2)


@pytest.mark.parametrize(
    ("kind", "options", "error"),
    [
        ("circle", {}, ConfigError),
        ("exp", {"formula": "x"}, ConfigError),
        ("exp", {"x_range": (0, 10)}, ConfigError),
        ("sine", {"csv": "a.csv"}, ConfigError),
        ("formula", {}, ConfigError),
        ("formula", {"formula": "  "}, ConfigError),
        ("formula", {"formula": "x.real"}, ExpressionError),
        ("formula", {"formula": "x", "x_range": (3, 1)}, ConfigError),
        ("formula", {"formula": "x", "csv": "a.csv"}, ConfigError),
        ("csv", {}, ConfigError),
        ("csv", {"csv": "/nonexistent/file.csv"}, DataError),
        ("csv", {"csv": "a.csv", "x_range": (0, 1)}, ConfigError),
    ],
)
def test_load_refuses_bad_combinations(kind, options, error):
    with pytest.raises(error):
        load_curve_dataset(kind, **options)
