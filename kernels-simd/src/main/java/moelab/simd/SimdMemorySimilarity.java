package moelab.simd;

import static moelab.simd.Vec.L;
import static moelab.simd.Vec.S;

import jdk.incubator.vector.FloatVector;
import moelab.kernels.Kernels;

import java.util.Arrays;

/**
 * Memory-buffer similarity (memory-aware routing) on top of the SIMD GEMM: the cosine matrix is
 * M = (X·Pᵀ) scaled per element by 1 / max(||x_t||·||p_i||, eps), so the O(T·E·d) work is one
 * GEMM and the rest is O(T·d + E·d) norms plus an O(T·E) scale. The backward is again one GEMM,
 * dX += G·P with G[t,i] = dm[t,i] / max(||x_t||·||p_i||, eps), plus a per-row multiple of x_t.
 * Scaling after the GEMM (instead of normalising copies of X and P first) saves copying X.
 */
final class SimdMemorySimilarity {
    private final SimdGemm gemm;

    SimdMemorySimilarity(SimdGemm gemm) { this.gemm = gemm; }

    // x [T, d], p [E, d], active [E] -> m [T, E]
    void forward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff, int tokens, int experts, int d) {
        if (tokens == 0 || experts == 0) return;
        float[] pNorm = rowNorms(p, 0, experts, d), xNorm = rowNorms(x, xOff, tokens, d);
        if (d == 0) { Arrays.fill(m, mOff, mOff + tokens * experts, 0f); return; }
        gemm.sgemm(false, true, tokens, experts, d, 1f, x, xOff, d, activeRows(p, active, experts, d), 0, d, 0f, m, mOff, experts);
        for (int t = 0; t < tokens; t++) {
            int row = mOff + t * experts;
            for (int i = 0; i < experts; i++)
                m[row + i] = active[i] ? m[row + i] / Math.max(xNorm[t] * pNorm[i], Kernels.COSINE_EPS) : 0f;
        }
    }

    // x, dx [T, d], p [E, d], active [E], m, dm [T, E] -> dx accumulated
    void backward(float[] x, int xOff, float[] p, boolean[] active, float[] m, int mOff,
                  float[] dm, int dmOff, float[] dx, int dxOff, int tokens, int experts, int d) {
        if (tokens == 0 || experts == 0 || d == 0) return;
        float[] pNorm = rowNorms(p, 0, experts, d), xNorm = rowNorms(x, xOff, tokens, d);
        float[] g = new float[tokens * experts], xCoef = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            float c = 0f;
            for (int i = 0; i < experts; i++) {
                float gi = dm[dmOff + t * experts + i];
                if (!active[i] || gi == 0f) continue;
                float prod = xNorm[t] * pNorm[i];
                if (prod < Kernels.COSINE_EPS) {
                    g[t * experts + i] = gi / Kernels.COSINE_EPS;          // m = x·p / eps: linear in x
                } else {
                    g[t * experts + i] = gi / prod;
                    c -= gi * m[mOff + t * experts + i] / (xNorm[t] * xNorm[t]);
                }
            }
            xCoef[t] = c;
        }
        gemm.sgemm(false, false, tokens, d, experts, 1f, g, 0, experts, activeRows(p, active, experts, d), 0, d, 1f, dx, dxOff, d);
        for (int t = 0; t < tokens; t++)
            if (xCoef[t] != 0f) axpy(xCoef[t], x, xOff + t * d, dx, dxOff + t * d, d);
    }

    /** p itself when every expert is active; else a copy with inactive rows zeroed (they may hold anything). */
    private static float[] activeRows(float[] p, boolean[] active, int experts, int d) {
        boolean all = true;
        for (int i = 0; i < experts; i++) all &= active[i];
        if (all) return p;
        float[] q = new float[experts * d];
        for (int i = 0; i < experts; i++) if (active[i]) System.arraycopy(p, i * d, q, i * d, d);
        return q;
    }

    // v [rows, d] -> ||v_r|| [rows]
    private static float[] rowNorms(float[] v, int off, int rows, int d) {
        float[] n = new float[rows];
        for (int r = 0; r < rows; r++) n[r] = (float) Math.sqrt(SimdElementwise.dotRange(v, off + r * d, v, off + r * d, d));
        return n;
    }

    // x, y [n]: y += alpha * x, one row (fused multiply-add like SimdElementwise.axpy)
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L)
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
    }
}
