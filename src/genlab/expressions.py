"""Safe expressions a user types: curve formulas ``y = f(x)`` and integer rules ``n % 5 == 0``.

The text is parsed with :func:`ast.parse` in ``eval`` mode and the tree is walked against an
explicit whitelist. Every allowed node becomes a small Python closure over torch tensors; the
closures are composed into one callable. User text is never passed to ``eval``, ``exec`` or
``compile``, no attribute, subscript or name outside the whitelist is ever looked up, and
nothing is computed on Python numbers: every constant becomes a tensor, so ``9**9**9`` gives
``inf`` in a few microseconds instead of a hang.

Two languages are offered:

* :func:`parse_formula` -- a real function of the float variable ``x``
  (numbers, ``+ - * / **``, unary ``-``/``+``, parentheses, the functions in
  :data:`FORMULA_FUNCTIONS` and the constants ``pi`` and ``e``).
* :func:`parse_rule` -- a condition on the integer variable ``n`` (int64): integer literals,
  ``+ - * // % **`` (exponent a literal integer in 0..63), unary ``-``/``+``, ``abs``,
  comparisons (chained too), ``and``/``or``/``not``, parentheses. The result is a bool tensor.
  Where any part of a rule is undefined for an element (``n % (n - 3)`` at ``n == 3``), the
  rule is ``False`` for that element. Arithmetic is int64 and wraps around on overflow.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Callable

import torch

from genlab.errors import ExpressionError

__all__ = [
    "FORMULA_CONSTANTS",
    "FORMULA_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RULE_FUNCTIONS",
    "Expression",
    "evaluate_formula_on",
    "parse_formula",
    "parse_rule",
]

#: Longest text accepted, in characters.
MAX_LENGTH = 500
#: Deepest expression tree accepted (operators and calls nested inside each other).
MAX_DEPTH = 40
#: Largest literal exponent accepted in a rule (int64 arithmetic).
MAX_RULE_EXPONENT = 63

#: The functions a formula may call, each with exactly one argument.
FORMULA_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "log": torch.log,
    "log2": torch.log2,
    "log10": torch.log10,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "floor": torch.floor,
    "ceil": torch.ceil,
}

#: The named constants a formula may use.
FORMULA_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

#: The functions a rule may call, each with exactly one argument.
RULE_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"abs": torch.abs}

_FORMULA_ALLOWED = (
    "allowed: the variable x, numbers, + - * / ** and unary -, parentheses, the functions "
    + ", ".join(FORMULA_FUNCTIONS)
    + " (one argument each) and the constants pi and e"
)
_RULE_ALLOWED = (
    "allowed: the variable n, integers, + - * // % ** (exponent an integer 0..63) and unary -, "
    "abs(...), comparisons == != < <= > >=, and / or / not, parentheses"
)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# A compiled node: takes the input tensor and a list that collects "undefined here" masks.
_Fn = Callable[[torch.Tensor, list[torch.Tensor]], torch.Tensor]


class Expression:
    """A parsed, safe expression: call it on a tensor of values of its variable.

    Build one with :func:`parse_formula` or :func:`parse_rule`. ``expr.text`` is the text it
    was parsed from, ``expr.variable`` is ``"x"`` (formula) or ``"n"`` (rule). Calling it
    returns a tensor of the input's shape: float for a formula, bool for a rule. Expressions
    compare equal and pickle by their kind and text.
    """

    __slots__ = ("_fn", "kind", "text", "variable")

    def __init__(self, text: str, kind: str, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.text = text
        self.kind = kind
        self.variable = "x" if kind == "formula" else "n"
        self._fn = fn

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        """Evaluate elementwise on ``values`` (any shape); the result has the same shape."""
        return self._fn(values)

    def __repr__(self) -> str:
        return f"Expression({self.kind}={self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return (self.kind, self.text) == (other.kind, other.text)

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def __reduce__(self) -> tuple[Callable[[str], Expression], tuple[str]]:
        return (parse_formula if self.kind == "formula" else parse_rule, (self.text,))


# --------------------------------------------------------------------------- parsing helpers


def _parse_tree(text: object, what: str, allowed: str) -> ast.expr:
    if not isinstance(text, str):
        raise ExpressionError(f"a {what} must be text, not {type(text).__name__}")
    if not text.strip():
        raise ExpressionError(f"the {what} is empty; {allowed}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the {what} is {len(text)} characters long; at most {MAX_LENGTH} are allowed"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        detail = exc.msg if getattr(exc, "msg", None) else "invalid syntax"
        where = f" at column {exc.offset}" if getattr(exc, "offset", None) else ""
        hint = " (to compare, write '==', not '=')" if _lone_equals(text) else ""
        message = (
            f"the {what} {_short(text)} is not valid syntax ({detail}{where}){hint}; {allowed}"
        )
        raise ExpressionError(message) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        message = f"the {what} {_short(text)} cannot be parsed ({exc}); {allowed}"
        raise ExpressionError(message) from None
    return tree.body


def _lone_equals(text: str) -> bool:
    """Whether ``text`` holds an ``=`` that is not part of ``==``, ``!=``, ``<=`` or ``>=``."""
    return re.search(r"(?<![=!<>])=(?!=)", text) is not None


def _describe(node: ast.AST) -> str:
    """A short human name for a node that is not allowed."""
    try:
        source = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed tree does not fail in practice
        source = ""
    if len(source) > 40:
        source = source[:37] + "..."
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.List: "list",
        ast.Tuple: "tuple",
        ast.Set: "set",
        ast.Dict: "dict",
        ast.ListComp: "comprehension",
        ast.SetComp: "comprehension",
        ast.DictComp: "comprehension",
        ast.GeneratorExp: "generator",
        ast.Starred: "starred argument",
        ast.IfExp: "if-else expression",
        ast.NamedExpr: "assignment (:=)",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.YieldFrom: "yield",
        ast.JoinedStr: "f-string",
        ast.Compare: "comparison",
        ast.BoolOp: "and/or",
        ast.Slice: "slice",
    }
    kind = kinds.get(type(node))
    if kind is None:
        return repr(source) if source else type(node).__name__
    return f"{kind} {source!r}" if source else kind


def _short(text: str, limit: int = 60) -> str:
    """``repr`` of the text, cut to about ``limit`` characters for one-line messages."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


