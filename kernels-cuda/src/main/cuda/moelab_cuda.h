// moelab CUDA kernels: the contract of every kernel in moelab_kernels.cu.
//
// All matrices are row-major float32, device pointers. Every kernel is `extern "C"` so the JVM
// (JCuda driver API: cuModuleGetFunction) and the standalone self-test find it by this name.
// Launch shapes are given per kernel; the helpers in this header compute them for C/C++ callers.
//
// Expert layout ("grouped" kernels): the S kept (token, expert) routes are packed into rows sorted
// by expert; expert e owns packed rows [off[e], off[e+1]) (off is int [E+1], off[0] = 0,
// off[E] = S). Weights are stacked per expert: W1, W3 [E, d, f], W2 [E, f, d].
// One launch covers all experts: grid.z = E, grid.y = row tiles of the largest expert (blocks past
// an expert's rows return at once), grid.x = column tiles.
//
// Determinism: every output element is produced by one thread with a fixed summation order; no
// atomics anywhere, so results are bit-identical run to run on the same GPU and build.
// Numerics: plain fp32 FMA (no TF32), so results match the CPU reference to float rounding.
#ifndef MOELAB_CUDA_H
#define MOELAB_CUDA_H

// GEMM block tile: MOE_BM x MOE_BN outputs per block of 256 threads, 4x4 per thread, K step MOE_BK.
#define MOE_BM 64
#define MOE_BN 64
#define MOE_BK 16
#define MOE_GEMM_THREADS 256
// Row kernels (softmax/top-k, norms): one warp per row, MOE_ROW_WARPS warps per block.
#define MOE_ROW_WARPS 8
// Top-k of at most this many per row (registers hold nothing per k; the bound is for the gate sum).
#define MOE_MAX_TOPK 64

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------- plain GEMM
// moe_sgemm_{nn,nt,tn,tt}(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
//   C [m,n] = alpha * op(A) [m,k] * op(B) [k,n] + beta * C; A stored [m,k] (lda) or [k,m] when
//   transposed (t), B stored [k,n] (ldb) or [n,k] when transposed. beta == 0 ignores C (NaN too).
//   grid (ceil(n/64), ceil(m/64), 1), block 256.

// ---------------------------------------------------------------- grouped expert GEMMs (forward)
// moe_expert_up_swiglu(off, E, d, f, X, W1, W3, A, B, H)
//   per expert e: A_e = X_e·W1_e, B_e = X_e·W3_e [n_e, f]; H_e = silu(A_e) * B_e (fused epilogue).
//   X [S,d], A, B, H [S,f] (A and B are kept for backward). grid (ceil(f/64), ceil(maxN/64), E).
// moe_expert_down(off, E, d, f, H, W2, Y)
//   Y_e [n_e, d] = H_e [n_e, f] · W2_e [f, d]. grid (ceil(d/64), ceil(maxN/64), E).

// ---------------------------------------------------------------- grouped expert GEMMs (backward)
// moe_expert_dh_swiglu_bwd(off, E, d, f, dY, W2, A, B, dA, dB)
//   dH_e = dY_e [n_e,d] · W2_eᵀ [d,f], fused SwiGLU backward: dA = dH*B*silu'(A), dB = dH*silu(A)
//   (written, not accumulated). grid (ceil(f/64), ceil(maxN/64), E).
// moe_expert_dw2(off, E, d, f, H, dY, dW2)
//   dW2_e [f,d] += H_eᵀ [f,n_e] · dY_e [n_e,d] (K = the expert's rows; 0 rows leaves dW2_e as is).
//   grid (ceil(d/64), ceil(f/64), E).
// moe_expert_dw13(off, E, d, f, X, dA, dB, dW1, dW3)
//   dW1_e [d,f] += X_eᵀ · dA_e, dW3_e += X_eᵀ · dB_e (one X tile feeds both). grid (ceil(f/64), ceil(d/64), E).
// moe_expert_dx(off, E, d, f, dA, dB, W1, W3, dX)
//   dX_e [n_e,d] = dA_e · W1_eᵀ + dB_e · W3_eᵀ (written). grid (ceil(d/64), ceil(maxN/64), E).

// ---------------------------------------------------------------- routing
// moe_softmax_topk(x, rows, cols, k, probs, idx, val, do_softmax, renorm)
//   one warp per row: p = softmax(x[r,:]) when do_softmax (else p = x), written to probs [rows,cols]
//   when probs != NULL; idx/val [rows,k] = the k largest p, descending, ties to the lower index;
//   renorm divides the k values by their sum (gates that sum to 1). NaN not allowed.
//   grid ceil(rows/8), block 256.

// ---------------------------------------------------------------- memory-aware routing
// moe_row_norms(x, rows, d, norms)          norms[r] = ||x[r,:]||; grid ceil(rows/8), block 256.
// moe_memory_similarity(x, p, xnorm, pnorm, active, m, T, E, d)
//   m[t,i] = x_t·p_i / max(||x_t||·||p_i||, 1e-8) if active[i] else 0. x [T,d], p [E,d],
//   active int [E], m [T,E]. A GEMM x·pᵀ with the cosine in the epilogue. grid (ceil(E/64), ceil(T/64)).
// moe_memory_sim_coef(xnorm, pnorm, active, m, dm, coef, xcoef, T, E)
//   coef[t,i] = dm/(|x||p|) (or dm/1e-8 where the floor was hit), xcoef[t] = -sum_i dm*m/|x|^2 over
//   unfloored active i. One warp per row. grid ceil(T/8), block 256.
// moe_memory_sim_bwd(coef, p, x, xcoef, dx, T, E, d)
//   dx [T,d] += coef [T,E] · p [E,d] + xcoef[t] * x[t,:]. grid (ceil(d/64), ceil(T/64)).
// moe_buffer_push(buf, head, count, sum, pref, x, experts, kept, T, k, E, cap, d)
//   per expert (block e, threads over d), in token order t then slot j: for each kept slot routed
//   to e, the FIFO ring write of x[t,:] into buf [E,cap,d] at head[e], evicting the oldest when
//   count[e] == cap, keeping sum [E,d] (double) exact to the running add/subtract; finally
//   pref[e,:] = sum/count (0 when empty). grid E, block 128.

// ---------------------------------------------------------------- dispatch / combine
// moe_gather_rows(x, token_of, S, d, xp)           xp[p,:] = x[token_of[p],:]. grid S, block 128.
// moe_combine(y, gates, row_of, T, k, d, out)      out[t,:] = sum_j gates[t,j] * y[row_of[t*k+j],:]
//   over kept slots (row_of >= 0), j ascending; 0 for a token with no kept slot. grid T, block 128.
// moe_combine_bwd(dout, gates, y, token_of, slot_of, S, d, dy, dgates)
//   dy[p,:] = gates[slot_of[p]] * dout[token_of[p],:]; dgates[slot_of[p]] += dot(dout[t], y[p])
//   (one block per packed row, fixed-order reduction). grid S, block 128.
// moe_scatter_add_rows(dxp, row_of, T, k, d, dx)   dx[t,:] += sum_j dxp[row_of[t*k+j],:], j ascending.
//   grid T, block 128.

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
static inline unsigned moe_ceil_div(unsigned a, unsigned b) { return (a + b - 1) / b; }
#endif

#endif // MOELAB_CUDA_H
