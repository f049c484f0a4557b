"""Elementary functions whose bits are the same on every machine.

numpy's exp, log, power and the like pick a SIMD implementation for the CPU at run time
(AVX-512, AVX2, baseline), and glibc's libm picks FMA or AVX2 variants of its own; the
variants differ in the last bit. With common random numbers one last bit can flip a draw, and two
machines' runs part ways. So every function the model needs is here, written once in plain IEEE
double arithmetic: +, -, *, / and comparisons, which are exactly rounded on every CPU. They are
compiled by numba without fastmath, so LLVM neither reassociates nor fuses a multiply and an add
into an FMA (tests/model/test_portable.py runs the golden cases with numpy, glibc and numba held to
their baseline code and gets the same digests). Integer bit tricks read and build a double's
exponent; they are exact too.

The methods are the classical ones:

- exp: reduce x = n ln2 + r with ln2 in two parts (Cody and Waite 1980), then exp(r) from a
  rational form with a degree-10 even Remez polynomial (the fdlibm method, Sun Microsystems
  1993; error below 1 ulp);
- log and log1p: x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), then log(1 + f) from
  s = f / (2 + f) and a degree-14 Remez polynomial in s (fdlibm's method again); log1p carries
  the rounding error of 1 + x as a correction;
- expm1: a Taylor polynomial of degree 14 on |r| <= ln2 / 2 after the same reduction, with the
  reduction's remainder carried;
- pow, log2: the logarithm in double-double arithmetic (Dekker 1971: error-free sums and
  products, no FMA), so that y log x keeps its low bits for exp;
- the sine and cosine of a fraction of a turn (Box-Muller normals, a map projection) from
  Taylor series on a quarter turn; erf from its series of positive terms.

Each is tested against the C library (tests/unit/test_detmath.py, by hypothesis): exp, expm1, log,
log1p, pow and log2 within 1 ulp. The array forms are numpy ufuncs built by numba: float32 in,
float32 out (computed in double and rounded once), float64 in, float64 out, as numpy's own.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

jit = numba.njit(cache=True, nogil=True, error_model="numpy")  # never fastmath: the point is IEEE arithmetic, in order
# (error_model "numpy": x / 0 is inf, as IEEE says, not a ZeroDivisionError, whose check stops loops being vectorised)
# The float32-grade functions are inlined in numba's IR: LLVM would call pow's as a function, and a
# loop with a call in it is not vectorised.
jit_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")


@intrinsic
def _bits(typingctx, x):  # type: ignore[no-untyped-def]
    """The 64 bits of a double, as an int64."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _from_bits(typingctx, b):  # type: ignore[no-untyped-def]
    """The double whose 64 bits are this int64."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


def _split(value: Fraction) -> tuple[float, float]:
    """A constant as a double-double: the nearest double, and the nearest double to the rest."""
    hi = float(value)
    return hi, float(value - Fraction(hi))


# ln 2 and 1 / ln 2 to 40 digits (more than double-double needs), as exact fractions.
_LN2 = Fraction("0.6931471805599453094172321214581765680755")
_INV_LN2 = Fraction("1.442695040888963407359924681001892137427")
LN2_DD = _split(_LN2)
INV_LN2_DD = _split(_INV_LN2)
# Cody-Waite: LN2_HI has 32 significant bits, so n * LN2_HI is exact for |n| < 2^21.
LN2_HI = 6.93147180369123816490e-01  # 0x3FE62E42FEE00000
LN2_LO = float(_LN2 - Fraction(LN2_HI))
INV_LN2 = float(_INV_LN2)
_HIGH_WORD = np.int64(-(1 << 32))  # keeps a double's sign, exponent and top 20 significand bits
# 1/ln2 to 32 bits: a 21-bit number times it is exact (fdlibm's ivln2hi, 0x3FF7154765200000).
IVLN2_HI = float(np.int64(np.float64(INV_LN2).view(np.int64) & -(1 << 21)).view(np.float64))
IVLN2_LO = float(_INV_LN2 - Fraction(IVLN2_HI))
SHIFT = 6755399441055744.0  # 1.5 * 2^52: (x + SHIFT) - SHIFT is x rounded to an integer, |x| < 2^51
SQRT2 = 1.4142135623730951
TWO52 = 4503599627370496.0  # 2^52: its bits with a small integer in the low ones are 2^52 + it
_TWO52_BITS = np.int64(0x4330000000000000)
_SHIFT_BITS = np.int64(0x4338000000000000)  # the bits of SHIFT
HALF_PI = float(Fraction("1.570796326794896619231321691639751442099"))
PI = float(Fraction("3.141592653589793238462643383279502884197"))
QUARTER_PI = float(Fraction("0.7853981633974483096156608458198757210493"))
TAN_PI_8 = float(Fraction("0.4142135623730950488016887242096980785697"))
TWO_OVER_SQRT_PI = float(Fraction("1.128379167095512573896158903121545171688"))
EXP_MAX = 709.782712893384  # exp overflows above this
EXP_MIN = -745.1332191019412  # and is zero below this
INF = float("inf")

# fdlibm's Remez coefficients: exp's R(r^2) on [0, 0.347^2], log's on s in [0, 0.1716].
P1, P2, P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
P4, P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
LG1, LG2, LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
LG4, LG5, LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
LG7 = 1.479819860511658591e-01


def _inverse_factorials(first: int, last: int) -> tuple[float, ...]:
    out, f = [], Fraction(1)
    for n in range(1, last + 1):
        f /= n
        if n >= first:
            out.append(float(f))
    return tuple(out)


# Taylor coefficients 1/n! for expm1's tail (n = 2..14) and 1/(2n+1) for atanh's (n = 2..13).
E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, E14 = _inverse_factorials(2, 14)
A5, A7, A9, A11, A13, A15, A17, A19, A21, A23, A25, A27 = (float(Fraction(1, 2 * n + 1)) for n in range(2, 14))
TWO_THIRDS_DD = _split(Fraction(2, 3))
# sin(a) / a - 1 and cos(a) - 1 as polynomials in a^2 (over a^2): (-1)^k / (2k+1)! and (-1)^k / (2k)!,
# k = 1..11.
SIN_C = tuple(float(Fraction((-1) ** k, math.factorial(2 * k + 1))) for k in range(1, 12))
ATAN_C = tuple(float(Fraction((-1) ** k, 2 * k + 1)) for k in range(1, 23))  # atan(y)/y - 1 over y^2
COS_C = tuple(float(Fraction((-1) ** k, math.factorial(2 * k))) for k in range(1, 12))
THIRD = float(Fraction(1, 3))


# ---- double-double building blocks (Dekker 1971; Knuth's two-sum) ----


@jit
def _two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@jit
def _fast_two_sum(a: float, b: float) -> tuple[float, float]:
    """a + b as (sum, error) when |a| >= |b| (or a is zero)."""
    s = a + b
    return s, b - (s - a)


@jit
def _two_prod(a: float, b: float) -> tuple[float, float]:
    """a * b as (product, error), by Veltkamp's split: no FMA (|a|, |b| < 2^995)."""
    p = a * b
    c = 134217729.0 * a  # 2^27 + 1
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@jit
def _dd_add(ah: float, al: float, bh: float, bl: float) -> tuple[float, float]:
    s, e = _two_sum(ah, bh)
    e += al + bl
    return _fast_two_sum(s, e)


