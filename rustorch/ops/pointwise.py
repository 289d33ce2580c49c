"""Elementwise ops: arithmetic with broadcasting, unary math, comparisons, where, casts.

Each op: check (dtypes, broadcastable shapes) -> one kernel call -> a backward node when an
input requires grad. Type promotion follows torch for our three dtypes: float32 wins over int64,
int64 over bool; a Python float promotes an integer tensor to float32, a Python int promotes a
bool tensor to int64.
"""

import math
import numbers

import numpy as np

from rustorch._kernels._dispatch import elementwise as _ew
from rustorch.errors import AutogradError, DTypeError, ShapeError
from rustorch.ops._common import (
    BOOL,
    F32,
    I64,
    Tensor,
    _empty,
    _wrap,
    desc,
    descs,
    grad_on,
    record,
)

# op codes, mirrored from rt_elementwise.h
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM = 0, 1, 2, 3, 4, 5, 6
RELU_BWD, SIGMOID_BWD, TANH_BWD, SIGN_MUL, REM, FLOORDIV = 7, 8, 9, 12, 14, 15
EQ, NE, LT, LE, GT, GE = 0, 1, 2, 3, 4, 5
U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_TANH, U_SIGMOID, U_RELU, U_CLAMP = range(9)
U_POW, U_RPOW, U_COPY, U_SCALE, U_FILL, U_SIGN, U_RECIP, U_SIN, U_COS = range(9, 18)
U_LOG1P, U_EXPM1, U_LOG2, U_LOG10, U_FLOOR, U_CEIL, U_ROUND, U_TRUNC, U_FRAC = range(18, 27)
U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ERF, U_SOFTPLUS = range(27, 35)
SOFTPLUS_BWD = 16
ISNAN, ISINF, ISFINITE = 0, 1, 2  # elementwise.classify

_bshape = _ew.broadcast_shape
_binary = _ew.binary
_binary_new = _ew.binary_new
_unary = _ew.unary
_np_array = np.array


def cast_arr(arr, npdt):
    if arr.dtype is npdt:
        return arr
    out = _empty(arr.shape, npdt)
    _ew.cast(arr, out)
    return out


def _scalar(s, op):
    """A Python/numpy number -> (value, kind) with kind 0 bool, 1 int, 2 float."""
    if isinstance(s, bool) or isinstance(s, np.bool_):
        return bool(s), 0
    if isinstance(s, numbers.Integral):
        return int(s), 1
    if isinstance(s, numbers.Real):
        return float(s), 2
    if isinstance(s, np.ndarray):
        return s, 3
    raise DTypeError(f"{op}(): unsupported operand of type {type(s).__name__}: {s!r}")


def _scalar_arr(val, npdt):
    try:
        with np.errstate(over="ignore"):  # a float beyond float32 becomes inf, like torch
            return _np_array(val, dtype=npdt)
    except OverflowError:
        raise DTypeError(f"value {val!r} cannot be converted to {npdt}") from None


def i64(val, op):
    """int(val), raising DTypeError when it does not fit int64 (like torch)."""
    v = int(val)
    if not -(2**63) <= v < 2**63:
        raise DTypeError(f"{op}(): value {val!r} cannot be converted to int64 without overflow")
    return v


def operands(a, b, op):
    """Two numpy arrays of one promoted dtype for a binary op on Tensors and/or numbers."""
    if type(a) is Tensor:
        ad = a._data
        if type(b) is Tensor:
            bd = b._data
            if ad.dtype is bd.dtype:
                return ad, bd
            rd = F32 if (ad.dtype is F32 or bd.dtype is F32) else I64
            return cast_arr(ad, rd), cast_arr(bd, rd)
        return _with_scalar(ad, b, op, False)
    if type(b) is Tensor:
        bd, ad = _with_scalar(b._data, a, op, True)
        return ad, bd
    raise DTypeError(f"{op}(): expected at least one Tensor operand, got {descs(a, b)}")


def _with_scalar(td, s, op, swapped):
    val, kind = _scalar(s, op)
    if kind == 3:
        from rustorch._creation import tensor

        sd = tensor(val)._data
        if sd.dtype is not td.dtype:
            rd = F32 if (sd.dtype is F32 or td.dtype is F32) else I64
            td, sd = cast_arr(td, rd), cast_arr(sd, rd)
        return (sd, td) if swapped else (td, sd)
    dt = td.dtype
    if kind == 2 and dt is not F32:
        td = cast_arr(td, F32)
        dt = F32
    elif kind == 1 and dt is BOOL:
        td = cast_arr(td, I64)
        dt = I64
    sd = _scalar_arr(val, dt)
    return td, sd


def out_shape(sa, sb, op, a, b):
    if sa == sb:
        return sa
    s = _bshape(sa, sb)
    if s is None:
        raise ShapeError(_mismatch(sa, sb, op, a, b))
    return s


def _mismatch(sa, sb, op, a, b):
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return (
                f"{op}(): The size of tensor a ({pa[i]}) must match the size of tensor b "
                f"({pb[i]}) at non-singleton dimension {i}"
                f"; inputs: {descs(a, b)}"
            )
    return f"{op}(): shapes {tuple(sa)} and {tuple(sb)} are not broadcastable"


def _rg(x):
    return type(x) is Tensor and x._rg


