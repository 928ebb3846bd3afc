"""Tests for the safe expression compiler (formulas and rules)."""

from __future__ import annotations

import math
import pickle
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genlab.errors import ExpressionError, GenlabError
from genlab.expressions import (
    FORMULA_FUNCTIONS,
    MAX_LENGTH,
    Expression,
    evaluate_formula_on,
    parse_formula,
    parse_rule,
)

X = torch.linspace(0.1, 0.9, 17, dtype=torch.float64)

FORMULAS = [
    ("x", lambda x: x),
    ("1.08**x", lambda x: 1.08**x),
    ("-x**2 + 3*x - 1", lambda x: -(x**2) + 3 * x - 1),
    ("2**-x", lambda x: 2.0**-x),
    ("x / (1 + x)", lambda x: x / (1 + x)),
    ("+x - -x", lambda x: x + x),
    ("(x + 1) * (x - 1) / 2", lambda x: (x + 1) * (x - 1) / 2),
    ("sin(x) + cos(x) * tan(x)", lambda x: np.sin(x) + np.cos(x) * np.tan(x)),
    ("asin(x) + acos(x) + atan(x)", lambda x: np.arcsin(x) + np.arccos(x) + np.arctan(x)),
    ("sinh(x) - cosh(x) + tanh(x)", lambda x: np.sinh(x) - np.cosh(x) + np.tanh(x)),
    (
        "exp(x) + log(x) + log2(x) + log10(x)",
        lambda x: np.exp(x) + np.log(x) + np.log2(x) + np.log10(x),
    ),
    ("sqrt(x) + abs(x - 0.5)", lambda x: np.sqrt(x) + np.abs(x - 0.5)),
    ("floor(10*x) + ceil(10*x)", lambda x: np.floor(10 * x) + np.ceil(10 * x)),
    ("pi * x + e", lambda x: math.pi * x + math.e),
    ("2e-1 * x ** 0.5", lambda x: 0.2 * x**0.5),
    ("7", lambda x: np.full_like(x, 7.0)),
    ("sin(cos(exp(x)))", lambda x: np.sin(np.cos(np.exp(x)))),
]


@pytest.mark.parametrize(("text", "reference"), FORMULAS)
def test_formula_values_match_numpy(text, reference):
    expr = parse_formula(text)
    y = expr(X)
    assert y.shape == X.shape
    assert y.dtype == torch.float64
    np.testing.assert_allclose(y.numpy(), reference(X.numpy()), rtol=1e-12, atol=1e-12)


def test_formula_expression_object():
    expr = parse_formula("sin(x)")
    assert isinstance(expr, Expression)
    assert expr.text == "sin(x)"
    assert expr.variable == "x"
    assert "sin(x)" in repr(expr)
    assert expr == parse_formula("sin(x)")
    assert hash(expr) == hash(parse_formula("sin(x)"))
    clone = pickle.loads(pickle.dumps(expr))
    assert clone == expr
    assert torch.equal(clone(X), expr(X))


def test_formula_keeps_float32_and_converts_integers():
    assert parse_formula("x * 2")(torch.ones(3)).dtype == torch.float32
    y = parse_formula("x / 2")(torch.arange(4))
    assert y.is_floating_point()
    assert y.tolist() == [0.0, 0.5, 1.0, 1.5]


