/* libadagrad — SIMD-vectorized AdaGrad optimizer kernels.
 * SPDX-License-Identifier: MIT
 *
 * The whole public API. One call updates one tensor (or the touched rows of
 * an embedding table) for one training step, in place, in a single pass over
 * memory:
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
 * (adagrad_split_range, adagrad_step_mt) never changes it. FAST results
 * differ between implementations (each has its own estimate instruction).
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
 * ADAGRAD_ISA warning described at adagrad_active_isa), or allocates.
 *
 * Thread safety: every step may run concurrently with any other call of
 * the library, as long as no buffer one call writes is read or written by
 * another at the same time (the usual rule for memory). The library has no
 * per-call state; its only process-wide settings are the active
 * implementation (adagrad_use_isa) and the prefetch distance
 * (adagrad_set_prefetch_distance), both atomic.
 *
 * This header: status codes and flags; the types; the dense step; the table
 * (sparse and row-wise) steps; implementations and dispatch; the v0.1 entry
 * points, each a wrapper over the general ones.
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
#define ADAGRAD_VERSION_MINOR 2
#define ADAGRAD_VERSION_PATCH 0

/*======  Status codes  ======*/

/* 0 is success; errors are negative and distinct. */
enum {
    ADAGRAD_OK = 0,
    ADAGRAD_ERR_NULL = -1,    /* a required pointer is NULL (options, a descriptor, or a buffer with elements) */
    ADAGRAD_ERR_PARAM = -2,   /* a hyper-parameter is NaN, infinite or negative; a flag, type or input the call does not take */
    ADAGRAD_ERR_OVERLAP = -3, /* two buffers share at least one byte (aliasing or partial overlap) */
    ADAGRAD_ERR_RANGE = -4,   /* an index is out of range (table steps) */
    ADAGRAD_ERR_SIZE = -5,    /* a byte size overflows size_t or the address space; a workspace too small */
    ADAGRAD_ERR_ISA = -6      /* an implementation that is unknown, not compiled in, or not supported by this CPU/OS */
};

/* adagrad_strerror: a short, static, human-readable name for a status
 * ("ADAGRAD_ERR_NULL: ..."), never NULL; an unknown value gives
 * "unknown adagrad status". Thread-safe. */
ADAGRAD_API const char *adagrad_strerror(int status);

/*======  Flags (adagrad_options.flags)  ======*/

/* A bit the entry point does not take is ADAGRAD_ERR_PARAM there. */
#define ADAGRAD_MAXIMIZE 0x1u             /* ascend: the gradient is negated first */
#define ADAGRAD_EPS_INSIDE 0x2u           /* d = √(s + ε) instead of √s + ε */
#define ADAGRAD_FAST 0x4u                 /* estimates + Newton–Raphson; see the bounds above */
#define ADAGRAD_SUM_DUPLICATES 0x8u       /* table steps: PyTorch's duplicate semantics */
#define ADAGRAD_TORCH_SPARSE 0x10u        /* table steps: torch's sparse rounding order */
#define ADAGRAD_STOCHASTIC_ROUNDING 0x20u /* bf16/f16 stores round stochastically; f32 ignores it */
#define ADAGRAD_ROWWISE 0x40u             /* table steps: one accumulator per row */
#define ADAGRAD_POOL_MEAN 0x80u           /* bag steps: mean pooling (default sum) */

/* What each kind of step takes. ADAGRAD_ALL_FLAGS is v0.1's name for the
 * dense set. */
#define ADAGRAD_DENSE_FLAGS (ADAGRAD_MAXIMIZE | ADAGRAD_EPS_INSIDE | ADAGRAD_FAST | ADAGRAD_STOCHASTIC_ROUNDING)
#define ADAGRAD_ALL_FLAGS ADAGRAD_DENSE_FLAGS
#define ADAGRAD_SPARSE_FLAGS \
    (ADAGRAD_DENSE_FLAGS | ADAGRAD_SUM_DUPLICATES | ADAGRAD_TORCH_SPARSE | ADAGRAD_ROWWISE | ADAGRAD_POOL_MEAN)

/* Measured worst-case FAST error per implementation, in ulp (see above).
 * The test suite enforces these bounds on every run. */
