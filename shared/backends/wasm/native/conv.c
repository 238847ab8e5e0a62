/*
 * Stride-1 NHWC convolutions for gradfleet's wasm training kernels: the
 * forward convolution (also the input gradient, as a "full" convolution of
 * dy) and the filter gradient, both read straight from tfjs-backend-wasm's
 * heap. XNNPACK, which the stock kernels call, packs the right-hand operand
 * of every product anew; for a filter gradient that operand is dy (or an
 * im2col copy of x), which costs as much as the arithmetic. These loops
 * stream both operands instead.
 *
 * Built by `npm run build:kernels` (clang, wasm32 + SIMD128). The module
 * imports tfjs's memory, so every pointer is an offset on its heap; it has no
 * data and uses no stack (tile sizes are compile-time constants and the tile
 * loops unroll, so accumulators stay in locals), which the build checks.
 */
#include "simd.h"

/*
 * Output rows per tile and vectors of 4 output channels per tile: 8
 * accumulators, which V8 keeps in x64's 16 vector registers. Measured on
 * keras-cnn's shapes against 4x2, 3x4 and 6x2 (-DROWS=... -DVECS=...):
 * 2x4 was fastest or level on every one.
 */
#ifndef ROWS
#define ROWS 2
#endif
#ifndef VECS
#define VECS 4
#endif

struct conv {
  const float *in, *filter, *zeros;
  float *out;
  int batch, h, w, k, out_h, out_w, n, filter_h, filter_w, pad_top, pad_left;
};

/* out[r][j..j+4V) = sum over the window and input channels, for R rows of one output line. */
INLINE void conv_block(const struct conv *p, int R, int V, int b, int oh, int ow0, int j) {
  v128_t acc[ROWS][VECS];
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int v = 0; v < V; v++) acc[r][v] = wasm_f32x4_splat(0.f);
  for (int fh = 0; fh < p->filter_h; fh++) {
    int ih = oh + fh - p->pad_top;
    if (ih < 0 || ih >= p->h) continue;
    const float *line = p->in + (b * p->h + ih) * p->w * p->k;
    for (int fw = 0; fw < p->filter_w; fw++) {
      /* Rows whose window column falls in the padding read a row of zeros. */
      const float *src[ROWS];
      UNROLL for (int r = 0; r < R; r++) {
        int iw = ow0 + r + fw - p->pad_left;
        src[r] = iw >= 0 && iw < p->w ? line + iw * p->k : p->zeros;
      }
      int inside = 0;
      UNROLL for (int r = 0; r < R; r++) inside |= src[r] != p->zeros;
      if (!inside) continue;
      const float *f = p->filter + (fh * p->filter_w + fw) * p->k * p->n + j;
      for (int c = 0; c < p->k; c++, f += p->n) {
        v128_t weights[VECS];
        UNROLL for (int v = 0; v < V; v++) weights[v] = wasm_v128_load(f + 4 * v);
        UNROLL for (int r = 0; r < R; r++) {
          v128_t s = wasm_f32x4_splat(src[r][c]);
          UNROLL for (int v = 0; v < V; v++) acc[r][v] = wasm_f32x4_add(acc[r][v], wasm_f32x4_mul(s, weights[v]));
        }
      }
    }
  }
  float *out = p->out + ((b * p->out_h + oh) * p->out_w + ow0) * p->n + j;
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int v = 0; v < V; v++) wasm_v128_store(out + r * p->n + 4 * v, acc[r][v]);
}

/* One output channel (the n % 4 remainder) for one output pixel. */
INLINE void conv_single(const struct conv *p, int b, int oh, int ow, int j) {
  float acc = 0.f;
  for (int fh = 0; fh < p->filter_h; fh++) {
    int ih = oh + fh - p->pad_top;
    if (ih < 0 || ih >= p->h) continue;
    for (int fw = 0; fw < p->filter_w; fw++) {
      int iw = ow + fw - p->pad_left;
      if (iw < 0 || iw >= p->w) continue;
      const float *src = p->in + ((b * p->h + ih) * p->w + iw) * p->k;
      const float *f = p->filter + (fh * p->filter_w + fw) * p->k * p->n + j;
      for (int c = 0; c < p->k; c++) acc += src[c] * f[c * p->n];
    }
  }
  p->out[((b * p->out_h + oh) * p->out_w + ow) * p->n + j] = acc;
}