def test_formula_book_exponential_is_bit_identical():
    x = 50 * torch.rand(1000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(parse_formula("1.08**x")(x), 1.08**x)


def test_formula_constant_broadcasts_to_shape():
    y = parse_formula("pi")(torch.zeros(2, 3))
    assert y.shape == (2, 3)
    assert torch.allclose(y, torch.full((2, 3), math.pi))


def test_formula_all_listed_functions_are_callable():
    for name in FORMULA_FUNCTIONS:
        assert parse_formula(f"{name}(x / 2)")(X).shape == X.shape


def test_huge_power_is_inf_not_a_hang():
    start = time.perf_counter()
    for text in ("9**9**9**9", "9**9**9", "10**10**10**10**10", "(9**9)**(9**9)"):
        y = parse_formula(text)(torch.zeros(3))
        assert torch.isinf(y).all()
    assert time.perf_counter() - start < 1.0


def test_huge_integer_literal_is_inf():
    y = parse_formula("1" + "0" * 400 + " + x")(torch.zeros(2))
    assert torch.isinf(y).all()


HOSTILE = [
    "__import__('os').system('touch MARKER')",
    "__import__",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "x.__class__",
    "lambda: 1",
    "open('f')",
    "eval('1')",
    "exec('1')",
    "globals()",
    "[1]",
    "(1, 2)",
    "{1: 2}",
    "{1}",
    "[i for i in (1,)]",
    "'a'",
    "b'a'",
    "f'{x}'",
    "1j",
    "True",
    "None",
    "...",
    "x < 1",
    "x == 1",
    "x and 1",
    "not x",
    "x if x else 1",
    "(y := 1)",
    "x[0]",
    "x[0:1]",
    "sin",
    "sin(x, x)",
    "sin()",
    "sin(x=1)",
    "sin(*x)",
    "sin(**x)",
    "foo(x)",
    "y",
    "X",
    "x @ x",
    "x // 2",
    "x % 2",
    "x << 1",
    "x | 1",
    "~x",
    "1 +",
    "x x",
    "import os",
    "x = 1",
    "",
    "   ",
    "\x00",
    "x\x00",
    "-" * 300 + "x",
    "sin(" * 60 + "x" + ")" * 60,
    "(" * 300 + "x" + ")" * 300,
    "x" + "+x" * 300,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_formula_is_refused(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError) as info:
        parse_formula(text)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, GenlabError)
    assert not (tmp_path / "MARKER").exists()


def test_refusal_lists_what_is_allowed():
    with pytest.raises(ExpressionError, match="allowed: the variable x.*sin.*pi and e"):
        parse_formula("open('f')")
    with pytest.raises(ExpressionError, match="'y' is not allowed"):
        parse_formula("y + 1")


def test_too_long_text_is_refused():
    text = "x" + " " * MAX_LENGTH
    with pytest.raises(ExpressionError, match="characters long"):
        parse_formula(text)


def test_non_string_is_refused():
    with pytest.raises(ExpressionError):
        parse_formula(3)  # type: ignore[arg-type]


def test_evaluate_formula_on_finite_and_not():
    x = torch.tensor([1.0, 4.0, 9.0])
    assert evaluate_formula_on(parse_formula("sqrt(x)"), x).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ExpressionError, match=r"not finite at x = -2\b"):
        evaluate_formula_on(parse_formula("sqrt(x)"), torch.tensor([1.0, -2.0, -3.0]))
    with pytest.raises(ExpressionError, match="x = 0"):
        evaluate_formula_on(parse_formula("1 / x"), torch.tensor([1.0, 0.0]))
    with pytest.raises(ExpressionError, match="x = 100"):
        evaluate_formula_on(parse_formula("exp(x)"), torch.tensor([1.0, 100.0]))
    with pytest.raises(ExpressionError, match="x = -1"):
        evaluate_formula_on(parse_formula("x ** 0.5"), torch.tensor([-1.0]))


# --------------------------------------------------------------------------- rules

N = torch.arange(-30, 130)

