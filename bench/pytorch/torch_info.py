"""What a PyTorch peer runs on: the torch version, the BLAS it was built with, its float32 matmul
rate, and which attention it uses. Import after the thread environment is set (see the peers)."""
import time


def blas():
    """The BLAS torch was built with and the CPU code it runs, from torch.__config__.show()
    (e.g. 'mkl, CPU capability AVX2'); '?' for what it does not say."""
    import re
    import torch
    cfg = torch.__config__.show()
    lib = re.search(r"BLAS_INFO=(\w+)", cfg)
    cap = re.search(r"CPU capability usage: (\w+)", cfg)
    return f"{lib.group(1) if lib else '?'}, CPU capability {cap.group(1) if cap else '?'}"


def has_sdpa():
    """torch >= 2.0 has fused scaled_dot_product_attention; Debian's 1.13 does not."""
    import torch.nn.functional as F
    return hasattr(F, "scaled_dot_product_attention")


def sgemm_rate(n=512, reps=5):
    """GFLOP/s of an n x n float32 matmul, best of reps: tells whether torch runs an optimized BLAS.
    Debian's torch takes whatever libblas.so.3 the alternatives system selects; with only the
    reference libblas3 installed it runs ~30x slower than with OpenBLAS (libopenblas0-pthread)."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def describe():
    """{'torch', 'blas', 'sgemm_gflops', 'sdpa'} of this process's torch (on its current threads)."""
    import torch
    return {"torch": torch.__version__, "blas": blas(), "sgemm_gflops": sgemm_rate(), "sdpa": has_sdpa()}


def header(rows):
    """One line per thread count: version, BLAS and matmul rate (rows: worker results with describe()'s keys)."""
    r0, seen = rows[0], {}
    for r in rows:
        seen.setdefault(r["threads"], r["sgemm_gflops"])
    rates = ", ".join(f"{g:.1f} GFLOP/s on {t} thread(s)" for t, g in seen.items())
    return f"torch {r0['torch']} (BLAS: {r0['blas']}); float32 matmul 512x512: {rates}"