INLINE void conv_rows(const struct conv *p, int R, int b, int oh, int ow0) {
  int j = 0;
  for (; j + 4 * VECS <= p->n; j += 4 * VECS) conv_block(p, R, VECS, b, oh, ow0, j);
  for (; j + 4 <= p->n; j += 4) conv_block(p, R, 1, b, oh, ow0, j);
  for (; j < p->n; j++)
    UNROLL for (int r = 0; r < R; r++) conv_single(p, b, oh, ow0 + r, j);
}

/*
 * out[b,oh,ow,n] = sum_{fh,fw,c} in[b, oh+fh-pad_top, ow+fw-pad_left, c] * filter[fh,fw,c,n],
 * reading zeros outside the input; `zeros` holds at least k zero floats.
 */
EXPORT("conv2d")
void conv2d(const float *in, const float *filter, float *out, const float *zeros, int batch, int h, int w, int k,
            int out_h, int out_w, int n, int filter_h, int filter_w, int pad_top, int pad_left) {
  const struct conv p = {in, filter, zeros, out, batch, h, w, k, out_h, out_w, n, filter_h, filter_w, pad_top, pad_left};
  for (int b = 0; b < batch; b++)
    for (int oh = 0; oh < out_h; oh++) {
      int ow = 0;
      for (; ow + ROWS <= out_w; ow += ROWS) conv_rows(&p, ROWS, b, oh, ow);
      for (; ow < out_w; ow++) conv_rows(&p, 1, b, oh, ow);
    }
}

/* Input channels per filter-gradient tile (times VECS vectors of output channels: 8 accumulators again). */
#ifndef CHANNELS
#define CHANNELS 2
#endif
/* Output lines (b, oh) whose rows one pass of the filter-gradient tiles reads: about 64 rows, a few KiB of x and dy. */
#ifndef BLOCK_ROWS
#define BLOCK_ROWS 64
#endif

struct filter_grad {
  const float *x, *dy;
  float *dw;
  int batch, h, w, ci, out_h, out_w, co, filter_h, filter_w, pad_top, pad_left;
};

/*
 * Where output line l = (b, oh) meets filter tap (fh, fw), from output column ow_lo: x's row at input
 * channel c and dy's at output channel j. x is null when the tap's input row lies in the padding.
 */
struct line_rows {
  const float *x, *dy;
};

INLINE struct line_rows line_rows(const struct filter_grad *p, int l, int fh, int fw, int ow_lo, int c, int j) {
  int b = l / p->out_h, oh = l % p->out_h;
  int ih = oh + fh - p->pad_top;
  struct line_rows rows = {0, p->dy + (l * p->out_w + ow_lo) * p->co + j};
  if (ih >= 0 && ih < p->h) rows.x = p->x + ((b * p->h + ih) * p->w + ow_lo + fw - p->pad_left) * p->ci + c;
  return rows;
}

/* dw[fh,fw,c0..c0+C, j..j+4V) += x^T . dy over the rows of lines [l0, l1). */
INLINE void filter_grad_block(const struct filter_grad *p, int C, int V, int l0, int l1, int fh, int fw, int ow_lo, int ow_hi,
                              int c0, int j) {
  float *dw = p->dw + ((fh * p->filter_w + fw) * p->ci + c0) * p->co + j;
  v128_t acc[CHANNELS][VECS];
  UNROLL for (int r = 0; r < C; r++)
    UNROLL for (int v = 0; v < V; v++) acc[r][v] = wasm_f32x4_splat(0.f);
  for (int l = l0; l < l1; l++) {
    struct line_rows rows = line_rows(p, l, fh, fw, ow_lo, c0, j);
    if (rows.x == 0) continue;
    const float *xr = rows.x, *gr = rows.dy;
    for (int ow = ow_lo; ow < ow_hi; ow++, xr += p->ci, gr += p->co) {
      v128_t g[VECS];
      UNROLL for (int v = 0; v < V; v++) g[v] = wasm_v128_load(gr + 4 * v);
      UNROLL for (int r = 0; r < C; r++) {
        v128_t s = wasm_f32x4_splat(xr[r]);
        UNROLL for (int v = 0; v < V; v++) acc[r][v] = wasm_f32x4_add(acc[r][v], wasm_f32x4_mul(s, g[v]));
      }
    }
  }
  UNROLL for (int r = 0; r < C; r++)
    UNROLL for (int v = 0; v < V; v++) {
      float *to = dw + r * p->co + 4 * v;
      wasm_v128_store(to, wasm_f32x4_add(wasm_v128_load(to), acc[r][v]));
    }
}

