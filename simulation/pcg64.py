"""numpy's PCG64 stream, read inside compiled loops: the same numbers, at any row, without buffers.

A stream's i-th uniform is what `np.random.Generator(PCG64(...)).random(n)[i]` gives: the
generator's 128-bit state after i + 1 steps of its linear congruential recurrence
state <- state * MULTIPLIER + inc, put through PCG's XSL-RR output and scaled to [0, 1) as numpy
scales it (top 53 bits times 2^-53). numpy can only fill arrays from the start of a stream (or
after `advance`, which costs a Python call); a loop compiled with numba cannot call it per row.

So this module does the recurrence itself, bit for bit as numpy does (tests/unit/test_pcg64.py checks
it against numpy's draws), in two ways a kernel can inline:

- `step`: the next row's state, for a loop that reads every row (one 128-bit multiply-add, with
  no buffer written and read back);
- `seek`: the state at any later row. Taking g steps at once is again one multiply-add, with
  the multiplier M^g and the increment inc * (1 + M + ... + M^(g-1)) read from the stream's jump
  table (`table`). So a loop that needs only some rows' draws (searchers, people starting a claim,
  a fill's hiring firms) pays for those rows only, not for every row before them.

numba has no 128-bit integers; `_lcg128` asks LLVM for the 128-bit multiply directly, which on
x86-64 is three 64-bit multiplies.

Kernels in other files compile these functions into themselves, and numba's on-disk cache checks
only a kernel's own file: after changing this one, `make clean` (or delete simulation's
__pycache__ folders) so that the kernels are compiled afresh.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # PCG's default 128-bit multiplier, as numpy's PCG64
_MASK = (1 << 128) - 1
SHORT_BITS = 6
SHORT = 1 << SHORT_BITS  # jumps of 0..SHORT steps have their own table row; longer ones add powers of two
HEADER = SHORT + 1 + 64  # the table's row holding the stream's starting state and increment

jit = numba.njit(cache=True, nogil=True)


@intrinsic
def _lcg128(typingctx, hi, lo, mul_hi, mul_lo, add_hi, add_lo):  # type: ignore[no-untyped-def]
    """(hi:lo) * (mul_hi:mul_lo) + (add_hi:add_lo) modulo 2^128, as (hi, lo)."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i128, i64 = ir.IntType(128), ir.IntType(64)
        shift = ir.Constant(i128, 64)

        def join(h, l):  # type: ignore[no-untyped-def]  # noqa: E741
            return builder.or_(builder.shl(builder.zext(h, i128), shift), builder.zext(l, i128))

        x = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])), join(args[4], args[5]))
        parts = (builder.trunc(builder.lshr(x, shift), i64), builder.trunc(x, i64))
        return context.make_tuple(builder, signature.return_type, parts)

    return sig, codegen


def _jumps() -> np.ndarray:
    """M^g and 1 + M + ... + M^(g-1) (mod 2^128) for g = 0..SHORT, then for g = 2^0..2^63, as
    (hi, lo, hi, lo) rows: what a stream's table needs apart from its increment."""
    rows = []
    for g in [*range(SHORT + 1), *(1 << j for j in range(64))]:
        # Square and multiply, as PCG's own advance (O'Neill 2014, after Brown 1994).
        mult, plus, acc_mult, acc_plus, k = MULTIPLIER, 1, 1, 0, g
        while k:
            if k & 1:
                acc_mult, acc_plus = acc_mult * mult & _MASK, (acc_plus * mult + plus) & _MASK
            plus, mult, k = (mult + 1) * plus & _MASK, mult * mult & _MASK, k >> 1
        rows.append((acc_mult >> 64, acc_mult & (2**64 - 1), acc_plus >> 64, acc_plus & (2**64 - 1)))
    return np.array(rows, dtype=np.uint64)


_JUMPS = _jumps()


