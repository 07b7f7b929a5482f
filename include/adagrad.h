/* libadagrad — SIMD-vectorized AdaGrad optimizer kernels.
 * SPDX-License-Identifier: MIT
 *
 * The whole public API. One call updates one tensor for one training step,
 * in place, in a single pass over memory:
 *
 *     s ← s + g ⊙ g
 *     θ ← θ − η · g / (√s + ε)
 *
 * with the best implementation the CPU supports (chosen once, at first use).
 *
 * Numerical contract (per element, in this order):
 *   1. g ← grad, negated when ADAGRAD_MAXIMIZE
 *   2. if weight_decay ≠ 0: g ← fma(weight_decay, θ, g)   (one rounding)
 *   3. s ← fma(g, g, s)                                    (one rounding)
 *   4. d ← √s + ε, or √(s + ε) with ADAGRAD_EPS_INSIDE
 *   5. θ ← θ + (−η·g) / d
 *
 * EXACT (the default): every operation above is one IEEE-754 binary32
 * operation, round-to-nearest-even, in exactly that order. Every
 * implementation gives bitwise identical results, and the same bits as
 * torch.optim.Adagrad's default CPU path (PyTorch 1.13, foreach=False).
 * "Bitwise identical" compares bits, except that any NaN equals any NaN:
 * the sign and payload of a NaN result are not part of the contract.
 * The guarantee assumes the default floating-point environment: round to
 * nearest, no flush-to-zero / denormals-are-zero (the library never changes
 * it; a caller that sets FTZ/DAZ gets whatever the hardware then does).
 *
 * ADAGRAD_FAST: steps 4–5 use the ISA's reciprocal-square-root estimate
 * refined by Newton–Raphson (one fused step: no square root, no division,
 * and θ + Δ is one fma with Δ's last product; faster than EXACT when the
 * data sit in cache — the README has measured figures — and the same speed
 * when memory is the limit). The accumulator s is always EXACT's, bit for
 * bit. The error of θ, measured against the same formula in double
 * precision rounded once to binary32, in ulp of max(|θ_old|, |Δ|) where Δ
 * is the update, is at most (EXACT itself reaches 4 under this metric,
 * where θ_old + Δ crosses into the next binade) — both bounds hold while
 * η·g, g and s (and g·g) stay in binary32's normal range, i.e. neither
 * underflow to subnormals nor overflow; outside it the binary32 formula
 * itself departs from the double one, in EXACT as in FAST (η = 2^-85,
 * g ≈ 2^-60, s = 2^-90: η·g is subnormal and both are ~2.6e5 ulp away;
 * η = 1e30, g = 1e10: η·g overflows to −inf where the double formula is
 * finite):
 *     scalar   FAST is EXACT (plain C has no estimate instruction)
 *     avx2     ADAGRAD_FAST_ULP_AVX2
 *     avx512   ADAGRAD_FAST_ULP_AVX512
 *     neon     ADAGRAD_FAST_ULP_NEON
 *     sve      ADAGRAD_FAST_ULP_SVE (the same at every vector length)
 * FAST's domain: an element takes the estimates only when its accumulator
 * before the step is ≥ +0 (as every AdaGrad accumulator is) and its radicand
 * (s, or s + ε with EPS_INSIDE) lies in [lo, 2^100], lo = 2^-100 — with ε
 * outside the root lo is raised to about 2^26·ε² (2^30·ε² on AVX2), so that
 * ε/√s stays small — and only in calls with lr < 2^100. Every other element
 * (zeros, denormals, infinities, NaN, tiny s against ε) and call is
 * computed the EXACT way, so special values behave in FAST exactly as in
 * EXACT, bit for bit, and FAST never overflows where EXACT does not. Each
 * element's FAST result depends only on that element's inputs, never on its
 * neighbours or on where a call starts: splitting a step
 * (adagrad_split_range) never changes it. FAST results differ between
 * implementations (each has its own estimate instruction).
 *
 * Special values follow IEEE: a NaN or infinite gradient poisons that
 * element exactly as in the scalar reference; ε = 0 with s = 0 gives
 * 0/0 = NaN, as PyTorch does. Denormals are not flushed.
 *
 * Exception flags: a step raises FE_INVALID, FE_DIVBYZERO and FE_OVERFLOW
 * exactly when the scalar reference, doing the contract's operations one
 * element at a time, raises them on the same elements (FE_INEXACT and
 * FE_UNDERFLOW are not part of the promise). Vector lanes past the end of
 * a buffer, and lanes FAST computes the EXACT way, work on safe values, so
 * a trainer running with feenableexcept(FE_INVALID | FE_DIVBYZERO) traps
 * only on elements that are invalid in the reference too (ε = 0 with
 * s = 0 and g = 0 is 0/0 there). A rejected call raises no flag.
 *
 * Errors: every entry point validates all of its arguments before it
 * writes anything. A call that returns a negative status has left every
 * buffer byte-for-byte untouched. Nothing aborts, prints (except the one
 * ADAGRAD_ISA warning described below), or allocates.
 */
