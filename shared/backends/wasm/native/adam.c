/*
 * One Adam update of a variable and its two moment slots in a single pass,
 * with exactly the operations of tfjs's AdamOptimizer, in its order, each
 * rounded to float32 (wasm has no fused multiply-add to merge them): the
 * same bits as tfjs's update, which makes twelve passes over the variable
 * and allocates a tensor for each.
 *
 *   m' = m * beta1 + g * (1 - beta1)
 *   v' = v * beta2 + g^2 * (1 - beta2)
 *   w' = (m' / bias1) / (sqrt(v' / bias2) + epsilon) * -lr + w
 *
 * bias1 and bias2 are 1 - beta1^t and 1 - beta2^t.
 */
#include "simd.h"

/* Each operation rounded on its own, as tfjs's ops round them. */
#pragma clang fp contract(off)

EXPORT("adam_update")
void adam_update(const float *w, const float *m, const float *v, const float *g, float *w_out, float *m_out, float *v_out, int n,
                 float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float bias1, float bias2, float epsilon,
                 float neg_lr) {
  const v128_t b1 = wasm_f32x4_splat(beta1), omb1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), omb2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t c1 = wasm_f32x4_splat(bias1), c2 = wasm_f32x4_splat(bias2);
  const v128_t eps = wasm_f32x4_splat(epsilon), step = wasm_f32x4_splat(neg_lr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t m1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1), wasm_f32x4_mul(gi, omb1));
    v128_t v1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), omb2));
    v128_t denominator = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(v1, c2)), eps);
    v128_t change = wasm_f32x4_mul(wasm_f32x4_div(wasm_f32x4_div(m1, c1), denominator), step);
    wasm_v128_store(m_out + i, m1);
    wasm_v128_store(v_out + i, v1);
    wasm_v128_store(w_out + i, wasm_f32x4_add(change, wasm_v128_load(w + i)));
  }
  for (; i < n; i++) {
    float gi = g[i];
    float m1 = m[i] * beta1 + gi * one_minus_beta1;
    float v1 = v[i] * beta2 + (gi * gi) * one_minus_beta2;
    m_out[i] = m1;
    v_out[i] = v1;
    w_out[i] = (m1 / bias1) / (__builtin_sqrtf(v1 / bias2) + epsilon) * neg_lr + w[i];
  }
}