def _shape_of(x):
    return x._data.shape if type(x) is Tensor else ()


def _bin(code, a, b, op):
    ad, bd = operands(a, b, op)
    out = _binary_new(code, ad, bd)
    if out is None:
        raise ShapeError(_mismatch(ad.shape, bd.shape, op, a, b))
    return out


def _unb(g, shape):
    if g._data.shape == shape:
        return g
    from rustorch.ops.reduction import sum_to_shape

    return sum_to_shape(g, shape)


# ---- arithmetic -------------------------------------------------------------------------------
def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    r = _wrap(_bin(ADD, input, other, "add"))
    na, nb = _rg(input), _rg(other)
    if (na or nb) and grad_on():
        sa, sb = _shape_of(input), _shape_of(other)

        def add_bw(g):
            return (_unb(g, sa) if na else None, _unb(g, sb) if nb else None)

        r.grad_fn = record("AddBackward0", add_bw, (input, other), saves=False)
        r._rg = True
    return r


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    ad, bd = operands(input, other, "sub")
    if ad.dtype is BOOL or _is_bool(input) or _is_bool(other):  # like torch: refused
        raise DTypeError(
            "sub(): Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    out = _empty(out_shape(ad.shape, bd.shape, "sub", input, other), ad.dtype)
    _binary(SUB, ad, bd, out)
    r = _wrap(out)
    if (_rg(input) or _rg(other)) and grad_on():
        sa, sb, na, nb = _shape_of(input), _shape_of(other), _rg(input), _rg(other)

        def sub_bw(g):
            return (_unb(g, sa) if na else None, _unb(neg(g), sb) if nb else None)

        r.grad_fn = record("SubBackward0", sub_bw, (input, other), saves=False)
        r._rg = True
    return r


def _is_bool(v):
    return (type(v) is Tensor and v._data.dtype is BOOL) or isinstance(v, (bool, np.bool_))


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other) -> Tensor:
    """input * other, with broadcasting."""
    ad, bd = operands(input, other, "mul")
    out = _binary_new(MUL, ad, bd)
    if out is None:
        raise ShapeError(_mismatch(ad.shape, bd.shape, "mul", input, other))
    r = _wrap(out)
    na, nb = _rg(input), _rg(other)
    if (na or nb) and grad_on():
        # saves the (promoted) operand arrays: d(a*b)/da = b, d(a*b)/db = a
        sa, sb = ad.shape, bd.shape

        def mul_bw(g):
            gd = g._data
            return (
                _unb(_wrap(_binary_new(MUL, gd, bd)), sa) if na else None,
                _unb(_wrap(_binary_new(MUL, gd, ad)), sb) if nb else None,
            )

        r.grad_fn = record("MulBackward0", mul_bw, (input, other))
        r._rg = True
    return r


def div(input, other, *, rounding_mode=None) -> Tensor:
    """input / other (true division: integer inputs give float32), with broadcasting."""
    ad, bd = operands(input, other, "div")
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise DTypeError(
                f"div(): rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
            )
        raise DTypeError("div(): rounding_mode is not supported by rustorch yet")
    if ad.dtype is not F32:
        ad, bd = cast_arr(ad, F32), cast_arr(bd, F32)
    out = _empty(out_shape(ad.shape, bd.shape, "div", input, other), F32)
    _binary(DIV, ad, bd, out)
    r = _wrap(out)
    if (_rg(input) or _rg(other)) and grad_on():
        sa, sb, na, nb = _shape_of(input), _shape_of(other), _rg(input), _rg(other)
        a_c = input.detach() if nb and type(input) is Tensor else input
        b_c = other.detach() if type(other) is Tensor else other

        def div_bw(g):
            ga = _unb(div(g, b_c), sa) if na else None
            gb = _unb(neg(mul(g, div(div(a_c, b_c), b_c))), sb) if nb else None
            return (ga, gb)

        r.grad_fn = record("DivBackward0", div_bw, (input, other))
        r._rg = True
    return r


true_divide = div


def _int_divmod(code, a, b, op):
    ad, bd = operands(a, b, op)
    if ad.dtype is BOOL:
        ad, bd = cast_arr(ad, I64), cast_arr(bd, I64)
    if ad.dtype is I64 and bd.size:
        z = _empty(bd.shape, BOOL)
        _ew.compare(EQ, bd, _np_array(0, dtype=I64), z)
        from rustorch.ops.reduction import _any

        if _any(z):
            raise ZeroDivisionError(f"{op}(): ZeroDivisionError (integer division by zero)")
    out = _empty(out_shape(ad.shape, bd.shape, op, a, b), ad.dtype)
    _binary(code, ad, bd, out)
    return _wrap(out)


def remainder(input, other) -> Tensor:
    """Python-style modulus (the result takes the divisor's sign), like torch.remainder."""
    r = _int_divmod(REM, input, other, "remainder")
    if (_rg(input) or _rg(other)) and grad_on():
        # d/da = 1, d/db = -floor(a / b), like torch
        sa, sb, na, nb = _shape_of(input), _shape_of(other), _rg(input), _rg(other)
        a_c = input.detach() if type(input) is Tensor else input
        b_c = other.detach() if type(other) is Tensor else other

        def rem_bw(g):
            ga = _unb(g, sa) if na else None
            gb = _unb(neg(mul(g, floor_divide(a_c, b_c))), sb) if nb else None
            return (ga, gb)

        name = "RemainderBackward1" if type(other) is Tensor else "RemainderBackward0"
        r.grad_fn = record(name, rem_bw, (input, other))
        r._rg = True
    return r