#ifndef ADAGRAD_H
#define ADAGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; only these names are exported. */
#if defined(__GNUC__)
#define ADAGRAD_API __attribute__((visibility("default")))
#else
#define ADAGRAD_API
#endif

#define ADAGRAD_VERSION_MAJOR 0
#define ADAGRAD_VERSION_MINOR 1
#define ADAGRAD_VERSION_PATCH 0

/* ---- Status codes: 0 is success, errors are negative and distinct. ---- */
enum {
    ADAGRAD_OK = 0,
    ADAGRAD_ERR_NULL = -1,    /* a required pointer is NULL (options, or a buffer with n > 0) */
    ADAGRAD_ERR_PARAM = -2,   /* a hyper-parameter is NaN, infinite or negative, or a flag bit is unknown */
    ADAGRAD_ERR_OVERLAP = -3, /* two buffers share at least one byte (aliasing or partial overlap) */
    ADAGRAD_ERR_RANGE = -4,   /* an index is out of range (sparse entry points) */
    ADAGRAD_ERR_SIZE = -5,    /* an element count whose byte size overflows size_t or the address space */
    ADAGRAD_ERR_ISA = -6      /* an implementation that is unknown, not compiled in, or not supported by this CPU/OS */
};

/* A short, static, human-readable name for a status ("ADAGRAD_ERR_NULL: ..."),
 * never NULL; an unknown value gives "unknown adagrad status". */
ADAGRAD_API const char *adagrad_strerror(int status);

/* ---- Flags (adagrad_options.flags). Unknown bits are ADAGRAD_ERR_PARAM. ---- */
#define ADAGRAD_MAXIMIZE 0x1u   /* ascend: the gradient is negated first */
#define ADAGRAD_EPS_INSIDE 0x2u /* d = √(s + ε) instead of √s + ε */
#define ADAGRAD_FAST 0x4u       /* estimates + Newton–Raphson; see the bounds above */
#define ADAGRAD_ALL_FLAGS (ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE | ADAGRAD_FAST)

/* Measured worst-case FAST error per implementation, in ulp (see above).
 * The test suite enforces these bounds on every run. */
#define ADAGRAD_FAST_ULP_AVX2 4
#define ADAGRAD_FAST_ULP_AVX512 4
#define ADAGRAD_FAST_ULP_NEON 4
#define ADAGRAD_FAST_ULP_SVE 4

/* Hyper-parameters of one step. A zero field means "off / default".
 * lr (η): the step's learning rate after any decay; finite, ≥ 0.
 * eps (ε): finite, ≥ 0 (PyTorch's default is 1e-10).
 * weight_decay (λ): coupled L2 decay, finite, ≥ 0.
 * flags: a combination of the ADAGRAD_* flags above. */
typedef struct adagrad_options {
    float lr;
    float eps;
    float weight_decay;
    unsigned flags;
} adagrad_options;