RULES = [
    ("n % 5 == 0", lambda n: n % 5 == 0),
    ("n % 3 == 1", lambda n: n % 3 == 1),
    ("n % -3 == -1", lambda n: n % -3 == -1),
    ("n // 7 == 2", lambda n: n // 7 == 2),
    ("n ** 2 < 50", lambda n: n**2 < 50),
    ("n ** 0 == 1", lambda n: n**0 == 1),
    ("-n > 3", lambda n: -n > 3),
    ("abs(n - 10) <= 4", lambda n: abs(n - 10) <= 4),
    ("0 <= n < 100 and n % 2 == 0", lambda n: 0 <= n < 100 and n % 2 == 0),
    ("n == 1 or n == 2 or n >= 90", lambda n: n == 1 or n == 2 or n >= 90),
    ("not n % 4 == 0", lambda n: not n % 4 == 0),
    ("not (n > 5 and n < 10)", lambda n: not (n > 5 and n < 10)),
    ("n != 3", lambda n: n != 3),
    ("1 < n < 5 < 6", lambda n: 1 < n < 5 < 6),
    ("(n * 3 + 2) % 4 == n % 4", lambda n: (n * 3 + 2) % 4 == n % 4),
    ("True", lambda n: True),
    ("False or n == 7", lambda n: n == 7),
    ("(n > 2) == (n > 5)", lambda n: (n > 2) == (n > 5)),
]


@pytest.mark.parametrize(("text", "reference"), RULES)
def test_rule_values_match_python(text, reference):
    mask = parse_rule(text)(N)
    assert mask.dtype == torch.bool
    assert mask.shape == N.shape
    assert mask.tolist() == [bool(reference(n)) for n in N.tolist()]


def test_rule_expression_object():
    rule = parse_rule("n % 5 == 0")
    assert rule.text == "n % 5 == 0"
    assert rule.variable == "n"
    assert "n % 5 == 0" in repr(rule)
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert rule(torch.tensor([[0, 1], [5, 10]])).tolist() == [[True, False], [True, True]]


def test_rule_accepts_other_integer_dtypes_and_whole_floats():
    rule = parse_rule("n % 2 == 0")
    assert rule(torch.arange(4, dtype=torch.int32)).tolist() == [True, False, True, False]
    assert rule(torch.tensor([2.0, 3.0])).tolist() == [True, False]
    with pytest.raises(ExpressionError, match="whole numbers"):
        rule(torch.tensor([2.5]))


def test_rule_must_be_a_condition():
    for text in ("n % 3", "n", "n + 1", "abs(n)", "3"):
        with pytest.raises(ExpressionError, match=r"a rule must be a condition, e\.g\. n % 3 == 1"):
            parse_rule(text)


def test_rule_literal_zero_divisor_is_refused():
    for text in ("n % 0 == 1", "n // 0 == 1", "n % (0) == 0", "n % -0 == 0"):
        with pytest.raises(ExpressionError, match="divides by zero"):
            parse_rule(text)


def test_rule_computed_zero_divisor_is_false_there():
    mask = parse_rule("n % (n - 3) == 0")(torch.arange(8))
    assert mask.tolist() == [True, False, True, False, True, False, True, False]
    # Undefined anywhere in the rule makes it False there, even under `not`.
    assert parse_rule("not n // (n - 3) == 7")(torch.tensor([3, 4])).tolist() == [False, True]


def test_rule_exponent_is_guarded():
    for text in (
        "n ** n == 1",
        "n ** -1 == 1",
        "n ** 64 == 0",
        "2 ** (n + 1) == 4",
        "n ** 1.5 > 1",
    ):
        with pytest.raises(ExpressionError, match="exponent"):
            parse_rule(text)
    assert parse_rule("n ** 63 == 0")(torch.tensor([0, 1])).tolist() == [True, False]


RULE_HOSTILE = [
    "__import__('os').system('touch MARKER') == 0",
    "n.real == 1",
    "().__class__ == n",
    "lambda: 1",
    "open('f') == 1",
    "[1] == n",
    "'a' == n",
    "n == 1.5",
    "n / 2 == 1",
    "x == 1",
    "n in (1, 2)",
    "n is 1",
    "n and n > 3",
    "not n",
    "n > 3 or 5",
    "abs(n, 1) == 1",
    "abs(n=1) == 1",
    "max(n, 1) == 1",
    "n == 99999999999999999999",
    "n & 1 == 0",
    "n ==",
    "",
    "\x00",
    "not " * 120 + "n > 1",
]


@pytest.mark.parametrize("text", RULE_HOSTILE)
def test_hostile_rule_is_refused(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError) as info:
        parse_rule(text)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "MARKER").exists()


# --------------------------------------------------------------------------- properties

TOKENS = [
    "x",
    "n",
    "1",
    "0",
    "9",
    "2.5",
    "1e308",
    "-",
    "+",
    "*",
    "/",
    "//",
    "%",
    "**",
    "(",
    ")",
    " ",
    ",",
    ".",
    "[",
    "]",
    ":",
    "'",
    '"',
    "=",
    "==",
    "<",
    ">=",
    "!=",
    " and ",
    " or ",
    "not ",
    "sin",
    "log",
    "sqrt",
    "abs",
    "pi",
    "e",
    "__import__",
    "os",
    "system",
    "'touch MARKER'",
    "__class__",
    "lambda",
    "open",
    "if",
    "else",
    "@",
    "~",
    "\\",
    "\n",
    "{",
    "}",
    "*",
    "j",
    "True",
    "None",
    "_",
]

token_text = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)


def _check_safe(text: str) -> None:
    for parse, values in (
        (parse_formula, torch.linspace(-3, 3, 7)),
        (parse_rule, torch.arange(-3, 4)),
    ):
        try:
            expr = parse(text)
        except ExpressionError:
            continue
        out = expr(values)
        assert out.shape == values.shape


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=60))
def test_random_text_only_raises_expression_error(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _check_safe(text)
    assert not (tmp_path / "MARKER").exists()


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=token_text)
def test_random_token_strings_only_raise_expression_error(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _check_safe(text)
    assert not (tmp_path / "MARKER").exists()