#define ADAGRAD_FAST_ULP_AVX2 4
#define ADAGRAD_FAST_ULP_AVX512 4
#define ADAGRAD_FAST_ULP_NEON 4
#define ADAGRAD_FAST_ULP_SVE 4

/*======  Types  ======*/

/* Element types of parameters, tables and gradients. This version steps
 * ADAGRAD_F32 only: a BF16 or F16 parameter or table is ADAGRAD_ERR_PARAM
 * (nothing written) until the low-precision steps land. */
typedef enum adagrad_dtype { ADAGRAD_F32 = 0, ADAGRAD_BF16 = 1, ADAGRAD_F16 = 2 } adagrad_dtype;

/* Index (and bag offset) types of the table steps. */
typedef enum adagrad_itype { ADAGRAD_I64 = 0, ADAGRAD_I32 = 1 } adagrad_itype;

/* Hyper-parameters of one step. A zero field means "off / default", so
 * `adagrad_options opt = {.lr = 0.01f, .eps = 1e-10f};` is a plain step.
 *   lr (η)             the step's learning rate after any decay; finite, ≥ 0
 *   eps (ε)            finite, ≥ 0 (PyTorch's default is 1e-10)
 *   weight_decay (λ)   coupled L2 decay; finite, ≥ 0
 *   flags              ADAGRAD_* flags the entry point takes
 *   seed, step         ADAGRAD_STOCHASTIC_ROUNDING: the stream's seed and the
 *                      training step (each step draws new bits); otherwise
 *                      ignored */
typedef struct adagrad_options {
    float lr;
    float eps;
    float weight_decay;
    unsigned flags;
    uint64_t seed;
    uint64_t step;
} adagrad_options;

/*======  The dense step  ======*/

/* One tensor of n elements: param (θ) and sum (s) are read and written,
 * grad (g) is only read. Any alignment of the element type is fine; the
 * three buffers must not overlap. Zero-initialised type fields mean fp32. */
typedef struct adagrad_dense {
    void *param;              /* n elements of param_type */
    float *sum;               /* n floats */
    const void *grad;         /* n elements of grad_type */
    size_t n;
    adagrad_dtype param_type; /* F32 (default); BF16, F16: ADAGRAD_ERR_PARAM in this version */
    adagrad_dtype grad_type;  /* F32, or param_type */
    uint64_t first_index;     /* stochastic rounding: index of element 0 in the whole tensor */
} adagrad_dense;

/* adagrad_step: one AdaGrad step of tensor t, in place, with the active
 * implementation (adagrad_active_isa).
 *
 * Returns ADAGRAD_OK, or before writing anything:
 *   ADAGRAD_ERR_NULL     t or opt is NULL; a buffer is NULL while n > 0
 *   ADAGRAD_ERR_PARAM    lr / eps / weight_decay NaN, infinite or < 0; a flag
 *                        outside ADAGRAD_DENSE_FLAGS; param_type not an
 *                        adagrad_dtype or not F32 (this version); grad_type
 *                        neither F32 nor param_type
 *   ADAGRAD_ERR_SIZE     n elements' bytes overflow, or a buffer would wrap
 *                        the address space
 *   ADAGRAD_ERR_OVERLAP  two of the buffers share a byte
 * n = 0 is a no-op that succeeds whatever the pointers (t is required; its
 * types and opt, when given, are still validated).
 *
 * Thread safety: concurrent calls on disjoint tensors are fine; so are
 * calls on disjoint ranges of one tensor, which give exactly the bits of
 * one call over the whole (below). */
ADAGRAD_API int adagrad_step(const adagrad_dense *t, const adagrad_options *opt);