/* One dense AdaGrad step over n float32 elements, in place:
 * param (θ) and sum (s) are read and written, grad (g) is only read.
 * The three buffers must not overlap. Any alignment of float is fine.
 *
 * Returns ADAGRAD_OK, or before writing anything:
 *   ADAGRAD_ERR_NULL    opt is NULL, or a buffer is NULL while n > 0
 *   ADAGRAD_ERR_PARAM   lr / eps / weight_decay NaN, infinite or < 0; unknown flag bits
 *   ADAGRAD_ERR_SIZE    n * sizeof(float) overflows, or a buffer would wrap the address space
 *   ADAGRAD_ERR_OVERLAP two of the buffers share a byte
 * n = 0 is a no-op that succeeds whatever the pointers (opt, when given, is
 * still validated). */
ADAGRAD_API int adagrad_step_f32(float *param, float *sum, const float *grad, size_t n,
                     const adagrad_options *opt);

/* PyTorch's learning-rate decay: lr / (1 + (step - 1) * lr_decay), step
 * counted from 1, evaluated in double. Pass (float) of the result as
 * adagrad_options.lr. Returns NaN (which adagrad_step_f32 then rejects) for
 * step 0, or lr / lr_decay negative or not finite. */
ADAGRAD_API double adagrad_decayed_lr(double lr, double lr_decay, uint64_t step);

/* ---- One step across several threads ----
 * The dense step is element-wise, so it splits freely: calling
 * adagrad_step_f32 on disjoint ranges (from any threads, at the same time)
 * gives exactly the bits of one call over the whole tensor, in EXACT and in
 * FAST. Two ways to use that:
 *   - your own thread pool: part i of P calls adagrad_split_range(n, P, i,
 *     &begin, &count) and steps param + begin, sum + begin, grad + begin,
 *     count. Boundaries fall on multiples of ADAGRAD_SPLIT_ALIGN elements
 *     (64 bytes), so two threads never write the same cache line when the
 *     buffers are 64-byte aligned;
 *   - adagrad_step_f32_mt, which does that on an OpenMP team.
 * One thread saturates about half of a typical DRAM channel's bandwidth, so
 * for DRAM-sized tensors a few threads help; for tensors that fit in cache,
 * one thread per core's share of the tensor is what helps. */
#define ADAGRAD_SPLIT_ALIGN 16

/* Range `index` of n elements split into `parts` near-equal ranges (in units
 * of ADAGRAD_SPLIT_ALIGN elements; a range may be empty when n is small).
 * The ranges follow each other in index order and never grow with the index:
 * the last one is the smallest. ADAGRAD_ERR_NULL if begin or count is NULL,
 * ADAGRAD_ERR_PARAM if parts is 0 or index ≥ parts; nothing is written then. */
ADAGRAD_API int adagrad_split_range(size_t n, size_t parts, size_t index, size_t *begin,
                                    size_t *count);

/* adagrad_step_f32 split into up to `threads` parts on an OpenMP team of a
 * fixed size T, adagrad_max_threads(). Bitwise identical to one
 * adagrad_step_f32 call; the same validation and statuses, checked once
 * before any thread writes.
 *
 * threads ≤ 0 or > T asks for T parts. The part count is then lowered to at
 * most n / ADAGRAD_MT_MIN_ELEMENTS, and further until the smallest part (the
 * last of adagrad_split_range(n, parts, …)) has at least
 * ADAGRAD_MT_MIN_ELEMENTS elements. With one part the step runs on the
 * calling thread, without entering a parallel region; otherwise every call
 * runs on all T threads of the team, and the members beyond the part count
 * have no work. In a library built without OpenMP (meson -Dopenmp=disabled)
 * T is 1 and every step runs on the calling thread.
 *
 * Allocation and threads: the OpenMP runtime creates the team (allocating
 * and starting T − 1 threads) at the first call that splits, made from a
 * given thread; after it no call from that thread allocates or creates
 * threads, whatever n and `threads`. libgomp keeps one team per calling
 * thread, cached only for the size of the last region, so this holds as long
 * as the caller's own OpenMP regions on that thread in between use T threads
 * too (the default, unless omp_set_num_threads or num_threads changes it); a
 * region of another size makes the next call rebuild the team. Called from
 * inside a parallel region, the call's region is nested, and libgomp
 * allocates a team for it on every such call. */