# ---- exp ----


@jit
def _pow2(k: int) -> float:
    """2^k for -1022 <= k <= 1023, built from its bits."""
    return _from_bits(np.int64(k + 1023) << np.int64(52))


@jit
def _scale(y: float, k: int) -> float:
    """y * 2^k for y in (0.5, 2.1): exact unless the result is subnormal (then rounded once,
    the same everywhere)."""
    if k > 1023:
        return y * 2.0 * _pow2(k - 1)
    if k < -1021:
        return y * _pow2(k + 1000) * _pow2(-1000)
    return y * _pow2(k)


@jit_inline
def exp_dd(x: float, xlo: float) -> float:
    """exp(x + xlo), for |xlo| no larger than about ulp(x): exp of a double-double. No branches
    (special cases by selects, 2^n from bits), so that a loop of it is vectorised."""
    xc = min(max(x, EXP_MIN - 1.0), EXP_MAX + 1.0)  # keeps n's bits sane; the ends are set below
    shifted = xc * INV_LN2 + SHIFT
    n = shifted - SHIFT
    hi = xc - n * LN2_HI  # exact (Cody-Waite)
    lo = n * LN2_LO - xlo
    r = hi - lo
    r2 = r * r
    c = r - r2 * (P1 + r2 * (P2 + r2 * (P3 + r2 * (P4 + r2 * P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # y 2^n as y 2^floor(n/2) 2^ceil(n/2): the first product is exact, the second rounds only if
    # the result is subnormal (once, the same everywhere) and overflows only above EXP_MAX.
    e = (_bits(shifted) - _SHIFT_BITS) + np.int64(2046)
    h = e >> np.int64(1)
    v = y * _from_bits(h << np.int64(52)) * _from_bits((e - h) << np.int64(52))
    v = INF if x > EXP_MAX else v
    v = 0.0 if x < EXP_MIN else v
    return x if x != x else v


@jit_inline
def exp(x: float) -> float:
    """e^x, within 1 ulp."""
    return exp_dd(x, 0.0)


@jit
def _expm1_small(r: float) -> float:
    """expm1(r) - r for |r| <= ln2 / 2: Taylor to r^14 (the next term is below 2^-56 r)."""
    t = E14
    t = E13 + r * t
    t = E12 + r * t
    t = E11 + r * t
    t = E10 + r * t
    t = E9 + r * t
    t = E8 + r * t
    t = E7 + r * t
    t = E6 + r * t
    t = E5 + r * t
    t = E4 + r * t
    t = E3 + r * t
    t = E2 + r * t
    return r * r * t


@jit
def expm1(x: float) -> float:
    """e^x - 1, within 1 ulp, accurate for small x."""
    if x != x:
        return x
    if x > EXP_MAX:
        return INF
    if x < -40.0:  # e^x is below half an ulp of 1
        return -1.0
    if -0.34657359027997264 <= x <= 0.34657359027997264:
        return x + _expm1_small(x)
    n = (x * INV_LN2 + SHIFT) - SHIFT
    hi = x - n * LN2_HI
    lo = n * LN2_LO
    r = hi - lo
    c = (hi - r) - lo  # what r lost: r + c = hi - lo
    tail = _expm1_small(r)
    tail += c * (1.0 + (r + tail))  # expm1(r + c) = expm1(r) + c e^r to first order
    k = int(n)
    if k > 53:  # 2^k - 1 is no longer exact: fold the -1 in first
        one = _pow2(-k) if k < 1023 else 0.0  # 1 / 2^k (below any ulp at the top of the range)
        return _scale(1.0 + (r + (tail - one)), k)
    p = _pow2(k)
    # 2^k (1 + r + tail) - 1: 2^k - 1 is exact for -53 <= k <= 53, and so is its sum with 2^k r
    # as two parts, so only the small 2^k tail and one last addition are rounded.
    s, se = _two_sum(p - 1.0, p * r)
    return s + (se + p * tail)


# ---- log ----


@jit
def _reduce(x: float) -> tuple[int, float]:
    """x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), for finite x > 0: (k, f), f exact."""
    sub = _bits(x) < (np.int64(1) << np.int64(52))  # subnormal: scale up first
    # (a select, not a branch of its own: LLVM computes both sides, and 2^54 x of a large x would
    # raise the overflow flag)
    b = _bits(x * (18014398509481984.0 if sub else 1.0))  # 2^54
    k = int(b >> np.int64(52)) - (1023 + 54 if sub else 1023)
    m = _from_bits((b & np.int64(0xFFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000))  # in [1, 2)
    if m >= SQRT2:
        m *= 0.5
        k += 1
    return k, m - 1.0


@jit_inline
def _reduce_dk(x: float) -> tuple[float, float]:
    """`_reduce` with k as a double, made from bits (no integer conversion, no branch)."""
    sub = _bits(x) < (np.int64(1) << np.int64(52))
    b = _bits(x * (18014398509481984.0 if sub else 1.0))  # 2^54
    m = _from_bits((b & np.int64(0xFFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000))  # in [1, 2)
    big = m >= SQRT2
    m = m * 0.5 if big else m
    biased = ((b >> np.int64(52)) & np.int64(0x7FF)) + (np.int64(1) if big else np.int64(0))
    dk = (_from_bits(_TWO52_BITS | biased) - TWO52) - (1023.0 + 54.0 if sub else 1023.0)  # exactly k
    return dk, m - 1.0


@jit_inline
def _log_kernel(dk: float, f: float, c: float) -> float:
    """log(2^k (1 + f) + 2^k c) for the reduced f (k as a double) and a small correction c
    (fdlibm's formula)."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (LG2 + w * (LG4 + w * LG6))
    t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)))
    hfsq = 0.5 * f * f
    return dk * LN2_HI - ((hfsq - (s * (hfsq + (t1 + t2)) + (dk * LN2_LO + c))) - f)


@jit_inline
def log(x: float) -> float:
    """Natural logarithm, within 1 ulp. No branches (special cases by selects)."""
    dk, f = _reduce_dk(x)
    v = _log_kernel(dk, f, 0.0)
    v = np.nan if x < 0.0 else v
    v = -INF if x == 0.0 else v
    return x if (x != x or x == INF) else v


@jit
def log1p(x: float) -> float:
    """log(1 + x), within 1 ulp, accurate for small x."""
    if x != x or x == INF:
        return x
    if x < -1.0:
        return np.nan
    if x == -1.0:
        return -INF
    if -0.2928932188134524 <= x < 0.41421356237309503:  # 1 + x in [sqrt(2)/2, sqrt(2)): f is x
        return _log_kernel(0.0, x, 0.0)
    u, err = _two_sum(1.0, x)  # 1 + x = u + err exactly
    k, f = _reduce(u)
    c = err / u  # log(u + err) = log(u) + err / u
    hi, lo = _log_dd_reduced(k, f)  # in two parts, so that adding c costs no accuracy
    return hi + (lo + c)


@jit
def log_dd(x: float) -> tuple[float, float]:
    """log(x) for finite x > 0 as a double-double (relative error about 2^-64)."""
    k, f = _reduce(x)
    return _log_dd_reduced(k, f)


@jit
def _log_dd_reduced(k: int, f: float) -> tuple[float, float]:
    """log(2^k (1 + f)) as a double-double: k ln2 + 2 atanh(s), s = f / (2 + f), with s,
    2s^3/3 and k ln2 carried in two parts."""
    d_hi = 2.0 + f
    d_lo = (2.0 - d_hi) + f
    s = f / d_hi
    p, pe = _two_prod(s, d_hi)
    s_lo = (((f - p) - pe) - s * d_lo) / d_hi  # s + s_lo = f / (2 + f) to about 2^-104
    z, ze = _two_prod(s, s)
    c, ce = _two_prod(z, s)
    ce += ze * s + 3.0 * z * s_lo  # s^3 with the low parts
    t, te = _two_prod(c, TWO_THIRDS_DD[0])
    te += c * TWO_THIRDS_DD[1] + ce * TWO_THIRDS_DD[0]  # (2/3) s^3
    # 2 s^5 / 5 + ...: at most 2e-4 of the total, so plain doubles suffice.
    u = A27
    u = A25 + z * u
    u = A23 + z * u
    u = A21 + z * u
    u = A19 + z * u
    u = A17 + z * u
    u = A15 + z * u
    u = A13 + z * u
    u = A11 + z * u
    u = A9 + z * u
    u = A7 + z * u
    u = A5 + z * u
    rest = 2.0 * s * z * z * u
    dk = float(k)
    a, ae = _two_prod(dk, LN2_DD[0])
    ae += dk * LN2_DD[1]
    hi, lo = _dd_add(2.0 * s, 2.0 * s_lo, t, te + rest)
    return _dd_add(a, ae, hi, lo)


@jit
def log2(x: float) -> float:
    """Logarithm to base 2, within 1 ulp (exact at powers of two): k + log(1 + f) / ln2 with
    f - f^2/2 split so that its high part times 1/ln2's high part is exact, and k added as a
    two-sum (the method of FreeBSD's msun e_log2.c, after fdlibm)."""
    if x != x or x == INF:
        return x
    if x < 0.0:
        return np.nan
    if x == 0.0:
        return -INF
    k, f = _reduce(x)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7))) + w * (LG2 + w * (LG4 + w * LG6))
    hfsq = 0.5 * f * f
    hi = _from_bits(_bits(f - hfsq) & _HIGH_WORD)  # 21 significant bits: hi * IVLN2_HI is exact
    lo = ((f - hi) - hfsq) + s * (hfsq + r)
    val_hi = hi * IVLN2_HI
    val_lo = (lo + hi) * IVLN2_LO + lo * IVLN2_HI
    dk = float(k)
    t = dk + val_hi
    val_lo += (dk - t) + val_hi
    return val_lo + t


@jit
def pow(x: float, y: float) -> float:
    """x^y for x >= 0 (negative bases are not needed: nan), within 1 ulp: exp(y log x) with
    log x in double-double, so that y log x keeps its low bits."""
    if y == 0.0 or x == 1.0:
        return 1.0
    if x != x or y != y or x < 0.0:
        return np.nan
    if x == 0.0:
        return 0.0 if y > 0.0 else INF
    if x == INF:
        return INF if y > 0.0 else 0.0
    hi, lo = log_dd(x)
    p, pe = _two_prod(y, hi)
    if p > EXP_MAX + 1.0:
        return INF
    if p < EXP_MIN - 1.0:
        return 0.0
    p, pe = _fast_two_sum(p, pe + y * lo)
    return exp_dd(p, pe)


@jit
def pow_fast(x: float, y: float) -> float:
    """exp(y log x) in plain doubles: relative error about (1 + |y log x|) 2^-53, ample for a
    float32 result (`power` of float32 uses it)."""
    if y == 0.0 or x == 1.0:
        return 1.0
    if x == 0.0:
        return 0.0 if y > 0.0 else INF
    return exp(y * log(x))


# ---- float32 grade: about 1e-13 relative, ample for a float32 result, and a third of the cost ----


@jit_inline
def exp_f32grade(x: float) -> float:
    """e^x with relative error below 1e-13 (Taylor to r^11 after the reduction), for results
    rounded to float32: x is held to [-104, 88.8], beyond which float32's e^x is 0 or infinite.
    No branches and no conversions between integers and doubles (AVX2 has none for 64 bits), so
    that a loop of it is vectorised (NaN gives an unspecified number)."""
    x = min(max(x, -104.0), 88.8)
    shifted = x * INV_LN2 + SHIFT  # n sits in the low bits of its significand
    n = shifted - SHIFT
    r = (x - n * LN2_HI) - n * LN2_LO
    t = E11
    t = E10 + r * t
    t = E9 + r * t
    t = E8 + r * t
    t = E7 + r * t
    t = E6 + r * t
    t = E5 + r * t
    t = E4 + r * t
    t = E3 + r * t
    t = E2 + r * t
    # 2^n in two factors 2^floor(n/2) and 2^ceil(n/2), each a normal double for n in [-150, 128];
    # biased by 2046 (even, so the halving floors the same way) to keep the shifts on positives.
    e = (_bits(shifted) - _SHIFT_BITS) + np.int64(2046)
    h = e >> np.int64(1)
    return (1.0 + (r + r * r * t)) * _from_bits(h << np.int64(52)) * _from_bits((e - h) << np.int64(52))


@jit_inline
def log_f32grade(x: float) -> float:
    """log(x) for x > 0 a normal double (any float32 but zero), absolute error below 1e-13
    (2 atanh(s) to s^15). No branches, and the exponent becomes a double by its bits, not by a
    conversion, so that a loop of it is vectorised."""
    b = _bits(x)
    m = _from_bits((b & np.int64(0xFFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000))
    big = m >= SQRT2
    m = m * 0.5 if big else m
    biased = (b >> np.int64(52)) + (np.int64(1) if big else np.int64(0))  # k + 1023, in [1, 2047]
    dk = (_from_bits(_TWO52_BITS | biased) - TWO52) - 1023.0  # exactly k
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    u = A15
    u = A13 + z * u
    u = A11 + z * u
    u = A9 + z * u
    u = A7 + z * u
    u = A5 + z * u
    u = THIRD + z * u
    return dk * LN2_DD[0] + (2.0 * s + 2.0 * s * z * u)


@jit_inline
def pow_f32grade(x: float, y: float) -> float:
    """x^y for x >= 0, relative error about (1 + |y log x|) 1e-13, for results rounded to
    float32. No branches (selects only)."""
    r = exp_f32grade(y * log_f32grade(max(x, 1e-300)))
    at_zero = 0.0 if y > 0.0 else (1.0 if y == 0.0 else INF)
    return at_zero if x == 0.0 else r


# ---- turns, erf ----


@jit_inline
def _sin_cos_quarter(t: float) -> tuple[float, float]:
    """sin and cos of t quarter turns, t in [0, 1): Taylor series in a = t pi/2 to a^23 and a^22
    (the next terms are below 1e-17), by Horner's rule in a^2."""
    a = t * HALF_PI
    z = a * a
    s = SIN_C[10]
    s = SIN_C[9] + z * s
    s = SIN_C[8] + z * s
    s = SIN_C[7] + z * s
    s = SIN_C[6] + z * s
    s = SIN_C[5] + z * s
    s = SIN_C[4] + z * s
    s = SIN_C[3] + z * s
    s = SIN_C[2] + z * s
    s = SIN_C[1] + z * s
    s = SIN_C[0] + z * s
    c = COS_C[10]
    c = COS_C[9] + z * c
    c = COS_C[8] + z * c
    c = COS_C[7] + z * c
    c = COS_C[6] + z * c
    c = COS_C[5] + z * c
    c = COS_C[4] + z * c
    c = COS_C[3] + z * c
    c = COS_C[2] + z * c
    c = COS_C[1] + z * c
    c = COS_C[0] + z * c
    return a * (1.0 + z * s), 1.0 + z * c


@jit_inline
def sin_cos_turns(u: float) -> tuple[float, float]:
    """sin and cos of the angle 2 pi u (u a fraction of a turn): exact quadrants,
    then a quarter turn's series. Absolute error below 1e-15. The quadrant is chosen by
    selects, not branches (a random angle's quadrant cannot be predicted)."""
    u = u - np.floor(u)  # exact: the angle's place within one turn
    w = 4.0 * u  # exact
    q = np.floor(w)
    s, c = _sin_cos_quarter(w - q)
    odd = q == 1.0 or q == 3.0
    s1 = c if odd else s  # quadrants 1 and 3 swap sine and cosine, then signs by quadrant
    c1 = s if odd else c
    s1 = -s1 if q >= 2.0 else s1
    c1 = -c1 if q == 1.0 or q == 2.0 else c1
    return s1, c1


@jit
def atan(x: float) -> float:
    """arctan x, within 2 ulp: atan(x) = pi/2 - atan(1/x) above 1, then
    atan(x) = pi/4 + atan((x - 1)/(x + 1)) above tan(pi/8), then the Taylor series to y^45 on
    |y| <= tan(pi/8) (the next term is below 1e-19)."""
    if x != x:
        return x
    sign = 1.0
    if x < 0.0:
        x = -x
        sign = -1.0
    base, flip = 0.0, False
    if x > 1.0:
        x = 1.0 / x
        flip = True
    if x > TAN_PI_8:
        x = (x - 1.0) / (x + 1.0)
        base = QUARTER_PI
    z = x * x
    t = ATAN_C[21]
    for k in range(20, -1, -1):  # y (1 + y^2 (-1/3 + y^2 (1/5 - ...))), Horner from the top
        t = ATAN_C[k] + z * t
    r = base + (x + x * z * t)
    if flip:
        r = HALF_PI - r
    return sign * r


@jit
def t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with `df` (a whole number) degrees of freedom, t >= 0: the
    finite sums of Abramowitz and Stegun 26.7.3-4 in theta = atan(t / sqrt(df))."""
    c2 = df / (df + t * t)  # cos^2 theta
    sin = t / np.sqrt(df + t * t)
    total, term = 1.0, 1.0
    if df % 2 == 0:  # sin theta (1 + 1/2 cos^2 + 1.3/(2.4) cos^4 + ... to cos^(df-2))
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        return sin * total
    theta = atan(t / np.sqrt(df))
    if df == 1:
        return 2.0 * theta / PI
    for k in range(1, (df - 1) // 2):  # 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2.4/(3.5) cos^4 + ...))
        term *= c2 * (2 * k) / (2 * k + 1)
        total += term
    return 2.0 / PI * (theta + sin * np.sqrt(c2) * total)


@jit
def cos_turns(u: float) -> float:
    """cos(2 pi u)."""
    return sin_cos_turns(u)[1]


@jit
def erf(x: float) -> float:
    """The error function: 2/sqrt(pi) e^-x^2 sum 2^n x^(2n+1) / (1 3 ... (2n+1)), a series of
    positive terms (no cancellation); 1 beyond |x| = 6, where erf rounds to 1. Relative error
    a few ulps."""
    if x != x:
        return x
    ax = abs(x)
    if ax >= 6.0:
        return 1.0 if x > 0 else -1.0
    x2 = ax * ax
    term = ax
    total = ax
    n = 0
    while term > total * 1e-18:
        n += 1
        term *= 2.0 * x2 / (2 * n + 1)
        total += term
    out = TWO_OVER_SQRT_PI * exp(-x2) * total
    return out if x > 0 else -out


# ---- array forms: numpy ufuncs, float32 and float64 loops as numpy's own ----
# A float32 loop computes in double with the float32-grade function and rounds once; a float64
# loop uses the full-precision one.


@numba.vectorize(["float64(float64)"], cache=True, nopython=True)
def _expm1_64(x):  # type: ignore[no-untyped-def]
    return expm1(x)


@numba.vectorize(["float64(float64)"], cache=True, nopython=True)
def _log1p64(x):  # type: ignore[no-untyped-def]
    return log1p(x)


@numba.vectorize(["float64(float64)"], cache=True, nopython=True)
def _log2_64(x):  # type: ignore[no-untyped-def]
    return log2(x)


@numba.vectorize(["float64(float64, float64)"], cache=True, nopython=True)
def _power64(x, y):  # type: ignore[no-untyped-def]
    return pow(x, y)


@numba.vectorize(["float32(float32, float32)"], cache=True, nopython=True)
def _power32(x, y):  # type: ignore[no-untyped-def]
    return pow_f32grade(np.float64(x), np.float64(y))


Array = np.ndarray | float


# The loops work in place: with an input and an output array LLVM checks at run time whether they
# overlap and, when they do (as `out=x` makes them), runs the loop unvectorised, five times slower.


@jit
def _exp32_inplace(a: np.ndarray) -> None:
    for i in range(a.shape[0]):
        a[i] = np.float32(exp_f32grade(np.float64(a[i])))


@jit
def _power32_inplace(a: np.ndarray, y: np.float32) -> None:
    y64 = np.float64(y)
    for i in range(a.shape[0]):
        a[i] = np.float32(pow_f32grade(np.float64(a[i]), y64))


def _inplace32(a: np.ndarray, out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A 1-d contiguous float32 array holding a's values to work on in place, and the result it
    becomes (out, or a new array; copied back by `_finish32` if out cannot be worked on directly)."""
    res = np.empty(a.shape, dtype=np.float32) if out is None else out
    work = res.reshape(-1) if res.flags.c_contiguous else np.empty(a.size, dtype=np.float32)
    if not (work.ctypes.data == a.ctypes.data and a.flags.c_contiguous and a.size == work.size):
        np.copyto(work, np.ascontiguousarray(a).reshape(-1))
    return work, res


def _finish32(work: np.ndarray, res: np.ndarray) -> np.ndarray:
    if not np.shares_memory(work, res):
        res[...] = work.reshape(res.shape)
    return res


def _exp32_fast(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float32 exp by a compiled loop (a numba ufunc's generic loop is slower)."""
    work, res = _inplace32(a, out)
    _exp32_inplace(work)
    return _finish32(work, res)


@jit
def _exp64_inplace(a: np.ndarray) -> None:
    for i in range(a.shape[0]):
        a[i] = exp(a[i])


@jit
def _log64_inplace(a: np.ndarray) -> None:
    for i in range(a.shape[0]):
        a[i] = log(a[i])


def _inplace64(f):  # type: ignore[no-untyped-def]
    """The float64 form of a function with an in-place compiled loop, as a ufunc-like call."""

    def call(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        res = np.empty(a.shape) if out is None else out
        work = res.reshape(-1) if res.flags.c_contiguous and res.dtype == np.float64 else np.empty(a.size)
        if not (work.ctypes.data == a.ctypes.data and a.flags.c_contiguous and a.size == work.size):
            np.copyto(work, a.reshape(-1))
        f(work)
        if not np.shares_memory(work, res):
            res[...] = work.reshape(res.shape)
        return res

    return call


def _unary(f64, f32, name: str):  # type: ignore[no-untyped-def]
    def ufunc(x: Array, out: np.ndarray | None = None) -> Array:
        a = np.asarray(x)
        if a.dtype == np.float32 and f32 is not None:
            return f32(a) if out is None else f32(a, out=out)
        a = a.astype(np.float64, copy=False)
        r = f64(a) if out is None else f64(a, out=out)
        return float(r) if np.ndim(r) == 0 and out is None else r

    ufunc.__name__ = name
    ufunc.__doc__ = f"{name} element-wise, the same bits on every machine (float32 stays float32)."
    return ufunc


np_exp = _unary(_inplace64(_exp64_inplace), _exp32_fast, "exp")
np_expm1 = _unary(_expm1_64, None, "expm1")
np_log = _unary(_inplace64(_log64_inplace), None, "log")
np_log1p = _unary(_log1p64, None, "log1p")
np_log2 = _unary(_log2_64, None, "log2")


def np_power(x: Array, y: Array, out: np.ndarray | None = None) -> Array:
    """x ** y element-wise (x >= 0), with numpy's type rules: a float32 array to a Python float
    stays float32; anything else is float64."""
    xa = np.asarray(x)
    if xa.dtype == np.float32 and np.result_type(xa, y) == np.float32:
        if np.ndim(y) == 0:  # the common case, a float32 array to one power: a compiled loop
            work, res = _inplace32(xa, out)
            _power32_inplace(work, np.float32(y))
            return _finish32(work, res)
        y32 = np.asarray(y, dtype=np.float32)
        return _power32(xa, y32) if out is None else _power32(xa, y32, out=out)
    xa, ya = xa.astype(np.float64, copy=False), np.asarray(y, dtype=np.float64)
    r = _power64(xa, ya) if out is None else _power64(xa, ya, out=out)
    return float(r) if np.ndim(r) == 0 and out is None else r
