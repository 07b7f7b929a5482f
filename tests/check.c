/* libadagrad tests — one checked step (see check.h).
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guarded.h"

const adagrad_kernels *fast_twin(const adagrad_kernels *k)
{
    if (k->isa != ADAGRAD_ISA_SVE)
        return NULL;
    for (size_t i = 0; i < adagrad_impl_count(); i++)
        if (adagrad_impl(i)->isa == ADAGRAD_ISA_NEON)
            return adagrad_impl(i);
    return NULL;
}

adagrad_options combo_options(unsigned combo, float lr, float eps, float wd)
{
    adagrad_options o = {.lr = lr, .eps = eps, .weight_decay = (combo & 8) ? wd : 0.0f, .flags = 0};
    if (combo & 1)
        o.flags |= ADAGRAD_MAXIMIZE;
    if (combo & 2)
        o.flags |= ADAGRAD_EPS_INSIDE;
    if (combo & 4)
        o.flags |= ADAGRAD_FAST;
    return o;
}

const char *fp_flags_name(int flags)
{
    static const char *const names[8] = {"none", "FE_INVALID", "FE_DIVBYZERO", "FE_INVALID|FE_DIVBYZERO",
                                         "FE_OVERFLOW", "FE_INVALID|FE_OVERFLOW", "FE_DIVBYZERO|FE_OVERFLOW",
                                         "FE_INVALID|FE_DIVBYZERO|FE_OVERFLOW"};
    return names[((flags & FE_INVALID) ? 1 : 0) | ((flags & FE_DIVBYZERO) ? 2 : 0) | ((flags & FE_OVERFLOW) ? 4 : 0)];
}

/* The first problem found, and how many elements had one. */
typedef struct report {
    char first[640];
    size_t bad;
} report;

static void note_bad(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_bad(report *r, const char *fmt, ...)
{
    if (r->bad++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof r->first, fmt, ap);
        va_end(ap);
    }
}

__attribute__((noinline)) int reference_flags(const adagrad_options *opt, float *param, float *sum,
                                              const float *grad, size_t n)
{
    feclearexcept(FE_ALL_EXCEPT);
    contract_ref_dense(opt, param, sum, grad, n);
    const int flags = fetestexcept(CHECKED_FP_FLAGS);
    feclearexcept(FE_ALL_EXCEPT);
    return flags;
}

#define F "%.9g (0x%08" PRIx32 ")"
#define FV(x) (double)(x), f32_bits(x)