/* adagrad_step_mt: adagrad_step split into up to `threads` parts on an
 * OpenMP team of a fixed size T, adagrad_max_threads(). Bitwise identical
 * to one adagrad_step call; the same validation and statuses, checked once
 * before any thread writes.
 *
 * threads ≤ 0 or > T asks for T parts. The part count is then lowered to
 * at most n / ADAGRAD_MT_MIN_ELEMENTS, and further until the smallest part
 * (the last of adagrad_split_range(n, parts, …)) has at least
 * ADAGRAD_MT_MIN_ELEMENTS elements. With one part the step runs on the
 * calling thread, without entering a parallel region; otherwise every call
 * runs on all T threads of the team, and the members beyond the part count
 * have no work. In a library built without OpenMP (meson -Dopenmp=disabled)
 * T is 1 and every step runs on the calling thread. One thread streams
 * about half of a typical DRAM channel's bandwidth, so DRAM-sized tensors
 * gain from a few threads; cache-sized ones from one thread per core's
 * share of the tensor.
 *
 * Allocation and threads: the OpenMP runtime creates the team (allocating
 * and starting T − 1 threads) at the first call that splits, made from a
 * given thread; after it no call from that thread allocates or creates
 * threads, whatever n and `threads`. libgomp keeps one team per calling
 * thread, cached only for the size of the last region, so this holds as
 * long as the caller's own OpenMP regions on that thread in between use T
 * threads too (the default, unless omp_set_num_threads or num_threads
 * changes it); a region of another size makes the next call rebuild the
 * team. Called from inside a parallel region, the call's region is nested,
 * and libgomp allocates a team for it on every such call. */
#define ADAGRAD_MT_MIN_ELEMENTS 65536
ADAGRAD_API int adagrad_step_mt(const adagrad_dense *t, const adagrad_options *opt, int threads);

/* adagrad_max_threads: T, the size of adagrad_step_mt's team:
 * omp_get_max_threads() as the first thread to call a _mt step or this
 * function sees it, read once and fixed for the process (1 without
 * OpenMP). Thread-safe. */
ADAGRAD_API int adagrad_max_threads(void);

/* adagrad_split_range: for your own thread pool. The dense step is
 * element-wise, so adagrad_step on disjoint ranges (from any threads, at
 * the same time) gives exactly the bits of one call over the whole tensor,
 * in EXACT and in FAST. Part `index` of `parts` steps the elements
 * [*begin, *begin + *count) (with first_index advanced by *begin).
 * Boundaries fall on multiples of ADAGRAD_SPLIT_ALIGN elements (64 bytes of
 * fp32), so two threads never write the same cache line when the buffers
 * are 64-byte aligned; a range may be empty when n is small. The ranges
 * follow each other in index order and never grow with the index: the last
 * one is the smallest.
 * Returns ADAGRAD_OK; ADAGRAD_ERR_NULL if begin or count is NULL;
 * ADAGRAD_ERR_PARAM if parts is 0 or index ≥ parts (nothing written then).
 * Thread-safe. */
#define ADAGRAD_SPLIT_ALIGN 16
ADAGRAD_API int adagrad_split_range(size_t n, size_t parts, size_t index, size_t *begin, size_t *count);

/* adagrad_decayed_lr: PyTorch's learning-rate decay, lr / (1 + (step − 1) ·
 * lr_decay), step counted from 1, evaluated in double. Pass (float) of the
 * result as adagrad_options.lr. Returns NaN (which the steps then reject)
 * for step 0, or lr / lr_decay negative or not finite. Thread-safe. */
ADAGRAD_API double adagrad_decayed_lr(double lr, double lr_decay, uint64_t step);