# --------------------------------------------------------------------------- formulas


class _FormulaCompiler:
    """Walks a formula AST against the whitelist and builds float closures."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, node: ast.AST, reason: str | None = None) -> ExpressionError:
        why = reason or f"{_describe(node)} is not allowed"
        return ExpressionError(f"formula {_short(self.text)}: {why}; {_FORMULA_ALLOWED}")

    def build(self, node: ast.AST, depth: int) -> _Fn:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"it is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(node, f"the constant {value!r} is not a real number")
            return _constant(_to_float(value))
        if isinstance(node, ast.Name):
            if node.id == "x":
                return lambda x, bad: x
            if node.id in FORMULA_CONSTANTS:
                return _constant(FORMULA_CONSTANTS[node.id])
            if node.id in FORMULA_FUNCTIONS:
                raise self.fail(node, f"the function {node.id} must be called, e.g. {node.id}(x)")
            raise self.fail(node, f"the name {node.id!r} is not allowed")
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                return lambda x, bad: torch.neg(operand(x, bad))
            if isinstance(node.op, ast.UAdd):
                return operand
            raise self.fail(node, f"the operator {_op_symbol(node.op)} is not allowed")
        if isinstance(node, ast.BinOp):
            op = _FORMULA_BINOPS.get(type(node.op))
            if op is None:
                raise self.fail(node, f"the operator {_op_symbol(node.op)} is not allowed")
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            return lambda x, bad: op(left(x, bad), right(x, bad))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FORMULA_FUNCTIONS:
                raise self.fail(node, f"calling {_describe(node.func)} is not allowed")
            name = node.func.id
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise self.fail(node, f"{name}() takes exactly one plain argument")
            func = FORMULA_FUNCTIONS[name]
            arg = self.build(node.args[0], depth + 1)
            return lambda x, bad: func(arg(x, bad))
        raise self.fail(node)


def _constant(value: float) -> _Fn:
    def fn(x: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
        return torch.tensor(value, dtype=x.dtype, device=x.device)

    return fn


_FORMULA_BINOPS: dict[type, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    ast.Add: torch.add,
    ast.Sub: torch.sub,
    ast.Mult: torch.mul,
    ast.Div: torch.div,
    ast.Pow: torch.pow,
}

_OP_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def _op_symbol(op: ast.AST) -> str:
    return repr(_OP_SYMBOLS.get(type(op), type(op).__name__))


def parse_formula(text: str) -> Expression:
    """Parse a formula ``f(x)`` safely; raise :class:`ExpressionError` if it is not allowed.

    Allowed: the variable ``x``, numbers, ``+ - * / **``, unary ``-`` and ``+``, parentheses,
    the one-argument functions in :data:`FORMULA_FUNCTIONS` and the constants ``pi`` and
    ``e``. The returned :class:`Expression` maps a tensor ``x`` to ``f(x)``; an integer
    ``x`` is converted to the default float dtype first. Values may be ``nan`` or ``inf``
    where ``f`` is undefined; use :func:`evaluate_formula_on` to refuse those.
    """
    body = _parse_tree(text, "formula", _FORMULA_ALLOWED)
    fn = _FormulaCompiler(text).build(body, 1)

    def evaluate(values: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(values)
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        out = fn(x, [])
        if out.shape != x.shape:
            out = out.expand(x.shape).clone()
        return out

    return Expression(text, "formula", evaluate)


def evaluate_formula_on(expr: Expression, x: torch.Tensor) -> torch.Tensor:
    """Return ``expr(x)``, or raise :class:`ExpressionError` if any value is not finite.

    The message names the first ``x`` (in order) where the formula is ``nan`` or ``inf``.
    """
    x = torch.as_tensor(x)
    y = expr(x)
    if torch.is_complex(y):  # not reachable with the whitelist; kept as a guard
        raise ExpressionError(
            f"formula {_short(expr.text)} gives complex values; use a real formula"
        )
    finite = torch.isfinite(y)
    if not bool(finite.all()):
        index = int(torch.nonzero(~finite.reshape(-1))[0, 0])
        x_bad = float(x.reshape(-1)[index]) if x.numel() == y.numel() else float("nan")
        y_bad = float(y.reshape(-1)[index])
        count = int((~finite).sum())
        raise ExpressionError(
            f"formula {_short(expr.text)} is not finite at x = {x_bad:.6g} (value {y_bad}; "
            f"{count} of {y.numel()} points); choose an x range where it is defined and finite"
        )
    return y


# --------------------------------------------------------------------------- rules

_INT = "integer"
_BOOL = "condition"


class _RuleCompiler:
    """Walks a rule AST against the whitelist and builds int64 / bool closures."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, node: ast.AST, reason: str | None = None) -> ExpressionError:
        why = reason or f"{_describe(node)} is not allowed"
        return ExpressionError(f"rule {_short(self.text)}: {why}; {_RULE_ALLOWED}")

    def expect(self, node: ast.AST, depth: int, kind: str) -> _Fn:
        fn, got = self.build(node, depth)
        if got != kind:
            source = _describe(node)
            if kind == _INT:
                raise self.fail(node, f"{source} is a condition where a number is needed")
            raise self.fail(node, f"{source} is a number where a condition is needed")
        return fn

    def build(self, node: ast.AST, depth: int) -> tuple[_Fn, str]:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"it is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return _bool_constant(value), _BOOL
            if not isinstance(value, int):
                raise self.fail(node, f"the constant {value!r} is not an integer")
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise self.fail(node, f"the integer {value} does not fit in 64 bits")
            return _int_constant(value), _INT
        if isinstance(node, ast.Name):
            if node.id == "n":
                return (lambda n, bad: n), _INT
            if node.id in RULE_FUNCTIONS:
                raise self.fail(node, f"the function {node.id} must be called, e.g. {node.id}(n)")
            raise self.fail(node, f"the name {node.id!r} is not allowed")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                operand = self.expect(node.operand, depth + 1, _BOOL)
                return (lambda n, bad: torch.logical_not(operand(n, bad))), _BOOL
            if isinstance(node.op, ast.USub | ast.UAdd):
                operand = self.expect(node.operand, depth + 1, _INT)
                if isinstance(node.op, ast.UAdd):
                    return operand, _INT
                return (lambda n, bad: torch.neg(operand(n, bad))), _INT
            raise self.fail(node, f"the operator {_op_symbol(node.op)} is not allowed")
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth), _INT
        if isinstance(node, ast.Compare):
            return self.compare(node, depth), _BOOL
        if isinstance(node, ast.BoolOp):
            parts = [self.expect(v, depth + 1, _BOOL) for v in node.values]
            combine = torch.logical_and if isinstance(node.op, ast.And) else torch.logical_or

            def boolop(n: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
                out = parts[0](n, bad)
                for part in parts[1:]:
                    out = combine(out, part(n, bad))
                return out

            return boolop, _BOOL
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in RULE_FUNCTIONS:
                raise self.fail(node, f"calling {_describe(node.func)} is not allowed")
            name = node.func.id
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise self.fail(node, f"{name}() takes exactly one plain argument")
            func = RULE_FUNCTIONS[name]
            arg = self.expect(node.args[0], depth + 1, _INT)
            return (lambda n, bad: func(arg(n, bad))), _INT
        raise self.fail(node)

    def binop(self, node: ast.BinOp, depth: int) -> _Fn:
        op = node.op
        if not isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.FloorDiv | ast.Mod | ast.Pow):
            if isinstance(op, ast.Div):
                raise self.fail(node, "'/' is not allowed in a rule (use // for whole division)")
            raise self.fail(node, f"the operator {_op_symbol(op)} is not allowed")
        left = self.expect(node.left, depth + 1, _INT)
        if isinstance(op, ast.Pow):
            exponent = _literal_int(node.right)
            if exponent is None or not 0 <= exponent <= MAX_RULE_EXPONENT:
                raise self.fail(
                    node,
                    f"the exponent in {_describe(node)} must be a literal integer from 0 to "
                    f"{MAX_RULE_EXPONENT}",
                )
            return lambda n, bad: torch.pow(left(n, bad), exponent)
        right = self.expect(node.right, depth + 1, _INT)
        if isinstance(op, ast.Add):
            return lambda n, bad: torch.add(left(n, bad), right(n, bad))
        if isinstance(op, ast.Sub):
            return lambda n, bad: torch.sub(left(n, bad), right(n, bad))
        if isinstance(op, ast.Mult):
            return lambda n, bad: torch.mul(left(n, bad), right(n, bad))
        divisor = _literal_int(node.right)
        if divisor == 0:
            raise self.fail(node, f"{_describe(node)} divides by zero")
        func = torch.floor_divide if isinstance(op, ast.FloorDiv) else torch.remainder

        def divide(n: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
            a = left(n, bad)
            b = right(n, bad)
            zero = b == 0
            if bool(zero.any()):
                bad.append(zero)
                b = torch.where(zero, torch.ones_like(b), b)
            return func(a, b)

        return divide

    def compare(self, node: ast.Compare, depth: int) -> _Fn:
        funcs = {
            ast.Eq: torch.eq,
            ast.NotEq: torch.ne,
            ast.Lt: torch.lt,
            ast.LtE: torch.le,
            ast.Gt: torch.gt,
            ast.GtE: torch.ge,
        }
        ops = []
        for op in node.ops:
            func = funcs.get(type(op))
            if func is None:
                raise self.fail(node, f"the comparison {_op_symbol(op)} is not allowed")
            ops.append(func)
        # Numbers compare with any operator; conditions only with == and != to each other.
        first, kind = self.build(node.left, depth + 1)
        if kind == _BOOL and not all(f in (torch.eq, torch.ne) for f in ops):
            raise self.fail(node, "conditions can only be compared with == or !=")
        operands = [first] + [self.expect(c, depth + 1, kind) for c in node.comparators]

        def compare(n: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
            values = [operand(n, bad) for operand in operands]
            out = ops[0](values[0], values[1])
            for i in range(1, len(ops)):
                out = torch.logical_and(out, ops[i](values[i], values[i + 1]))
            return out

        return compare


def _literal_int(node: ast.AST) -> int | None:
    """The value of an integer literal, possibly signed (``3``, ``-3``), else ``None``."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _int_constant(value: int) -> _Fn:
    def fn(n: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
        return torch.tensor(value, dtype=torch.int64, device=n.device)

    return fn


def _bool_constant(value: bool) -> _Fn:
    def fn(n: torch.Tensor, bad: list[torch.Tensor]) -> torch.Tensor:
        return torch.tensor(value, dtype=torch.bool, device=n.device)

    return fn


def parse_rule(text: str) -> Expression:
    """Parse a condition on the integer ``n`` safely; raise :class:`ExpressionError` if not allowed.

    Allowed: ``n``, integer literals, ``+ - * // % **`` (exponent a literal integer 0..63),
    unary ``-``/``+``, ``abs(...)``, comparisons ``== != < <= > >=`` (chained ones too),
    ``and``/``or``/``not``, ``True``/``False`` and parentheses. The whole rule must be a
    condition (``n % 3 == 1``), not a number (``n % 3``). A literal zero divisor is refused;
    elements where a computed divisor is zero make the rule ``False`` there. The returned
    :class:`Expression` maps an integer tensor ``n`` to a bool tensor of the same shape.
    """
    body = _parse_tree(text, "rule", _RULE_ALLOWED)
    compiler = _RuleCompiler(text)
    fn, kind = compiler.build(body, 1)
    if kind != _BOOL:
        raise ExpressionError(
            f"rule {_short(text)} is a number, but a rule must be a condition, e.g. n % 3 == 1"
        )

    def evaluate(values: torch.Tensor) -> torch.Tensor:
        n = torch.as_tensor(values)
        if n.is_floating_point():
            if not bool((n == torch.round(n)).all()):
                raise ExpressionError(f"rule {_short(text)} needs whole numbers for n")
            n = n.to(torch.int64)
        elif n.dtype != torch.int64:
            n = n.to(torch.int64)
        bad: list[torch.Tensor] = []
        out = fn(n, bad)
        if out.shape != n.shape:
            out = out.expand(n.shape).clone()
        for mask in bad:
            out = out & ~mask.expand(n.shape)
        return out

    return Expression(text, "rule", evaluate)