void check_step(const test_row *row, const step_case *c, const float *param0, const float *sum0,
                const float *grad, float *out_param, float *out_sum)
{
    const size_t n = c->n;
    const adagrad_options *opt = &c->opt;
    const int fast = (opt->flags & ADAGRAD_FAST) != 0;
    const int mode = fast ? MODE_FAST : MODE_EXACT;
    const double fast_bound = row->k->fast_ulp;
    const float fast_ratio = row->k->fast_eps_ratio;

    guarded P = guarded_alloc(n, c->mis[0]), S = guarded_alloc(n, c->mis[1]),
            G = guarded_alloc(n, c->mis[2]);
    if (n) {
        memcpy(P.data, param0, n * sizeof(float));
        memcpy(S.data, sum0, n * sizeof(float));
        memcpy(G.data, grad, n * sizeof(float));
    }
    /* The reference element (contract.h), EXACT: independent of every row,
     * the scalar one included; FAST is checked against EXACT's bits. */
    float *ref_p = malloc((n ? n : 1) * sizeof(float)), *ref_s = malloc((n ? n : 1) * sizeof(float));
    if (!ref_p || !ref_s)
        abort();
    if (n) {
        memcpy(ref_p, param0, n * sizeof(float));
        memcpy(ref_s, sum0, n * sizeof(float));
    }
    const int ref_flags = reference_flags(opt, ref_p, ref_s, grad, n);
    const int status = adagrad_step_f32_with(row->k, P.data, S.data, G.data, n, opt);
    const int flags = fetestexcept(CHECKED_FP_FLAGS);
    feclearexcept(FE_ALL_EXCEPT);
    /* The FAST twin's θ, where the row has one that runs here. */
    const adagrad_kernels *twin = fast ? fast_twin(row->k) : NULL;
    float *twin_p = NULL;
    if (twin && adagrad_row_runnable(twin, NULL)) {
        twin_p = malloc((n ? n : 1) * sizeof(float));
        float *twin_s = malloc((n ? n : 1) * sizeof(float));
        if (!twin_p || !twin_s)
            abort();
        if (n) {
            memcpy(twin_p, param0, n * sizeof(float));
            memcpy(twin_s, sum0, n * sizeof(float));
        }
        if (adagrad_step_f32_with(twin, twin_p, twin_s, grad, n, opt) != ADAGRAD_OK) {
            free(twin_p); /* the row's step has the same arguments: its status is reported below */
            twin_p = NULL;
        }
        free(twin_s);
        feclearexcept(FE_ALL_EXCEPT);
    }

    char ctx[200];
    snprintf(ctx, sizeof ctx, "%s/%s n=%zu mis=%zu,%zu,%zu flags=0x%x lr=%.9g eps=%.9g wd=%.9g", c->what,
             row->name, n, c->mis[0], c->mis[1], c->mis[2], opt->flags, (double)opt->lr, (double)opt->eps,
             (double)opt->weight_decay);
    report r = {.bad = 0};
    double worst_t = 0.0, worst_u = 0.0, worst_s = 0.0; /* θ: EXACT, or FAST where estimates may run */
    size_t at_t = 0, at_s = 0;

    long where;
    if (status != ADAGRAD_OK)
        note_bad(&r, "status %d (%s)", status, adagrad_strerror(status));
    else if (!guarded_intact(&P, &where))
        note_bad(&r, "param: sentinel at element %ld overwritten", where);
    else if (!guarded_intact(&S, &where))
        note_bad(&r, "sum: sentinel at element %ld overwritten", where);
    else if (!guarded_intact(&G, &where))
        note_bad(&r, "grad: sentinel at element %ld overwritten", where);
    else if (n && memcmp(G.data, grad, n * sizeof(float)) != 0)
        note_bad(&r, "grad was written to");
    else if (flags != ref_flags)
        note_bad(&r, "raised %s where the reference raised %s", fp_flags_name(flags), fp_flags_name(ref_flags));
    else {
        for (size_t i = 0; i < n; i++) {
            const float p = P.data[i], s = S.data[i];
            const contract_oracle o = contract_oracle_step(opt, param0[i], sum0[i], grad[i]);
            const char *why = NULL;
            char twin_why[120];
            double et = 0.0, es = o.s_domain ? contract_s_error(s, &o) : 0.0;
            double eu = 0.0; /* θ against the unrounded double, for the summary only */
            bool estimated = false; /* FAST may have used the estimates here, and the oracle judges it */

            if (!same_f32(s, ref_s[i]))
                why = "s differs from the reference";
            else if (es > contract_exact_s_ulp(opt))
                why = "s too far from the double oracle";
            else if (twin_p && !same_f32(p, twin_p[i])) {
                snprintf(twin_why, sizeof twin_why, "FAST theta differs from %s FAST's " F " (must be bitwise)",
                         twin->name, FV(twin_p[i]));
                why = twin_why;
            } else if (!fast || !contract_fast_may_estimate(fast_ratio, opt, sum0[i], ref_s[i])) {
                if (!same_f32(p, ref_p[i]))
                    why = fast ? "FAST theta differs from EXACT (must be bitwise here)"
                               : "theta differs from the reference";
                else if (o.theta_domain) {
                    et = contract_theta_error(p, &o, param0[i]);
                    if (et > CONTRACT_EXACT_THETA_ULP)
                        why = "theta too far from the double oracle";
                }
            } else {
                estimated = o.theta_domain;
                et = contract_fast_error(p, &o, param0[i], ref_p[i]);
                if (!(et <= fast_bound) && isfinite(p) != isfinite(ref_p[i]))
                    why = "FAST theta is finite where EXACT's is not, or the reverse";
                else if (!(et <= fast_bound))
                    why = o.theta_domain ? "FAST theta beyond the row's bound from the double oracle"
                                         : "FAST theta beyond the row's bound from EXACT";
            }
            if (o.theta_domain)
                eu = contract_theta_error_unrounded(p, &o, param0[i]);
            /* the summary shows failing elements' errors too */
            if ((!fast || estimated) && et > worst_t)
                worst_t = et, at_t = i;
            if ((!fast || estimated) && eu > worst_u)
                worst_u = eu;
            if (es > worst_s)
                worst_s = es, at_s = i;
            if (why) {
                note_bad(&r,
                         "element %zu: %s\n"
                         "    in:  theta=" F " s=" F " g=" F "\n"
                         "    got: theta=" F " s=" F "\n"
                         "    ref: theta=" F " s=" F " (the reference element, EXACT)\n"
                         "    oracle: theta=%.17g s=%.17g delta=%.17g (domain s %d theta %d); err theta %.3g s %.3g ulp",
                         i, why, FV(param0[i]), FV(sum0[i]), FV(grad[i]), FV(p), FV(s), FV(ref_p[i]),
                         FV(ref_s[i]), o.theta, o.s, o.delta, (int)o.s_domain, (int)o.theta_domain, et, es);
            }
        }
    }
    char at[400];
    if (worst_t > 0.0) {
        snprintf(at, sizeof at, "%s [%zu]: theta=%a s=%a g=%a", ctx, at_t, (double)param0[at_t], (double)sum0[at_t],
                 (double)grad[at_t]);
        stats_note_theta(row, mode, worst_t, worst_u, at);
    }
    if (worst_s > 0.0) {
        snprintf(at, sizeof at, "%s [%zu]: theta=%a s=%a g=%a", ctx, at_s, (double)param0[at_s], (double)sum0[at_s],
                 (double)grad[at_s]);
        stats_note_s(row, opt->weight_decay != 0.0f, worst_s, at);
    }
    if (out_param && n && status == ADAGRAD_OK)
        memcpy(out_param, P.data, n * sizeof(float));
    if (out_sum && n && status == ADAGRAD_OK)
        memcpy(out_sum, S.data, n * sizeof(float));
    free(ref_p);
    free(ref_s);
    free(twin_p);
    guarded_free(&P);
    guarded_free(&S);
    guarded_free(&G);
    if (r.bad)
        fail_msg("%s: %zu bad element(s); first: %s", ctx, r.bad, r.first);
}
