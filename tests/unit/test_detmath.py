"""The project's own elementary functions (`simulation.detmath`): within 1 ulp of the C library's
(glibc's are within about half an ulp of the true value), exact at the points where the true
value is exact, and the float32 forms within 1 ulp of the double result rounded to float32.
Normals made from the uniform stream are read the same by whole stream, block and row, and are
standard normal."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import detmath as dm
from simulation.rng import Streams


def ulps(a: float, b: float) -> int:
    """How many doubles apart a and b are (0 when both are the same infinity or NaN)."""
    if math.isnan(a) or math.isnan(b):
        return 0 if math.isnan(a) and math.isnan(b) else 1 << 62
    if a == b:
        return 0

    def key(x: float) -> int:
        i = int(np.float64(x).view(np.int64))
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)

    return abs(key(a) - key(b))


def ulps32(a: np.float32, b: np.float32) -> int:
    def key(x: np.float32) -> int:
        i = int(np.float32(x).view(np.int32))
        return i if i >= 0 else -(i & 0x7FFFFFFF)

    return abs(key(a) - key(b))


finite = {"allow_nan": False, "allow_infinity": False}
SETTINGS = settings(max_examples=2000, deadline=None)


@SETTINGS
@given(st.floats(-745.0, 709.7, **finite) | st.floats(-1e-3, 1e-3, **finite))
def test_exp(x: float) -> None:
    assert ulps(dm.exp(x), math.exp(x)) <= 1


@SETTINGS
@given(st.floats(-60.0, 709.7, **finite) | st.floats(-0.5, 0.5, **finite) | st.floats(-1e-9, 1e-9, **finite))
def test_expm1(x: float) -> None:
    assert ulps(dm.expm1(x), math.expm1(x)) <= 1


@SETTINGS
@given(st.floats(5e-324, 1.7e308, **finite) | st.floats(0.5, 2.0, **finite))
def test_log_and_log2(x: float) -> None:
    assert ulps(dm.log(x), math.log(x)) <= 1
    assert ulps(dm.log2(x), math.log2(x)) <= 1


@SETTINGS
@given(st.floats(-1.0, 1e300, exclude_min=True, **finite) | st.floats(-1e-6, 1e-6, **finite))
def test_log1p(x: float) -> None:
    assert ulps(dm.log1p(x), math.log1p(x)) <= 1


@SETTINGS
@given(st.floats(-1e300, 1e300, **finite) | st.floats(-1e-3, 1e-3, **finite))
def test_atan(x: float) -> None:
    """Used only for Student's t quantiles (the analysis' intervals), where 2 ulp is ample."""
    assert ulps(dm.atan(x), math.atan(x)) <= 2


@SETTINGS
@given(st.floats(1e-300, 1e300, **finite), st.floats(-50.0, 50.0, **finite))
def test_pow(x: float, y: float) -> None:
    try:
        want = math.pow(x, y)
    except OverflowError:
        want = math.inf
    assert ulps(dm.pow(x, y), want) <= 1


def test_exact_points_and_edges() -> None:
    assert dm.exp(0.0) == 1.0 and dm.expm1(0.0) == 0.0 and dm.log(1.0) == 0.0 and dm.log1p(0.0) == 0.0
    assert all(dm.log2(2.0**k) == k for k in range(-1074, 1024))
    assert dm.pow(2.0, 10.0) == 1024.0 and dm.pow(9.0, 0.5) == 3.0 and dm.pow(0.0, 2.0) == 0.0
    assert dm.pow(5.0, 0.0) == 1.0 and dm.pow(0.0, -1.0) == math.inf
    assert dm.exp(710.0) == math.inf and dm.exp(-746.0) == 0.0 and dm.expm1(-50.0) == -1.0
    assert dm.log(0.0) == -math.inf and math.isnan(dm.log(-1.0)) and dm.log1p(-1.0) == -math.inf
    assert dm.exp(-740.0) == math.exp(-740.0)  # subnormal results
    assert math.isnan(dm.exp(math.nan)) and math.isnan(dm.pow(-2.0, 0.5))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-104.0, 88.0, width=32, **finite), min_size=1, max_size=50))
def test_float32_exp_is_the_double_rounded(xs: list[float]) -> None:
    a = np.array(xs, dtype=np.float32)
    got = dm.np_exp(a)
    assert got.dtype == np.float32
    for g, x in zip(got, a, strict=True):
        assert ulps32(g, np.float32(math.exp(float(x)))) <= 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0, width=32, **finite), min_size=1, max_size=50),
    st.floats(0.05, 6.0, **finite),
)
def test_float32_power_is_the_double_rounded(xs: list[float], y: float) -> None:
    """numpy's rule: a float32 array to a Python float is float32, the exponent rounded to float32."""
    a = np.array(xs, dtype=np.float32)
    got = dm.np_power(a, y)
    assert got.dtype == np.float32
    y32 = float(np.float32(y))
    for g, x in zip(got, a, strict=True):
        assert ulps32(g, np.float32(math.pow(float(x), y32))) <= 1


