"""What machine a run ran on, and how to hold a process to baseline code paths.

Results do not depend on the machine (`detmath`), but if two runs ever differ, the first question
is what the machines were: so every manifest records the CPU, the SIMD features numpy found and
chose among, the C library and what numba compiled for (`describe`). `baseline_environment` is
the environment that switches off every CPU-specific code path we know of, which the
portability test (tests/model/test_portable.py) runs the golden cases under.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def numpy_features() -> dict[str, list[str]]:
    """numpy's SIMD baseline, the dispatchable features this CPU has, and those numpy may use
    here (not switched off by NPY_DISABLE_CPU_FEATURES)."""
    from numpy._core import _multiarray_umath as um

    found = getattr(um, "__cpu_features__", {})
    dispatch = list(getattr(um, "__cpu_dispatch__", []))
    disabled = set(os.environ.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split())
    return {
        "baseline": list(getattr(um, "__cpu_baseline__", [])),
        "dispatch_available": [f for f in dispatch if found.get(f)],
        "dispatch_used": [f for f in dispatch if found.get(f) and f not in disabled],
    }


def glibc_version() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
    except (ValueError, OSError, AttributeError):
        name, version = platform.libc_ver()
        return f"{name} {version}".strip() or "unknown"


def numba_target() -> dict[str, str]:
    """The CPU numba compiles for: the host's, or NUMBA_CPU_NAME's."""
    import numba
    from llvmlite import binding

    return {
        "host_cpu": binding.get_host_cpu_name(),
        "cpu_name": numba.config.CPU_NAME or "host",
    }


def describe() -> dict[str, Any]:
    """The machine, for a manifest."""
    return {
        "cpu": cpu_model(),
        "arch": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "numpy_simd": numpy_features(),
        "glibc": glibc_version(),
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
        "numba": numba_target(),
        "os": platform.platform(),
    }


# glibc's x86-64 libm picks FMA, FMA4, AVX2 and AVX-512 variants of exp, log, pow, sin and the
# like at load time; these tunables make it take the baseline SSE2 ones.
GLIBC_BASELINE = "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4,-AVX512F,-AVX_Fast_Unaligned_Load"


def baseline_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment whose processes use only baseline code: numpy without any of its
    dispatched SIMD features that this CPU has, glibc without its FMA/AVX2 variants, numba
    compiling for a generic CPU (and into a cache of its own, so the host's kernels are not
    reused)."""
    env = dict(os.environ if base is None else base)
    available = numpy_features()["dispatch_available"]
    if available:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(available)
    env["GLIBC_TUNABLES"] = GLIBC_BASELINE
    env["NUMBA_CPU_NAME"] = "generic"
    return env