@jit
def _table(
    jumps: np.ndarray, state_hi: np.uint64, state_lo: np.uint64, inc_hi: np.uint64, inc_lo: np.uint64
) -> np.ndarray:
    zero = np.uint64(0)
    out = np.empty((HEADER + 1, 4), dtype=np.uint64)
    for g in range(HEADER):
        out[g, 0], out[g, 1] = jumps[g, 0], jumps[g, 1]
        out[g, 2], out[g, 3] = _lcg128(inc_hi, inc_lo, jumps[g, 2], jumps[g, 3], zero, zero)
    out[HEADER, 0], out[HEADER, 1], out[HEADER, 2], out[HEADER, 3] = state_hi, state_lo, inc_hi, inc_lo
    return out


def table(bit_generator: np.random.PCG64) -> np.ndarray:
    """The jump table of the stream that this freshly seeded generator would produce: one row per
    jump length (multiplier and increment, each as hi and lo words), then its starting state."""
    state = bit_generator.state["state"]
    s, inc = int(state["state"]), int(state["inc"])
    w = 2**64 - 1
    return _table(_JUMPS, np.uint64(s >> 64), np.uint64(s & w), np.uint64(inc >> 64), np.uint64(inc & w))


# numpy's SeedSequence (O'Neill's seed_seq alternative, pool of four 32-bit words) and PCG64's
# seeding from it, so that a month's tables cost a compiled call each rather than about 20 us of
# numpy's Python-level seeding; tests/unit/test_pcg64.py checks them against numpy's.
_POOL = 4
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF


def entropy_words(seed: int) -> np.ndarray:
    """A run seed as numpy's SeedSequence takes it with a spawn key: its 32-bit words, lowest
    first, padded with zeros to the pool's four (numpy's one word for 0 pads to the same)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    words: list[int] = []
    while seed:
        words.append(seed & _M32)
        seed >>= 32
    return np.array(words + [0] * (_POOL - len(words)), dtype=np.uint32)


@jit
def _hashmix(value: np.uint64, const: np.uint64, mult: np.uint64) -> tuple[np.uint64, np.uint64]:
    """SeedSequence's hash of one word, and its next hash constant (32-bit words in uint64s)."""
    m = np.uint64(_M32)
    value ^= const
    const = (const * mult) & m
    value = (value * const) & m
    return value ^ (value >> np.uint64(16)), const


