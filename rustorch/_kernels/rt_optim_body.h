/* Loop bodies of rt_optim.h, included once per instruction set (RT_NAME, RT_ATTR, RT_FMA).
 * Each line names the torch op it reproduces (torch/optim/sgd.py, adam.py, foreach=False). */

static RT_ATTR void RT_NAME(sgd)(const rt_sgd_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    float *p = a->p, *buf = a->buf;
    const float *g = a->g;
    const float wd = a->wd, mom = a->mom, damp1 = a->damp1, neg_lr = a->neg_lr;
    const int has_wd = a->has_wd, has_mom = a->has_mom, nesterov = a->nesterov;
    const int maximize = a->maximize, first = a->first;
    for (ptrdiff_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (has_wd) gi = RT_FMA(p[i], wd, gi);           /* grad.add(param, alpha=wd) */
        if (has_mom) {
            float b;
            if (first) b = gi;                            /* buf = grad.clone() */
            else b = RT_FMA(gi, damp1, buf[i] * mom);     /* buf.mul_(mom).add_(grad, 1-damp) */
            buf[i] = b;
            gi = nesterov ? RT_FMA(b, mom, gi) : b;       /* grad.add(buf, alpha=mom) | buf */
        }
        p[i] = RT_FMA(gi, neg_lr, p[i]);                  /* param.add_(grad, alpha=-lr) */
    }
}

/* One Adam loop per (coupled weight decay, amsgrad, lerp form): with these fixed at compile
 * time the loop has no branches and vectorises. maximize and decoupled decay are exact
 * multiplications by -1 / 1 when off (x * -1 and x * 1 are exact in IEEE arithmetic). */
RT_ALWAYS_INLINE RT_ATTR void RT_NAME(adam_loop)(
    const rt_adam_args *a, ptrdiff_t lo, ptrdiff_t hi, const int coupled_wd, const int amsgrad,
    const int small) {
    float *p = a->p, *m = a->m, *v = a->v, *vmax = a->vmax;
    const float *g = a->g;
    const float w1 = a->w1, beta2 = a->beta2, omb2 = a->omb2, wd = a->wd;
    const float bc2_sqrt = a->bc2_sqrt, eps = a->eps, neg_step = a->neg_step;
    const float sign = a->maximize ? -1.0f : 1.0f;
    const float decay = (a->has_wd && a->decoupled) ? a->decay : 1.0f;
    for (ptrdiff_t i = lo; i < hi; i++) {
        float gi = g[i] * sign;                           /* -grad when maximize */
        float pi = p[i] * decay;                          /* param.mul_(1 - lr * wd) (AdamW) */
        if (coupled_wd) gi = RT_FMA(pi, wd, gi);          /* grad.add(param, alpha=wd) */
        /* exp_avg.lerp_(grad, 1 - beta1): torch's two forms, by weight size */
        float mi = m[i], d = gi - mi;
        mi = small ? RT_FMA(w1, d, mi) : RT_FMA(w1 - 1.0f, d, gi);
        m[i] = mi;
        float vi = RT_FMA(omb2 * gi, gi, v[i] * beta2);   /* v.mul_(b2).addcmul_(g, g, 1-b2) */
        v[i] = vi;
        if (amsgrad) {
            float vm = vmax[i];
            vm = (vi > vm || vi != vi) ? vi : vm;         /* torch.maximum (NaN propagates) */
            vmax[i] = vm;
            vi = vm;
        }
        float denom = sqrtf(vi) / bc2_sqrt + eps;         /* (v.sqrt() / bc2_sqrt).add_(eps) */
        p[i] = pi + neg_step * mi / denom;                /* param.addcdiv_(m, denom, -step) */
    }
}

static RT_ATTR void RT_NAME(adam)(const rt_adam_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    const int coupled = a->has_wd && !a->decoupled;
    const int small = a->w1 < 0.5f && a->w1 > -0.5f;
    switch ((coupled << 2) | (a->amsgrad ? 2 : 0) | small) {
    case 0: RT_NAME(adam_loop)(a, lo, hi, 0, 0, 0); break;
    case 1: RT_NAME(adam_loop)(a, lo, hi, 0, 0, 1); break;
    case 2: RT_NAME(adam_loop)(a, lo, hi, 0, 1, 0); break;
    case 3: RT_NAME(adam_loop)(a, lo, hi, 0, 1, 1); break;
    case 4: RT_NAME(adam_loop)(a, lo, hi, 1, 0, 0); break;
    case 5: RT_NAME(adam_loop)(a, lo, hi, 1, 0, 1); break;
    case 6: RT_NAME(adam_loop)(a, lo, hi, 1, 1, 0); break;
    default: RT_NAME(adam_loop)(a, lo, hi, 1, 1, 1); break;
    }
}