def floor_divide(input, other) -> Tensor:
    """floor(input / other), like torch.floor_divide and `//` (no gradient)."""
    return _int_divmod(FLOORDIV, input, other, "floor_divide")


def neg(input) -> Tensor:
    """-input."""
    t = _need(input, "neg")
    d = t._data
    if d.dtype is BOOL:
        raise DTypeError(
            "neg(): Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    out = _empty(d.shape, d.dtype)
    _unary(U_NEG, d, out)
    r = _wrap(out)
    if t._rg and grad_on():
        r.grad_fn = record("NegBackward0", lambda g: (neg(g),), (t,), saves=False)
        r._rg = True
    return r


negative = neg


def _need(x, op):
    if type(x) is not Tensor:
        if isinstance(x, (numbers.Number, np.ndarray, list, tuple)):
            from rustorch._creation import tensor

            return tensor(x)
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    return x


def _float_in(x, op):
    """The input's data as float32 (ints/bools promote like torch's float ops)."""
    t = _need(x, op)
    return t, cast_arr(t._data, F32)


def _unary_f(code, x, op, name, bw_kind, **kw):
    t, d = _float_in(x, op)
    if kw:
        out = _empty(d.shape, F32)
        _unary(code, d, out, **kw)
    else:
        out = _ew.unary_new(code, d)
    r = _wrap(out)
    if t._rg and grad_on():
        r.grad_fn = record(name, _UNARY_BW[bw_kind](t.detach(), r.detach()), (t,))
        r._rg = True
    return r


def _bw_exp(x, y):
    return lambda g: (mul(g, y),)


def _bw_log(x, y):
    return lambda g: (div(g, x),)


def _bw_sqrt(x, y):
    return lambda g: (div(g, mul(y, 2.0)),)


def _bw_saved(code, saved):
    def bw(g):
        out = _empty(g._data.shape, F32)
        _binary(code, g._data, saved._data, out)
        return (_wrap(out),)

    return bw


_UNARY_BW = {
    "sin": lambda x, y: lambda g: (mul(g, cos(x)),),
    "cos": lambda x, y: lambda g: (neg(mul(g, sin(x))),),
    "exp": _bw_exp,
    "log": _bw_log,
    "sqrt": _bw_sqrt,
    "abs": lambda x, y: _bw_saved(SIGN_MUL, x),
    "tanh": lambda x, y: _bw_saved(TANH_BWD, y),
    "sigmoid": lambda x, y: _bw_saved(SIGMOID_BWD, y),
    "relu": lambda x, y: _bw_saved(RELU_BWD, y),
    # the formulas of torch's derivatives.yaml
    "log1p": lambda x, y: lambda g: (div(g, add(x, 1.0)),),
    "expm1": lambda x, y: lambda g: (mul(g, add(y, 1.0)),),
    "log2": lambda x, y: lambda g: (div(g, mul(x, _LN2)),),
    "log10": lambda x, y: lambda g: (div(g, mul(x, _LN10)),),
    "tan": lambda x, y: lambda g: (mul(g, add(mul(y, y), 1.0)),),
    "asin": lambda x, y: lambda g: (mul(g, rsqrt(add(neg(mul(x, x)), 1.0))),),
    "acos": lambda x, y: lambda g: (mul(g, neg(rsqrt(add(neg(mul(x, x)), 1.0)))),),
    "atan": lambda x, y: lambda g: (div(g, add(mul(x, x), 1.0)),),
    "sinh": lambda x, y: lambda g: (mul(g, cosh(x)),),
    "cosh": lambda x, y: lambda g: (mul(g, sinh(x)),),
    "erf": lambda x, y: lambda g: (mul(mul(exp(neg(mul(x, x))), _TWO_OVER_SQRT_PI), g),),
    "frac": lambda x, y: lambda g: (g,),
    "zero": lambda x, y: _bw_zero,
}
_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _bw_zero(g):
    """Rounding ops: a zero gradient (zeros, not g * 0, so an inf or NaN g gives 0 like torch)."""
    out = _empty(g._data.shape, F32)
    if out.size:
        _unary(U_FILL, out, out, f0=0.0)
    return (_wrap(out),)


def exp(input) -> Tensor:
    """e ** input."""
    return _unary_f(U_EXP, input, "exp", "ExpBackward0", "exp")


def log(input) -> Tensor:
    """Natural logarithm (NaN below 0, -inf at 0)."""
    return _unary_f(U_LOG, input, "log", "LogBackward0", "log")


def sqrt(input) -> Tensor:
    return _unary_f(U_SQRT, input, "sqrt", "SqrtBackward0", "sqrt")


def tanh(input) -> Tensor:
    return _unary_f(U_TANH, input, "tanh", "TanhBackward0", "tanh")


def sigmoid(input) -> Tensor:
    return _unary_f(U_SIGMOID, input, "sigmoid", "SigmoidBackward0", "sigmoid")


def sin(input) -> Tensor:
    return _unary_f(U_SIN, input, "sin", "SinBackward0", "sin")


def cos(input) -> Tensor:
    return _unary_f(U_COS, input, "cos", "CosBackward0", "cos")


def log1p(input) -> Tensor:
    """log(1 + input), accurate for small |input|."""
    return _unary_f(U_LOG1P, input, "log1p", "Log1PBackward0", "log1p")


def expm1(input) -> Tensor:
    """exp(input) - 1, accurate for small |input|."""
    return _unary_f(U_EXPM1, input, "expm1", "Expm1Backward0", "expm1")


def log2(input) -> Tensor:
    return _unary_f(U_LOG2, input, "log2", "Log2Backward0", "log2")


def log10(input) -> Tensor:
    return _unary_f(U_LOG10, input, "log10", "Log10Backward0", "log10")


def tan(input) -> Tensor:
    return _unary_f(U_TAN, input, "tan", "TanBackward0", "tan")


def asin(input) -> Tensor:
    return _unary_f(U_ASIN, input, "asin", "AsinBackward0", "asin")


def acos(input) -> Tensor:
    return _unary_f(U_ACOS, input, "acos", "AcosBackward0", "acos")


def atan(input) -> Tensor:
    return _unary_f(U_ATAN, input, "atan", "AtanBackward0", "atan")


def sinh(input) -> Tensor:
    return _unary_f(U_SINH, input, "sinh", "SinhBackward0", "sinh")


def cosh(input) -> Tensor:
    return _unary_f(U_COSH, input, "cosh", "CoshBackward0", "cosh")


def erf(input) -> Tensor:
    """The error function; gradient 2 / sqrt(pi) * exp(-input ** 2)."""
    return _unary_f(U_ERF, input, "erf", "ErfBackward0", "erf")


def _rounding(code, x, op, name):
    """floor/ceil/round/trunc: int64 input comes back unchanged (a copy), bool is refused."""
    t = _need(x, op)
    d = t._data
    if d.dtype is I64:
        out = _empty(d.shape, I64)
        _unary(U_COPY, d, out)
        return _wrap(out)
    if d.dtype is BOOL:
        raise DTypeError(f"{op}(): \"{op}\" not implemented for 'Bool', got {desc(t)}")
    return _unary_f(code, t, op, name, "zero")


def floor(input) -> Tensor:
    """Largest integer <= input (zero gradient)."""
    return _rounding(U_FLOOR, input, "floor", "FloorBackward0")


def ceil(input) -> Tensor:
    """Smallest integer >= input (zero gradient)."""
    return _rounding(U_CEIL, input, "ceil", "CeilBackward0")


def trunc(input) -> Tensor:
    """input rounded towards zero (zero gradient)."""
    return _rounding(U_TRUNC, input, "trunc", "TruncBackward0")


def round(input, *, decimals=None) -> Tensor:
    """Nearest integer, halfway cases to even like torch (zero gradient); decimals=0 only.

    As in torch, an int64 input is returned unchanged, but passing ``decimals`` with an integer
    input is refused (torch's round.decimals has no integer kernel)."""
    if decimals is not None:
        t = _need(input, "round")
        if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
            raise DTypeError(
                f"round(): argument 'decimals' must be int, not {type(decimals).__name__}"
            )
        if decimals != 0:
            raise DTypeError(
                f"round(): only decimals=0 is supported by rustorch, got decimals={decimals} "
                f"for {desc(t)}"
            )
        if t._data.dtype is not F32:
            raise DTypeError(
                f'round(): "round" with decimals not implemented for {desc(t)} (like torch)'
            )
    return _rounding(U_ROUND, input, "round", "RoundBackward0")


def frac(input) -> Tensor:
    """input - trunc(input), with the sign of input; float32 only like torch (gradient g)."""
    t = _need(input, "frac")
    if t._data.dtype is not F32:
        raise DTypeError(f'frac(): "frac_cpu" not implemented for {desc(t)}')
    return _unary_f(U_FRAC, t, "frac", "FracBackward0", "frac")


def _classify(code, x, op, ints):
    """isnan/isinf/isfinite: bool result, no autograd; int64/bool input is all `ints`."""
    t = _need(x, op)
    d = t._data
    if d.dtype is not F32:
        return _wrap(np.ones(d.shape, BOOL) if ints else np.zeros(d.shape, BOOL))  # allocation
    out = _empty(d.shape, BOOL)
    _ew.classify(code, d, out)
    return _wrap(out)


def isnan(input) -> Tensor:
    return _classify(ISNAN, input, "isnan", False)


def isinf(input) -> Tensor:
    return _classify(ISINF, input, "isinf", False)


def isfinite(input) -> Tensor:
    return _classify(ISFINITE, input, "isfinite", True)


def abs(input) -> Tensor:
    t = _need(input, "abs")
    d = t._data
    if d.dtype is I64:
        out = _empty(d.shape, I64)
        _unary(U_ABS, d, out)
        return _wrap(out)
    if d.dtype is BOOL:
        raise DTypeError(f"abs(): not implemented for bool tensors, got {desc(t)}")
    return _unary_f(U_ABS, t, "abs", "AbsBackward0", "abs")


absolute = abs


def relu(input) -> Tensor:
    """max(input, 0); NaN stays NaN like torch."""
    t = _need(input, "relu")
    d = t._data
    if d.dtype is I64:
        out = _empty(d.shape, I64)
        _unary(U_RELU, d, out)
        return _wrap(out)
    if d.dtype is BOOL:
        raise DTypeError(f"relu(): not implemented for bool tensors, got {desc(t)}")
    return _unary_f(U_RELU, t, "relu", "ReluBackward0", "relu")


def sign(input):
    t = _need(input, "sign")
    d = t._data
    if d.dtype is BOOL:
        return _wrap(d.copy())
    out = _empty(d.shape, d.dtype)
    _unary(U_SIGN, d, out)
    return _wrap(out)


def square(input):
    return pow(input, 2)


def reciprocal(input):
    return div(1.0, input)


def rsqrt(input):
    return reciprocal(sqrt(input))


def pow(input, exponent) -> Tensor:
    """input ** exponent; either may be a number (torch's fast paths for 2, 0.5, -1 ...)."""
    if type(input) is Tensor and type(exponent) is not Tensor:
        val, kind = _scalar(exponent, "pow")
        if kind == 3:
            from rustorch._creation import tensor

            return pow(input, tensor(val))
        return _pow_scalar(input, val, kind)
    if type(input) is not Tensor and type(exponent) is Tensor:
        val, kind = _scalar(input, "pow")
        if kind == 3 or (kind < 2 and exponent._data.dtype is not F32):
            # an int/bool base with an integer exponent tensor stays integer, like torch
            from rustorch._creation import tensor

            return pow(tensor(val), exponent)
        return _rpow_scalar(val, exponent)
    ad, bd = operands(input, exponent, "pow")
    if ad.dtype is BOOL:
        ad, bd = cast_arr(ad, I64), cast_arr(bd, I64)
    if ad.dtype is I64 and bd.size and _has_negative(bd):
        raise DTypeError("pow(): Integers to negative integer powers are not allowed.")
    out = _empty(out_shape(ad.shape, bd.shape, "pow", input, exponent), ad.dtype)
    _binary(POW, ad, bd, out)
    r = _wrap(out)
    if (_rg(input) or _rg(exponent)) and grad_on():
        sa, sb, na, nb = _shape_of(input), _shape_of(exponent), _rg(input), _rg(exponent)
        a_c, b_c, y = input.detach(), exponent.detach(), r.detach()

        def pow_bw(g):
            ga = gb = None
            if na:
                t = mul(b_c, pow(a_c, sub(b_c, 1.0)))
                t = where(eq(b_c, 0.0), 0.0, t)
                ga = _unb(mul(g, t), sa)
            if nb:
                t = mul(y, log(a_c))
                t = where(logical_and(eq(a_c, 0.0), ge(b_c, 0.0)), 0.0, t)
                gb = _unb(mul(g, t), sb)
            return (ga, gb)

        r.grad_fn = record("PowBackward1", pow_bw, (input, exponent))
        r._rg = True
    return r


def _has_negative(arr):
    m = _empty(arr.shape, BOOL)
    _ew.compare(LT, arr, _np_array(0, dtype=arr.dtype), m)
    from rustorch.ops.reduction import _any

    return _any(m)


def _pow_scalar(t, p, kind):
    d = t._data
    if d.dtype is not F32 and kind != 2:
        if p < 0:
            raise DTypeError("pow(): Integers to negative integer powers are not allowed.")
        was_bool = d.dtype is BOOL
        d = cast_arr(d, I64)
        out = _empty(d.shape, I64)
        _unary(U_POW, d, out, i0=i64(p, "pow"))
        if was_bool and kind == 0:  # bool ** bool stays bool, like torch
            out = cast_arr(out, BOOL)
        return _wrap(out)
    d = cast_arr(d, F32)
    out = _empty(d.shape, F32)
    _unary(U_POW, d, out, f0=float(p))
    r = _wrap(out)
    if t._rg and grad_on():
        x = t.detach()
        p = float(p)

        def pow_bw(g):
            if p == 0.0:
                return (mul(g, 0.0),)
            return (mul(g, mul(pow(x, p - 1.0), p)),)

        r.grad_fn = record("PowBackward0", pow_bw, (t,))
        r._rg = True
    return r


def _rpow_scalar(s, t):
    d = cast_arr(t._data, F32)
    out = _empty(d.shape, F32)
    _unary(U_RPOW, d, out, f0=float(s))
    r = _wrap(out)
    if t._rg and grad_on():
        y = r.detach()
        ls = math.log(s) if s > 0 else (-math.inf if s == 0 else math.nan)  # a scalar constant

        def rpow_bw(g):
            if s == 0:
                return (mul(g, where(ge(t.detach(), 0.0), 0.0, mul(y, ls))),)
            return (mul(g, mul(y, ls)),)

        r.grad_fn = record("PowBackward2", rpow_bw, (t,))
        r._rg = True
    return r


def maximum(input, other) -> Tensor:
    """Elementwise max; NaN propagates; tied gradients are split in half like torch."""
    return _extreme(MAXIMUM, input, other, "maximum", "MaximumBackward0")


def minimum(input, other) -> Tensor:
    """Elementwise min; NaN propagates; tied gradients are split in half like torch."""
    return _extreme(MINIMUM, input, other, "minimum", "MinimumBackward0")


def _extreme(code, a, b, op, name):
    if type(a) is not Tensor or type(b) is not Tensor:
        raise DTypeError(f"{op}(): expected two Tensors, got {descs(a, b)}")
    r = _wrap(_bin(code, a, b, op))
    if (a._rg or b._rg) and grad_on():
        sa, sb, na, nb = a.shape, b.shape, a._rg, b._rg
        ac, bc = a.detach(), b.detach()
        a_loses, b_loses = (LT, GT) if code == MAXIMUM else (GT, LT)

        def ext_bw(g):
            half = where(eq(ac, bc), div(g, 2.0), g)
            ga = _unb(where(_cmp(a_loses, ac, bc, op), 0.0, half), sa) if na else None
            gb = _unb(where(_cmp(b_loses, ac, bc, op), 0.0, half), sb) if nb else None
            return (ga, gb)

        r.grad_fn = record(name, ext_bw, (a, b))
        r._rg = True
    return r


def clamp(input, min=None, max=None) -> Tensor:
    """Limit input to [min, max]; NaN stays NaN; min > max gives max everywhere like torch."""
    t = _need(input, "clamp")
    if min is None and max is None:
        raise DTypeError("clamp(): At least one of 'min' or 'max' must not be None")
    if type(min) is Tensor or type(max) is Tensor:
        r = t
        if min is not None:
            r = maximum(r, min if type(min) is Tensor else _full_like(t, min))
        if max is not None:
            r = minimum(r, max if type(max) is Tensor else _full_like(t, max))
        return r
    d = t._data
    if d.dtype is BOOL:
        raise DTypeError(f"clamp(): not implemented for bool tensors, got {desc(t)}")
    floaty = isinstance(min, float) or isinstance(max, float)
    if d.dtype is I64 and not floaty:
        out = _empty(d.shape, I64)
        _unary(
            U_CLAMP,
            d,
            out,
            f0=float(min is not None),
            f1=float(max is not None),
            i0=i64(min, "clamp") if min is not None else 0,
            i1=i64(max, "clamp") if max is not None else 0,
        )
        return _wrap(out)
    d = cast_arr(d, F32)
    lo = float(min) if min is not None else float("-inf")
    hi = float(max) if max is not None else float("inf")
    out = _empty(d.shape, F32)
    _unary(U_CLAMP, d, out, f0=lo, f1=hi, i0=int(min is not None), i1=int(max is not None))
    r = _wrap(out)
    if t._rg and grad_on():
        x = t.detach()

        def clamp_bw(g):
            m = None
            if min is not None:
                m = ge(x, lo)
            if max is not None:
                m2 = le(x, hi)
                m = m2 if m is None else logical_and(m, m2)
            return (where(m, g, 0.0),)

        r.grad_fn = record("ClampBackward1", clamp_bw, (t,))
        r._rg = True
    return r


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def _full_like(t, v):
    from rustorch._creation import full

    return full(t.shape, v)


# ---- comparisons and logic --------------------------------------------------------------------
def _cmp(code, a, b, op):
    ad, bd = operands(a, b, op)
    out = _ew.compare_new(code, ad, bd)
    if out is None:
        raise ShapeError(_mismatch(ad.shape, bd.shape, op, a, b))
    return _wrap(out)


def eq(input, other) -> Tensor:
    return _cmp(EQ, input, other, "eq")


def ne(input, other) -> Tensor:
    return _cmp(NE, input, other, "ne")


def lt(input, other) -> Tensor:
    return _cmp(LT, input, other, "lt")


def le(input, other) -> Tensor:
    return _cmp(LE, input, other, "le")


def gt(input, other) -> Tensor:
    return _cmp(GT, input, other, "gt")


def ge(input, other) -> Tensor:
    return _cmp(GE, input, other, "ge")


less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    if input.shape != other.shape:
        return False
    from rustorch.ops.reduction import _all

    return _all(eq(input, other)._data)


def logical_not(input) -> Tensor:
    t = _need(input, "logical_not")
    d = cast_arr(t._data, BOOL)
    out = _empty(d.shape, BOOL)
    _ew.logical_not(d, out)
    return _wrap(out)


def logical_and(input, other) -> Tensor:
    return _logic(MUL, input, other, "logical_and")


def logical_or(input, other) -> Tensor:
    return _logic(ADD, input, other, "logical_or")


def _logic(code, a, b, op):
    ad, bd = operands(a, b, op)
    ad, bd = cast_arr(ad, BOOL), cast_arr(bd, BOOL)
    out = _empty(out_shape(ad.shape, bd.shape, op, a, b), BOOL)
    _binary(code, ad, bd, out)
    return _wrap(out)


def bitwise_not(input):
    t = _need(input, "bitwise_not")
    if t._data.dtype is not BOOL:
        raise DTypeError(f"bitwise_not(): only bool tensors are supported, got {desc(t)}")
    return logical_not(t)


def where(condition, input, other) -> Tensor:
    """condition ? input : other, all three broadcast together.

    The gradient flows to the side each element was taken from."""
    if type(condition) is not Tensor or condition._data.dtype is not BOOL:
        raise DTypeError(f"where(): expected condition to be a bool tensor, got {desc(condition)}")
    ad, bd = operands(input, other, "where")
    cd = condition._data
    s = out_shape(ad.shape, bd.shape, "where", input, other)
    s = out_shape(s, cd.shape, "where", condition, input)
    out = _empty(s, ad.dtype)
    _ew.where(cd, ad, bd, out)
    r = _wrap(out)
    if (_rg(input) or _rg(other)) and grad_on():
        sa, sb, na, nb = _shape_of(input), _shape_of(other), _rg(input), _rg(other)
        c = condition.detach()

        def where_bw(g):
            ga = _unb(where(c, g, 0.0), sa) if na else None
            gb = _unb(where(c, 0.0, g), sb) if nb else None
            return (ga, gb)

        r.grad_fn = record("WhereBackward0", where_bw, (input, other))
        r._rg = True
    return r


# ---- in-place (no autograd; allowed under no_grad or on tensors that do not require grad) ----
def _inplace(code, self, other, op):
    if self._rg and grad_on():
        raise AutogradError(
            f"{op}(): a leaf Variable that requires grad is being used in an in-place operation "
            "(rustorch does not record in-place ops: wrap the update in rustorch.no_grad())"
            if self.grad_fn is None
            else f"{op}(): in-place ops on tensors that are part of a graph are not supported"
        )
    sd = self._data
    ad, bd = operands(self, other, op)
    if ad.dtype is not sd.dtype:
        raise DTypeError(
            f"{op}(): result type {_name(ad.dtype)} can't be cast to the desired output type "
            f"{_name(sd.dtype)}"
        )
    s = out_shape(ad.shape, bd.shape, op, self, other)
    if s != sd.shape:
        raise ShapeError(
            f"{op}(): output with shape {sd.shape} doesn't match the broadcast shape {s}"
        )
    _binary(code, sd, bd, sd)
    return self


def _name(npdt):
    return {F32: "Float", I64: "Long", BOOL: "Bool"}[npdt]


def add_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _inplace(ADD, self, other, "add_")


def sub_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _inplace(SUB, self, other, "sub_")


def mul_(self, other):
    return _inplace(MUL, self, other, "mul_")


def div_(self, other):
    if self._data.dtype is not F32:
        raise DTypeError(f"div_(): result type Float can't be cast to {_name(self._data.dtype)}")
    return _inplace(DIV, self, other, "div_")


def fill_(self, value):
    if self._rg and grad_on():
        raise AutogradError(
            "fill_(): a leaf Variable that requires grad is being used in an in-place operation"
        )
    d = self._data
    if d.dtype is BOOL:
        d.view(np.uint8).fill(bool(value))  # storage init, not math
    elif d.size:
        _unary(U_FILL, d, d, f0=float(value), i0=i64(value, "fill_") if d.dtype is I64 else 0)
    return self


def zero_(self):
    return fill_(self, 0)


def copy_(self, src):
    """Copy src (broadcast to self's shape, cast to self's dtype) into self's storage."""
    if self._rg and grad_on():
        raise AutogradError(
            "copy_(): a leaf Variable that requires grad is being used in an in-place operation"
        )
    src = _need(src, "copy_")
    sd = cast_arr(src._data, self._data.dtype)
    s = out_shape(self._data.shape, sd.shape, "copy_", self, src)
    if s != self._data.shape:
        raise ShapeError(f"copy_(): cannot broadcast {desc(src)} to {desc(self)}")
    from rustorch.ops.shape import expand_arr

    e = expand_arr(sd, self._data.shape)
    self._data.reshape(-1)[:] = e.reshape(-1)  # a plain memory copy, no math
    return self


def clamp_(self, min=None, max=None):
    r = clamp(self.detach(), min, max)
    return copy_(self, r)


# ---- casts ------------------------------------------------------------------------------------
def to_dtype(t, dt):
    npdt = dt.np
    if t._data.dtype is npdt:
        return t
    return _wrap(cast_arr(t._data, npdt))


# ---- masked_fill, isclose / allclose, outer -------------------------------------------------
def _fill_value(value, npdt, op, input):
    """value (a number or a 0-d tensor) as a 0-d Tensor of dtype npdt (cast like torch)."""
    if type(value) is Tensor:
        if value._data.ndim != 0:
            raise ShapeError(
                f"{op}(): only supports a 0-dimensional value tensor, but got {desc(value)} "
                f"(input {desc(input)})"
            )
        if value._data.dtype is npdt:
            return value
        if npdt is I64 and value._data.dtype is F32:
            return _wrap(_np_array(_to_i64(float(value._data), op), dtype=I64))
        return _wrap(cast_arr(value._data, npdt))
    if isinstance(value, str) or not isinstance(value, (numbers.Real, np.bool_)):
        raise DTypeError(
            f"{op}(): value must be a number or a 0-d Tensor, not {type(value).__name__} "
            f"(input {desc(input)})"
        )
    if npdt is BOOL:
        return _wrap(_np_array(bool(value), dtype=BOOL))
    if npdt is I64:
        return _wrap(_np_array(_to_i64(value, op), dtype=I64))
    return _wrap(_scalar_arr(float(value), F32))


def _to_i64(value, op):
    if isinstance(value, float) and not math.isfinite(value):
        raise DTypeError(
            f"{op}(): value {value!r} cannot be converted to type int64 without overflow"
        )
    return i64(int(value), op)  # a float truncates toward zero, like torch


def _need_mask(mask, op, input):
    if type(mask) is not Tensor or mask._data.dtype is not BOOL:
        raise DTypeError(
            f"{op}(): only supports boolean masks, but got mask {desc(mask)} (input {desc(input)})"
        )


def masked_fill(input, mask, value) -> Tensor:
    """input with value where mask (bool, broadcast with input) is True.

    The gradient of input is 0 where it was filled; a 0-d value tensor gets the sum of the rest."""
    if type(input) is not Tensor:
        raise DTypeError(
            f"masked_fill(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    _need_mask(mask, "masked_fill", input)
    out_shape(input._data.shape, mask._data.shape, "masked_fill", input, mask)
    v = _fill_value(value, input._data.dtype, "masked_fill", input)
    r = where(mask, v, input)
    if r.grad_fn is not None:
        r.grad_fn._name = "MaskedFillBackward0"
    return r


def masked_fill_(self, mask, value):
    """In place: self[mask] = value (mask broadcast to self's shape); no autograd."""
    op = "masked_fill_"
    if type(self) is not Tensor:
        raise DTypeError(f"{op}(): argument 'self' must be a Tensor, not {type(self).__name__}")
    if grad_on() and (self._rg or _rg(value)):
        raise AutogradError(
            f"{op}(): a leaf Variable that requires grad is being used in an in-place operation "
            "(rustorch does not record in-place ops: wrap the update in rustorch.no_grad())"
            if self.grad_fn is None
            else f"{op}(): in-place ops on tensors that are part of a graph are not supported"
        )
    _need_mask(mask, op, self)
    sd = self._data
    s = out_shape(sd.shape, mask._data.shape, op, self, mask)
    if s != sd.shape:
        raise ShapeError(
            f"{op}(): output with shape {sd.shape} doesn't match the broadcast shape {s} "
            f"(self {desc(self)}, mask {desc(mask)})"
        )
    v = _fill_value(value, sd.dtype, op, self)
    if sd.size:
        _ew.where(mask._data, v._data, sd, sd)
    return self


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (bool; broadcasts), like torch:
    equal infinities are close, NaNs only with equal_nan=True."""
    if type(input) is not Tensor or type(other) is not Tensor:
        raise DTypeError(f"isclose(): expected two Tensors, got {descs(input, other)}")
    a, b = input._data, other._data
    if a.dtype is not b.dtype:
        raise DTypeError(
            f"isclose(): {_name(a.dtype)} did not match {_name(b.dtype)}; inputs "
            f"{descs(input, other)}"
        )
    if rtol < 0 or atol < 0:
        raise DTypeError(
            f"isclose(): rtol and atol must be greater than or equal to zero, but got "
            f"rtol={rtol}, atol={atol}"
        )
    out_shape(a.shape, b.shape, "isclose", input, other)
    x, y = input.detach(), other.detach()
    close = eq(x, y)
    if equal_nan and a.dtype is F32:
        close = logical_or(close, logical_and(ne(x, x), ne(y, y)))
    if rtol == 0 and atol == 0:
        return close
    if a.dtype is BOOL:
        x, y = to_dtype_np(x, F32), to_dtype_np(y, F32)
    allowed = add(abs(mul(y, float(rtol))), float(atol))
    actual = abs(sub(x, y))
    ok = le(actual, allowed)
    if actual._data.dtype is F32:
        ok = logical_and(ok, ne(actual, math.inf))  # NaN already fails le
    return logical_or(close, ok)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when isclose(...) holds for every element."""
    from rustorch.ops.reduction import _all

    return _all(isclose(input, other, rtol, atol, equal_nan)._data)


def outer(input, vec2) -> Tensor:
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    for t, arg in ((input, "self"), (vec2, "vec2")):
        if type(t) is not Tensor:
            raise DTypeError(f"outer(): argument '{arg}' must be a Tensor, not {type(t).__name__}")
        if t._data.ndim != 1:
            raise ShapeError(
                f"outer: Expected 1-D argument {arg}, but got {t._data.ndim}-D; inputs "
                f"{descs(input, vec2)}"
            )
    from rustorch.ops.shape import reshape

    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


# ---- new_* / type_as (Tensor methods) --------------------------------------------------------
def to_dtype_np(t, npdt):
    return t if t._data.dtype is npdt else _wrap(cast_arr(t._data, npdt))


def _new_dtype(self, dtype):
    return self.dtype if dtype is None else dtype


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """zeros(size) with self's dtype unless dtype is given."""
    from rustorch._creation import zeros

    dt = _new_dtype(self, dtype)
    return zeros(*size, dtype=dt, device=device, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    from rustorch._creation import ones

    dt = _new_dtype(self, dtype)
    return ones(*size, dtype=dt, device=device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    from rustorch._creation import empty

    dt = _new_dtype(self, dtype)
    return empty(*size, dtype=dt, device=device, requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    from rustorch._creation import full

    dt = _new_dtype(self, dtype)
    return full(size, fill_value, dtype=dt, device=device, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A copy of data (no graph) with self's dtype unless dtype is given."""
    from rustorch._creation import tensor

    dt = _new_dtype(self, dtype)
    return tensor(data, dtype=dt, device=device, requires_grad=requires_grad)


def type_as(self, other) -> Tensor:
    """self cast to other's dtype (self itself when they match)."""
    if type(other) is not Tensor:
        raise DTypeError(
            f"type_as(): argument 'other' must be a Tensor, not {type(other).__name__}"
        )
    return to_dtype(self, other.dtype)
