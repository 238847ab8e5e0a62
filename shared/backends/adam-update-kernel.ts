/**
 * A kernel that a backend may provide: one Adam update of a variable and its
 * two moment slots in a single pass (gradfleet's wasm kernels do; FusedAdam
 * uses it where it is registered and tfjs's ops elsewhere). Inputs w, m, v, g
 * (float32, one shape); outputs the new w, m, v, equal bit for bit to
 * tfjs's AdamOptimizer:
 *   m' = m * beta1 + g * oneMinusBeta1
 *   v' = v * beta2 + g^2 * oneMinusBeta2
 *   w' = (m' / bias1) / (sqrt(v' / bias2) + epsilon) * negLr + w
 * with every scalar a float32 value and every operation rounded to float32.
 */
export const ADAM_UPDATE_KERNEL = 'GradfleetAdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 - beta1^t and 1 - beta2^t for update number t. */
  bias1: number;
  bias2: number;
  epsilon: number;
  negLr: number;
}