#define ADAGRAD_MT_MIN_ELEMENTS 65536
ADAGRAD_API int adagrad_step_f32_mt(float *param, float *sum, const float *grad, size_t n,
                                    const adagrad_options *opt, int threads);

/* T, the size of adagrad_step_f32_mt's team: omp_get_max_threads() as the
 * first thread to call adagrad_step_f32_mt or this function sees it, read
 * once and fixed for the process (1 without OpenMP). */
ADAGRAD_API int adagrad_max_threads(void);

/* ---- Sparse and row-wise steps (embedding tables) ----
 *
 * table is rows × dim floats, row-major; grads is n_indices × dim floats;
 * gradient row k belongs to table row indices[k]. Only the rows named by
 * indices are read or written. The _i32 variants take int32_t indices.
 *
 * adagrad_sparse_step_f32: every element of a touched row follows the
 * dense contract above with its own accumulator in sum (rows × dim). In
 * EXACT it is bitwise the dense kernel applied row by row (the
 * implementation calls the active row's dense kernel once per index), so
 * it gives the same bits on every implementation; FAST has the dense
 * bounds.
 *
 * adagrad_rowwise_step_f32: one accumulator per row, row_sum (rows floats).
 * For a touched row r with gradient row grad (steps 1–2 of the contract
 * give g_j = fma(λ, θ_j, ±grad_j)):
 *     m = mean_j g_j²        in the canonical order below
 *     s = row_sum[r] + m     (one rounding)
 *     d = √s + ε, or √(s + ε) with ADAGRAD_EPS_INSIDE
 *     θ_j ← θ_j + (−η·g_j) / d      for every j
 * Canonical order of m (every implementation follows it, so row-wise is
 * bitwise identical on every ISA): 16 partial sums p[0..15] start at +0;
 * for j = 0, 1, …, dim−1 in order, p[j mod 16] ← fma(g_j, g_j, p[j mod 16]);
 * then a fixed tree: p[k] += p[k+8] (k < 8), p[k] += p[k+4] (k < 4),
 * p[k] += p[k+2] (k < 2), p[0] += p[1]; then m = p[0] / (float)dim (one
 * binary32 division). ADAGRAD_FAST has no effect on the row-wise step
 * (one square root per row costs nothing next to the row's memory
 * traffic): it gives EXACT's bits.
 *
 * Duplicate indices:
 *   default                  sequential (FBGEMM's, TensorFlow's): occurrences
 *                            are applied in index-list order, each a full
 *                            step that sees the result of the previous one.
 *   ADAGRAD_SUM_DUPLICATES   PyTorch's: the gradient rows of one table row
 *                            are summed first, in index-list order
 *                            (((g_a + g_b) + g_c)…, one binary32 addition
 *                            each, as torch's coalesce), then one step per
 *                            distinct row (weight decay applied once, with
 *                            the row's θ before the step). It needs a
 *                            caller-provided workspace (no allocation on
 *                            the hot path): the _ws entry points below.
 * Rows never depend on each other, so the order in which distinct rows are
 * processed does not change any result, and results never depend on the
 * implementation (in EXACT) or on anything but the arguments.
 *
 * ADAGRAD_TORCH_SPARSE (sparse step only, with or without
 * SUM_DUPLICATES): torch.optim.Adagrad's sparse path (PyTorch 1.13:
 * grad.coalesce(); sum.add_(values.pow(2)); std = sum.sqrt().add_(eps);
 * param.add_(values / std, alpha=−clr)) rounds differently from the
 * contract: per element
 *     s = s + fl(g·g)             (two roundings, not an fma)
 *     d = √s + ε  (or √(s + ε))
 *     θ = fma(fl(g / d), −η, θ)   (divide first; torch's add_ with alpha
 *                                  is one fused multiply-add, measured)
 * With this flag the sparse step uses exactly that order (portable C,
 * identical bits on every implementation) and reproduces
 * nn.Embedding(sparse=True) + torch.optim.Adagrad bit for bit together
 * with ADAGRAD_SUM_DUPLICATES (tests/gen_torch_sparse.py records it;
 * without the flag, the contract's rounding drifts from torch's by a few
 * ulp of s and up to ~100 ulp of θ where θ cancels towards 0). One limit:
 * a row named three or more times in one step is summed by torch in the
 * order of coalesce()'s index sort, which is neither list order nor stable
 * (measured), so there the summed gradient can differ from torch's in its
 * last bits; rows named once or twice match exactly (a + b commutes).
 * Torch rejects weight decay on sparse gradients; here step 2 of the
 * contract applies.
 * It cannot be combined with ADAGRAD_FAST or the row-wise step
 * (ADAGRAD_ERR_PARAM).
 *
 * Validation, all before the first write (an error leaves every byte of
 * every buffer untouched — all rows or none):
 *   ADAGRAD_ERR_NULL    opt NULL; a buffer NULL while n_indices > 0;
 *                       SUM_DUPLICATES with a NULL workspace (n_indices > 0)
 *   ADAGRAD_ERR_PARAM   as the dense step; unknown flags (the sparse flags
 *                       are ADAGRAD_SPARSE_FLAGS); TORCH_SPARSE with FAST or
 *                       with the row-wise step
 *   ADAGRAD_ERR_SIZE    rows × dim or n_indices × dim overflows (as bytes),
 *                       a buffer would wrap the address space, or the
 *                       workspace is smaller than adagrad_sparse_workspace_bytes
 *   ADAGRAD_ERR_OVERLAP any two of table, sum / row_sum, grads, indices
 *                       (and the workspace, when used) share a byte
 *   ADAGRAD_ERR_RANGE   some index < 0 or ≥ rows (every index is checked
 *                       before any row is written)
 * n_indices = 0 is a no-op that succeeds (opt, when given, is validated).
 * dim = 0 with n_indices > 0 checks everything and writes nothing.
 *
 * Software prefetch: while row indices[k] is updated, the table and
 * accumulator rows of indices[k + distance] are prefetched (every ISA).
 * adagrad_set_prefetch_distance sets the distance in rows for the whole
 * process: 0 is off; ADAGRAD_PREFETCH_AUTO (the default) keeps about 2 KiB
 * of table rows in flight, clamp(512 / dim, 1, 32) rows: far enough ahead
 * to hide memory latency on tables past the LLC, near enough that the rows
 * are still in cache when their turn comes. The best distance depends on
 * the machine (bench_sparse --prefetch=N measures others). It never
 * changes a result.
 */