/*======  Table steps (embedding tables): sparse and row-wise  ======
 *
 * table is rows × dim elements, row-major; grads holds one row of dim
 * elements per index; gradient row k belongs to table row indices[k]. Only
 * the rows named by indices are read or written.
 *
 * Element-wise state (the default): sum is rows × dim floats, and every
 * element of a touched row follows the dense contract above with its own
 * accumulator. In EXACT it is bitwise the dense step applied row by row
 * (the same kernel runs on each row), so it gives the same bits on every
 * implementation; FAST has the dense bounds.
 *
 * ADAGRAD_ROWWISE: one accumulator per row, sum is rows floats. For a
 * touched row r with gradient row grad (steps 1–2 of the contract give
 * g_j = fma(λ, θ_j, ±grad_j)):
 *     m = mean_j g_j²        in the canonical order below
 *     s = sum[r] + m         (one rounding)
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
 *                            the row's θ before the step). It needs the
 *                            caller's workspace (adagrad_sparse_workspace):
 *                            duplicates are grouped by a stable radix sort
 *                            of the positions by index there (one pass per
 *                            byte of rows − 1), no allocation; its contents
 *                            afterwards are unspecified.
 * Rows never depend on each other, so the order in which distinct rows are
 * processed does not change any result, and results never depend on the
 * implementation (in EXACT) or on anything but the arguments.
 *
 * ADAGRAD_TORCH_SPARSE (element-wise state only, with or without
 * SUM_DUPLICATES): torch.optim.Adagrad's sparse path (PyTorch 1.13:
 * grad.coalesce(); sum.add_(values.pow(2)); std = sum.sqrt().add_(eps);
 * param.add_(values / std, alpha=−clr)) rounds differently from the
 * contract: per element
 *     s = s + fl(g·g)             (two roundings, not an fma)
 *     d = √s + ε  (or √(s + ε))
 *     θ = fma(fl(g / d), −η, θ)   (divide first; torch's add_ with alpha
 *                                  is one fused multiply-add, measured)
 * With this flag the step uses exactly that order (portable C, identical
 * bits on every implementation) and reproduces nn.Embedding(sparse=True) +
 * torch.optim.Adagrad bit for bit together with ADAGRAD_SUM_DUPLICATES
 * (without the flag, the contract's rounding drifts from torch's by a few
 * ulp of s and up to ~100 ulp of θ where θ cancels towards 0). One limit: a
 * row named three or more times in one step is summed by torch in the
 * order of coalesce()'s index sort, which is neither list order nor stable
 * (measured), so there the summed gradient can differ from torch's in its
 * last bits; rows named once or twice match exactly (a + b commutes).
 * Torch rejects weight decay on sparse gradients; here step 2 of the
 * contract applies. It cannot be combined with ADAGRAD_FAST or
 * ADAGRAD_ROWWISE (ADAGRAD_ERR_PARAM).
 *
 * Software prefetch: while row indices[k] is updated, the table and
 * accumulator rows of indices[k + distance] are prefetched (every ISA).
 * adagrad_set_prefetch_distance sets the distance. It never changes a
 * result.
 */

/* A table step's arguments. Zero-initialised fields mean v0.1's behaviour:
 * fp32 table and gradients, int64 indices, no bags, no workspace. */
typedef struct adagrad_sparse {
    void *table;              /* rows × dim elements of table_type, row-major */
    float *sum;               /* rows × dim floats; rows floats with ADAGRAD_ROWWISE */
    size_t rows, dim;
    adagrad_dtype table_type; /* F32 (default); BF16, F16: ADAGRAD_ERR_PARAM in this version */
    const void *indices;      /* n_indices values of index_type */
    size_t n_indices;
    adagrad_itype index_type; /* I64 (default), I32 */
    const void *grads;        /* n_indices × dim elements of grad_type; n_bags × dim with offsets */
    adagrad_dtype grad_type;  /* F32, or table_type */
    const void *offsets;      /* bags: n_bags + 1 values of index_type, or NULL (bags:
                                 ADAGRAD_ERR_PARAM in this version) */
    size_t n_bags;
    const float *per_sample_weights; /* bags, sum pooling: n_indices floats, or NULL */
    void *workspace;          /* ADAGRAD_SUM_DUPLICATES; never allocated by the library */
    size_t workspace_bytes;
} adagrad_sparse;

