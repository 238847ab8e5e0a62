/* Shared by gradfleet's wasm kernels: see conv.c for how the module is built and why it has no stack. */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define INLINE static inline __attribute__((always_inline))
/* Tile loops must unroll fully, or their accumulator arrays would live on a stack this module does not have. */
#define UNROLL _Pragma("clang loop unroll(full)")