@jit
def _seeded_table(jumps: np.ndarray, words: np.ndarray) -> np.ndarray:
    """`table(PCG64(SeedSequence(entropy, spawn_key=key)))` for the words of entropy then key."""
    m = np.uint64(_M32)
    mult_a = np.uint64(_MULT_A)
    pool = np.zeros(_POOL, dtype=np.uint64)
    const = np.uint64(_INIT_A)
    for i in range(_POOL):  # the entropy is never shorter than the pool: `entropy_words` pads it
        pool[i], const = _hashmix(np.uint64(words[i]), const, mult_a)
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                h, const = _hashmix(pool[src], const, mult_a)
                r = (np.uint64(_MIX_L) * pool[dst] - np.uint64(_MIX_R) * h) & m
                pool[dst] = r ^ (r >> np.uint64(16))
    for src in range(_POOL, words.shape[0]):
        for dst in range(_POOL):
            h, const = _hashmix(np.uint64(words[src]), const, mult_a)
            r = (np.uint64(_MIX_L) * pool[dst] - np.uint64(_MIX_R) * h) & m
            pool[dst] = r ^ (r >> np.uint64(16))
    # generate_state(4, uint64): eight 32-bit words cycling through the pool, paired lowest first.
    out = np.zeros(4, dtype=np.uint64)
    const = np.uint64(_INIT_B)
    for i in range(8):
        v, const = _hashmix(pool[i % _POOL], const, np.uint64(_MULT_B))
        out[i // 2] |= v << np.uint64(32 * (i % 2))
    # PCG64's seeding: inc = seq * 2 + 1; state = inc; state += seed; one step.
    inc_hi, inc_lo = (out[2] << np.uint64(1)) | (out[3] >> np.uint64(63)), (out[3] << np.uint64(1)) | np.uint64(1)
    one, zero = np.uint64(1), np.uint64(0)
    hi, lo = _lcg128(inc_hi, inc_lo, zero, one, out[0], out[1])
    hi, lo = _lcg128(hi, lo, jumps[1, 0], jumps[1, 1], inc_hi, inc_lo)
    return _table(jumps, hi, lo, inc_hi, inc_lo)


def seeded_table(entropy: np.ndarray, key: tuple[int, ...]) -> np.ndarray:
    """The jump table of `PCG64(SeedSequence(seed, spawn_key=key))`, for `entropy_words(seed)`
    and a key of 32-bit words."""
    return _seeded_table(_JUMPS, np.concatenate((entropy, np.array(key, dtype=np.uint32))))


@jit
def start(tab: np.ndarray) -> tuple[np.uint64, np.uint64, np.uint64]:
    """The stream before its first draw: (state hi, state lo, rows drawn = 0)."""
    return tab[HEADER, 0], tab[HEADER, 1], np.uint64(0)


@jit
def step(tab: np.ndarray, hi: np.uint64, lo: np.uint64) -> tuple[np.uint64, np.uint64]:
    """The state one row on."""
    return _lcg128(hi, lo, tab[1, 0], tab[1, 1], tab[HEADER, 2], tab[HEADER, 3])


@jit
def seek(
    tab: np.ndarray, hi: np.uint64, lo: np.uint64, pos: np.uint64, row: int
) -> tuple[np.uint64, np.uint64, np.uint64]:
    """The state whose draw is row `row`'s, from the state after `pos` rows: (hi, lo, row + 1).
    Rows are read in increasing order (re-reading the last row is allowed)."""
    target = np.uint64(row) + np.uint64(1)
    if target < pos:
        raise ValueError("a stream is read in increasing row order")
    g = target - pos
    # The long part of a long jump by powers of two from 2^6 (rare: one rarely skips 64 rows);
    # then one multiply-add from the short jumps. A branch on g <= SHORT around the short jump
    # made the common path twice as slow.
    if g > np.uint64(SHORT):
        long, g = g >> np.uint64(SHORT_BITS), g & np.uint64(SHORT - 1)
        j = SHORT + 1 + SHORT_BITS  # the row of 2^SHORT_BITS
        while long:
            if long & np.uint64(1):
                hi, lo = _lcg128(hi, lo, tab[j, 0], tab[j, 1], tab[j, 2], tab[j, 3])
            long >>= np.uint64(1)
            j += 1
    hi, lo = _lcg128(hi, lo, tab[g, 0], tab[g, 1], tab[g, 2], tab[g, 3])
    return hi, lo, target


@jit
def uniform(hi: np.uint64, lo: np.uint64) -> float:
    """The draw of this state: PCG's XSL-RR output, its top 53 bits scaled to [0, 1) (numpy's
    `next_double`)."""
    x = hi ^ lo
    r = hi >> np.uint64(58)
    x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    # Below 2^53, so converted as a signed integer: one instruction, not the unsigned sequence.
    return np.float64(np.int64(x >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@jit
def rows(tab: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The draws of the rows `at` (in increasing order), paying only for those rows."""
    out = np.empty(at.shape[0])
    hi, lo, pos = start(tab)
    for k in range(at.shape[0]):
        hi, lo, pos = seek(tab, hi, lo, pos, at[k])
        out[k] = uniform(hi, lo)
    return out


@jit
def fill(tab: np.ndarray, first: int, out: np.ndarray) -> None:
    """out[k] = the draw of row first + k, for every k."""
    if out.shape[0] == 0:
        return
    hi, lo, pos = start(tab)
    hi, lo, pos = seek(tab, hi, lo, pos, first)
    out[0] = uniform(hi, lo)
    for k in range(1, out.shape[0]):
        hi, lo = step(tab, hi, lo)
        out[k] = uniform(hi, lo)
