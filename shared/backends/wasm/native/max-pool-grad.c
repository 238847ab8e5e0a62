/*
 * The gradient of a 2x2, stride-2 max pool whose windows tile the input
 * without padding (every preset's pooling): each window's output gradient
 * goes to its first maximum in row-major order (strict >, as the cpu backend
 * and TensorFlow pick), four channels at a time.
 */
#include "simd.h"

/* The window's four inputs and the gradient for 4 channels: which one wins, written to all four places. */
INLINE void window4(const float *x00, const float *x01, const float *x10, const float *x11, const float *g, float *d00, float *d01,
                    float *d10, float *d11) {
  v128_t a = wasm_v128_load(x00), b = wasm_v128_load(x01), c = wasm_v128_load(x10), d = wasm_v128_load(x11);
  v128_t gv = wasm_v128_load(g);
  v128_t b_wins = wasm_f32x4_gt(b, a);
  v128_t best = wasm_v128_bitselect(b, a, b_wins);
  v128_t c_wins = wasm_f32x4_gt(c, best);
  best = wasm_v128_bitselect(c, best, c_wins);
  v128_t d_wins = wasm_f32x4_gt(d, best);
  /* A later winner overrides the earlier ones. */
  c_wins = wasm_v128_andnot(c_wins, d_wins);
  b_wins = wasm_v128_andnot(wasm_v128_andnot(b_wins, c_wins), d_wins);
  v128_t a_wins = wasm_v128_not(wasm_v128_or(wasm_v128_or(b_wins, c_wins), d_wins));
  wasm_v128_store(d00, wasm_v128_and(gv, a_wins));
  wasm_v128_store(d01, wasm_v128_and(gv, b_wins));
  wasm_v128_store(d10, wasm_v128_and(gv, c_wins));
  wasm_v128_store(d11, wasm_v128_and(gv, d_wins));
}

INLINE void window1(const float *x00, const float *x01, const float *x10, const float *x11, const float *g, float *d00, float *d01,
                    float *d10, float *d11) {
  float best = *x00;
  float *at = d00;
  if (*x01 > best) best = *x01, at = d01;
  if (*x10 > best) best = *x10, at = d10;
  if (*x11 > best) at = d11;
  *at = *g;
}

/*
 * dx[b,h,w,c] for x [batch,h,w,c] and dy [batch,out_h,out_w,c] with out_h*2 <= h and out_w*2 <= w;
 * inputs outside every window (an odd last row or column) get zero.
 */
EXPORT("max_pool_grad_2x2")
void max_pool_grad_2x2(const float *x, const float *dy, float *dx, int batch, int h, int w, int c, int out_h, int out_w) {
  __builtin_memset(dx, 0, (unsigned long)batch * h * w * c * sizeof(float));
  int row = w * c;
  for (int b = 0; b < batch; b++)
    for (int oh = 0; oh < out_h; oh++)
      for (int ow = 0; ow < out_w; ow++) {
        int p = ((b * h + 2 * oh) * w + 2 * ow) * c;
        const float *g = dy + ((b * out_h + oh) * out_w + ow) * c;
        int k = 0;
        for (; k + 4 <= c; k += 4) {
          int q = p + k;
          window4(x + q, x + q + c, x + q + row, x + q + row + c, g + k, dx + q, dx + q + c, dx + q + row, dx + q + row + c);
        }
        for (; k < c; k++) {
          int q = p + k;
          window1(x + q, x + q + c, x + q + row, x + q + row + c, g + k, dx + q, dx + q + c, dx + q + row, dx + q + row + c);
        }
      }
}