/* One (input, output) channel pair: the co % 4 remainder. */
INLINE void filter_grad_single(const struct filter_grad *p, int l0, int l1, int fh, int fw, int ow_lo, int ow_hi, int c, int j) {
  float *dw = p->dw + ((fh * p->filter_w + fw) * p->ci + c) * p->co + j;
  float acc = *dw;
  for (int l = l0; l < l1; l++) {
    struct line_rows rows = line_rows(p, l, fh, fw, ow_lo, c, j);
    if (rows.x == 0) continue;
    const float *xr = rows.x, *gr = rows.dy;
    for (int ow = ow_lo; ow < ow_hi; ow++, xr += p->ci, gr += p->co) acc += *xr * *gr;
  }
  *dw = acc;
}

INLINE void filter_grad_channels(const struct filter_grad *p, int C, int l0, int l1, int fh, int fw, int ow_lo, int ow_hi, int c0) {
  int j = 0;
  for (; j + 4 * VECS <= p->co; j += 4 * VECS) filter_grad_block(p, C, VECS, l0, l1, fh, fw, ow_lo, ow_hi, c0, j);
  for (; j + 4 <= p->co; j += 4) filter_grad_block(p, C, 1, l0, l1, fh, fw, ow_lo, ow_hi, c0, j);
  for (; j < p->co; j++)
    UNROLL for (int r = 0; r < C; r++) filter_grad_single(p, l0, l1, fh, fw, ow_lo, ow_hi, c0 + r, j);
}

/*
 * dw[fh,fw,c,n] = sum_{b,oh,ow} x[b, oh+fh-pad_top, ow+fw-pad_left, c] * dy[b,oh,ow,n],
 * terms outside x being zero. Overwrites dw.
 */
EXPORT("conv2d_filter_grad")
void conv2d_filter_grad(const float *x, const float *dy, float *dw, int batch, int h, int w, int ci, int out_h, int out_w,
                        int co, int filter_h, int filter_w, int pad_top, int pad_left) {
  const struct filter_grad p = {x, dy, dw, batch, h, w, ci, out_h, out_w, co, filter_h, filter_w, pad_top, pad_left};
  int size = filter_h * filter_w * ci * co;
  for (int i = 0; i < size; i++) dw[i] = 0.f;
  int lines = batch * out_h;
  int block = out_w >= BLOCK_ROWS ? 1 : BLOCK_ROWS / out_w;
  for (int l0 = 0; l0 < lines; l0 += block) {
    int l1 = l0 + block < lines ? l0 + block : lines;
    for (int fh = 0; fh < filter_h; fh++)
      for (int fw = 0; fw < filter_w; fw++) {
        /* Output columns whose input column lies inside x for this filter column. */
        int ow_lo = pad_left - fw > 0 ? pad_left - fw : 0;
        int ow_hi = w + pad_left - fw < out_w ? w + pad_left - fw : out_w;
        int c = 0;
        for (; c + CHANNELS <= ci; c += CHANNELS) filter_grad_channels(&p, CHANNELS, l0, l1, fh, fw, ow_lo, ow_hi, c);
        for (; c < ci; c++) filter_grad_channels(&p, 1, l0, l1, fh, fw, ow_lo, ow_hi, c);
      }
  }
}
