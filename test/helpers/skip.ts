/** Skips the running suite or test where this machine lacks something, saying what in the report. */
export function skipIfMissing(ctx: Mocha.Context, why: string | undefined): void {
  if (why === undefined) return;
  console.log(`      skipped: ${why}`);
  ctx.skip();
}