#define ADAGRAD_SUM_DUPLICATES 0x8u  /* sparse/row-wise: PyTorch's duplicate semantics */
#define ADAGRAD_TORCH_SPARSE 0x10u   /* sparse: torch's sparse rounding order */
#define ADAGRAD_SPARSE_FLAGS (ADAGRAD_ALL_FLAGS | ADAGRAD_SUM_DUPLICATES | ADAGRAD_TORCH_SPARSE)
#define ADAGRAD_PREFETCH_AUTO SIZE_MAX

ADAGRAD_API int adagrad_sparse_step_f32(float *table, float *sum, size_t rows, size_t dim,
                                        const int64_t *indices, const float *grads, size_t n_indices,
                                        const adagrad_options *opt);
ADAGRAD_API int adagrad_sparse_step_i32(float *table, float *sum, size_t rows, size_t dim,
                                        const int32_t *indices, const float *grads, size_t n_indices,
                                        const adagrad_options *opt);
ADAGRAD_API int adagrad_rowwise_step_f32(float *table, float *row_sum, size_t rows, size_t dim,
                                         const int64_t *indices, const float *grads, size_t n_indices,
                                         const adagrad_options *opt);
ADAGRAD_API int adagrad_rowwise_step_i32(float *table, float *row_sum, size_t rows, size_t dim,
                                         const int32_t *indices, const float *grads, size_t n_indices,
                                         const adagrad_options *opt);

/* Bytes of workspace ADAGRAD_SUM_DUPLICATES needs for n_indices indices of
 * rows of dim floats: n_indices size_t's (a sort permutation) plus dim
 * floats (one summed gradient row), plus alignment slack, so any pointer
 * (malloc's, or a char array) will do. SIZE_MAX when that overflows. */