def test_array_forms_are_the_scalar_functions() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-30, 30, 5000)
    for ufunc, scalar, arg in [
        (dm.np_exp, dm.exp, x),
        (dm.np_expm1, dm.expm1, x),
        (dm.np_log, dm.log, np.abs(x)),
        (dm.np_log1p, dm.log1p, np.abs(x)),
        (dm.np_log2, dm.log2, np.abs(x)),
    ]:
        np.testing.assert_array_equal(ufunc(arg), [scalar(v) for v in arg])
    np.testing.assert_array_equal(dm.np_power(np.abs(x), 0.7), [dm.pow(v, 0.7) for v in np.abs(x)])
    # The array loops have no branches (special cases by selects): the same answers at the edges.
    edges = np.array([0.0, -0.0, 1.0, -1.0, 5e-324, 2.2e-308, 1e-310, 709.78, 709.79, -745.1, -745.2, 1e300])
    edges = np.concatenate([edges, -edges, [np.inf, -np.inf, np.nan]])
    with np.errstate(all="ignore"):
        for ufunc, scalar in [(dm.np_exp, dm.exp), (dm.np_log, dm.log)]:
            np.testing.assert_array_equal(ufunc(edges), [scalar(v) for v in edges])
            got = edges.copy()
            ufunc(got, out=got)  # in place
            np.testing.assert_array_equal(got, [scalar(v) for v in edges])
    m = np.abs(x).reshape(50, 100).T  # not contiguous: the same numbers
    np.testing.assert_array_equal(dm.np_exp(m.astype(np.float32)), dm.np_exp(m.astype(np.float32).copy()))


def test_sines_and_erf() -> None:
    for u in np.random.default_rng(4).random(2000):
        s, c = dm.sin_cos_turns(u)
        assert abs(s - math.sin(2 * math.pi * u)) < 2e-15 and abs(c - math.cos(2 * math.pi * u)) < 2e-15
    for x in np.random.default_rng(5).uniform(-7, 7, 2000):
        assert abs(dm.erf(x) - math.erf(x)) <= 2e-15 * abs(math.erf(x))  # a few ulps


@pytest.mark.parametrize("first", [0, 1, 2, 7])
def test_normals_by_stream_block_and_row_agree(first: int) -> None:
    """A block of normals (filled a pass of pairs at a time) equals the same rows drawn one pair
    at a time, from any first row and across the passes' seams."""
    s = Streams(17)
    whole = s.normal("firm_growth", 3, 9000)
    np.testing.assert_array_equal(s.normal_rows("firm_growth", 3, np.arange(9000)), whole)
    np.testing.assert_array_equal(s.normal_block("firm_growth", 3, first, 8000), whole[first : first + 8000])
    rows = np.sort(np.random.default_rng(first).choice(5000, 700, replace=False))
    np.testing.assert_array_equal(s.normal_rows("firm_growth", 3, rows), whole[rows])
    assert not np.array_equal(whole, Streams(18).normal("firm_growth", 3, 9000))


def test_normals_are_standard_normal() -> None:
    from scipy import stats

    z = Streams(1).normal("test", 0, 400_000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert stats.kstest(z, "norm").pvalue > 1e-3
    odd, even = z[1::2], z[0::2]  # the two halves of each Box-Muller pair are independent
    assert abs(np.corrcoef(odd, even)[0, 1]) < 0.01