/* adagrad_sparse_step: one AdaGrad step of the rows of t->table named by
 * t->indices, in place, with the active implementation: element-wise state,
 * or row-wise with ADAGRAD_ROWWISE (see above).
 *
 * Returns ADAGRAD_OK, or before writing anything (all rows or none):
 *   ADAGRAD_ERR_NULL     t or opt NULL; table, sum, indices or grads NULL
 *                        while n_indices > 0; SUM_DUPLICATES with a NULL
 *                        workspace (n_indices > 0)
 *   ADAGRAD_ERR_PARAM    as the dense step; a flag outside
 *                        ADAGRAD_SPARSE_FLAGS; TORCH_SPARSE with FAST or
 *                        ROWWISE; table_type not F32 (this version),
 *                        grad_type neither F32 nor table_type, index_type
 *                        not an adagrad_itype; offsets given (bags, this
 *                        version), or n_bags, per_sample_weights or
 *                        POOL_MEAN without offsets
 *   ADAGRAD_ERR_SIZE     rows × dim or n_indices × dim overflows (as bytes),
 *                        a buffer would wrap the address space, or the
 *                        workspace is smaller than adagrad_sparse_workspace
 *   ADAGRAD_ERR_OVERLAP  any two of table, sum, grads, indices (and the
 *                        workspace, when used) share a byte
 *   ADAGRAD_ERR_RANGE    some index < 0 or ≥ rows (every index is checked
 *                        before any row is written)
 * n_indices = 0 is a no-op that succeeds (t is required; opt, when given,
 * the types and the bag inputs are still validated). dim = 0 with n_indices > 0 checks
 * everything and writes nothing. The caller's buffers other than table and
 * sum (and the workspace) are never written.
 *
 * Thread safety: concurrent calls must not share a table, sum or workspace
 * (indices and grads are only read). */
ADAGRAD_API int adagrad_sparse_step(const adagrad_sparse *t, const adagrad_options *opt);

/* adagrad_sparse_step_mt: the table step on `threads` threads, with exactly
 * the one-thread bits. Not yet in this version: a call that passes
 * adagrad_sparse_step's validation returns ADAGRAD_ERR_PARAM and writes
 * nothing; every other status is adagrad_sparse_step's. */
ADAGRAD_API int adagrad_sparse_step_mt(const adagrad_sparse *t, const adagrad_options *opt, int threads);

/* adagrad_sparse_workspace: the bytes of workspace a call with t, opt and
 * `threads` needs: with ADAGRAD_SUM_DUPLICATES, 2·n_indices + 256
 * size_t's (the radix sort's positions and counts) plus dim floats (one
 * summed gradient row) plus alignment slack, so any pointer (malloc's, or a
 * char array) will do; 0 without it. SIZE_MAX when that overflows, or t or opt is NULL. Reads only
 * t->n_indices, t->dim and opt->flags. Thread-safe. */
ADAGRAD_API size_t adagrad_sparse_workspace(const adagrad_sparse *t, const adagrad_options *opt, int threads);

/* adagrad_set_prefetch_distance: the table steps' prefetch distance in rows
 * for the whole process: 0 is off; ADAGRAD_PREFETCH_AUTO (the default)
 * keeps about 2 KiB of table rows in flight, clamp(512 / dim, 1, 32) rows:
 * far enough ahead to hide memory latency on tables past the LLC, near
 * enough that the rows are still in cache when their turn comes. The best
 * distance depends on the machine (bench_sparse --prefetch=N measures
 * others). Returns the previous setting. Thread-safe (atomic). */
#define ADAGRAD_PREFETCH_AUTO SIZE_MAX
ADAGRAD_API size_t adagrad_set_prefetch_distance(size_t rows);

/*======  Implementations and dispatch  ======*/

typedef enum adagrad_isa {
    ADAGRAD_ISA_SCALAR, /* portable C, the reference */
    ADAGRAD_ISA_AVX2,   /* x86-64 AVX2 + FMA */
    ADAGRAD_ISA_AVX512, /* x86-64 AVX-512F */
    ADAGRAD_ISA_NEON,   /* AArch64 Advanced SIMD */
    ADAGRAD_ISA_SVE,    /* AArch64 SVE, any vector length (128 to 2048 bits) */
    ADAGRAD_ISA_COUNT
} adagrad_isa;

/* adagrad_isa_name: "scalar", "avx2", "avx512", "neon", "sve"; NULL for a
 * value out of range. Thread-safe. */
ADAGRAD_API const char *adagrad_isa_name(adagrad_isa isa);

/* adagrad_isa_available: true when the implementation is compiled into
 * this library and this CPU and OS support it (x86: CPUID and XGETBV;
 * AArch64: getauxval). Thread-safe. */
ADAGRAD_API bool adagrad_isa_available(adagrad_isa isa);

/* adagrad_active_isa: the implementation the steps use now. The first call
 * of any function of the library picks it, once, thread-safely: the best
 * available, or the one named by the environment variable ADAGRAD_ISA
 * (scalar|avx2|avx512|neon|sve). An unknown or unavailable name falls back
 * to the best and is reported once on stderr. */