ADAGRAD_API size_t adagrad_sparse_workspace_bytes(size_t n_indices, size_t dim);

/* The four steps with a workspace (workspace, workspace_bytes). It is used
 * only with ADAGRAD_SUM_DUPLICATES — then it must be large enough, must not
 * overlap any other buffer, and its contents afterwards are unspecified;
 * without the flag it is ignored (NULL is fine). Duplicates are found by a
 * heap sort of the permutation (index, position) in the workspace:
 * O(n log n) time, no allocation; the caller's buffers other than table
 * and sum / row_sum are never written. The plain entry points above are
 * these with (NULL, 0): with ADAGRAD_SUM_DUPLICATES they return
 * ADAGRAD_ERR_NULL. */
ADAGRAD_API int adagrad_sparse_step_ws_f32(float *table, float *sum, size_t rows, size_t dim,
                                           const int64_t *indices, const float *grads, size_t n_indices,
                                           const adagrad_options *opt, void *workspace,
                                           size_t workspace_bytes);
ADAGRAD_API int adagrad_sparse_step_ws_i32(float *table, float *sum, size_t rows, size_t dim,
                                           const int32_t *indices, const float *grads, size_t n_indices,
                                           const adagrad_options *opt, void *workspace,
                                           size_t workspace_bytes);
ADAGRAD_API int adagrad_rowwise_step_ws_f32(float *table, float *row_sum, size_t rows, size_t dim,
                                            const int64_t *indices, const float *grads, size_t n_indices,
                                            const adagrad_options *opt, void *workspace,
                                            size_t workspace_bytes);
ADAGRAD_API int adagrad_rowwise_step_ws_i32(float *table, float *row_sum, size_t rows, size_t dim,
                                            const int32_t *indices, const float *grads, size_t n_indices,
                                            const adagrad_options *opt, void *workspace,
                                            size_t workspace_bytes);

/* The prefetch distance in rows, or ADAGRAD_PREFETCH_AUTO (see above);
 * returns the previous setting. */
ADAGRAD_API size_t adagrad_set_prefetch_distance(size_t rows);

/* ---- Implementations and dispatch ---- */
typedef enum adagrad_isa {
    ADAGRAD_ISA_SCALAR, /* portable C, the reference */
    ADAGRAD_ISA_AVX2,   /* x86-64 AVX2 + FMA */
    ADAGRAD_ISA_AVX512, /* x86-64 AVX-512F */
    ADAGRAD_ISA_NEON,   /* AArch64 Advanced SIMD */
    ADAGRAD_ISA_SVE,    /* AArch64 SVE, any vector length (128 to 2048 bits) */
    ADAGRAD_ISA_COUNT
} adagrad_isa;

/* "scalar", "avx2", "avx512", "neon", "sve"; NULL for a value out of range. */
ADAGRAD_API const char *adagrad_isa_name(adagrad_isa isa);

/* True when the implementation is compiled into this library and this CPU
 * and OS support it (x86: CPUID and XGETBV; AArch64: getauxval). */
ADAGRAD_API bool adagrad_isa_available(adagrad_isa isa);

/* The implementation adagrad_step_f32 uses now. The first call of any
 * function of the library picks it, once, thread-safely: the best available,
 * or the one named by the environment variable ADAGRAD_ISA
 * (scalar|avx2|avx512|neon|sve). An unknown or unavailable name falls back to
 * the best and is reported once on stderr. */
ADAGRAD_API adagrad_isa adagrad_active_isa(void);

/* Switch the implementation for the whole process. ADAGRAD_ERR_ISA when
 * unknown or unavailable (the active one is then unchanged). Thread-safe:
 * a step already running in another thread finishes with the implementation
 * it started with; steps started after the switch use the new one. Since
 * EXACT results are bitwise identical across implementations, switching
 * never changes an EXACT result. */
ADAGRAD_API int adagrad_use_isa(adagrad_isa isa);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_H */