ADAGRAD_API adagrad_isa adagrad_active_isa(void);

/* adagrad_use_isa: switch the implementation for the whole process.
 * ADAGRAD_ERR_ISA when unknown or unavailable (the active one is then
 * unchanged). Thread-safe: a step already running in another thread
 * finishes with the implementation it started with; steps started after
 * the switch use the new one. Since EXACT results are bitwise identical
 * across implementations, switching never changes an EXACT result. */
ADAGRAD_API int adagrad_use_isa(adagrad_isa isa);

/*======  v0.1 entry points  ======
 *
 * Each is one call of the general entry points above, with fp32 buffers
 * (and int64 or, _i32, int32 indices); the same validation and statuses.
 * The table steps of v0.1 take neither ADAGRAD_ROWWISE nor ADAGRAD_POOL_MEAN
 * (ADAGRAD_ERR_PARAM): the name says which state the table has. The
 * variants without _ws pass no workspace, so with ADAGRAD_SUM_DUPLICATES
 * and n_indices > 0 they return ADAGRAD_ERR_NULL. When a call has several
 * defects, which of their statuses it returns is not specified. */

/* adagrad_step with {param, sum, grad, n} */
ADAGRAD_API int adagrad_step_f32(float *param, float *sum, const float *grad, size_t n,
                                 const adagrad_options *opt);
/* adagrad_step_mt with {param, sum, grad, n} */
ADAGRAD_API int adagrad_step_f32_mt(float *param, float *sum, const float *grad, size_t n,
                                    const adagrad_options *opt, int threads);

/* adagrad_sparse_step, element-wise state */
ADAGRAD_API int adagrad_sparse_step_f32(float *table, float *sum, size_t rows, size_t dim,
                                        const int64_t *indices, const float *grads, size_t n_indices,
                                        const adagrad_options *opt);
ADAGRAD_API int adagrad_sparse_step_i32(float *table, float *sum, size_t rows, size_t dim,
                                        const int32_t *indices, const float *grads, size_t n_indices,
                                        const adagrad_options *opt);
ADAGRAD_API int adagrad_sparse_step_ws_f32(float *table, float *sum, size_t rows, size_t dim,
                                           const int64_t *indices, const float *grads, size_t n_indices,
                                           const adagrad_options *opt, void *workspace,
                                           size_t workspace_bytes);
ADAGRAD_API int adagrad_sparse_step_ws_i32(float *table, float *sum, size_t rows, size_t dim,
                                           const int32_t *indices, const float *grads, size_t n_indices,
                                           const adagrad_options *opt, void *workspace,
                                           size_t workspace_bytes);

/* adagrad_sparse_step with ADAGRAD_ROWWISE: row_sum is rows floats */
ADAGRAD_API int adagrad_rowwise_step_f32(float *table, float *row_sum, size_t rows, size_t dim,
                                         const int64_t *indices, const float *grads, size_t n_indices,
                                         const adagrad_options *opt);
ADAGRAD_API int adagrad_rowwise_step_i32(float *table, float *row_sum, size_t rows, size_t dim,
                                         const int32_t *indices, const float *grads, size_t n_indices,
                                         const adagrad_options *opt);
ADAGRAD_API int adagrad_rowwise_step_ws_f32(float *table, float *row_sum, size_t rows, size_t dim,
                                            const int64_t *indices, const float *grads, size_t n_indices,
                                            const adagrad_options *opt, void *workspace,
                                            size_t workspace_bytes);
ADAGRAD_API int adagrad_rowwise_step_ws_i32(float *table, float *row_sum, size_t rows, size_t dim,
                                            const int32_t *indices, const float *grads, size_t n_indices,
                                            const adagrad_options *opt, void *workspace,
                                            size_t workspace_bytes);

/* adagrad_sparse_workspace for n_indices indices of dim-wide rows with
 * ADAGRAD_SUM_DUPLICATES; SIZE_MAX when that overflows. */
ADAGRAD_API size_t adagrad_sparse_workspace_bytes(size_t n_indices, size_t dim);

#ifdef __cplusplus
}
#endif

#endif /* ADAGRAD_H */
