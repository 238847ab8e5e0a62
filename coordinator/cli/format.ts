/** Plain-text tables for the terminal. */
export function formatConfusion(confusion: number[][]): string {
  const width = Math.max(4, ...confusion.flat().map((n) => String(n).length + 1));
  const cell = (s: string | number) => String(s).padStart(width);
  const header = `${'true\\pred'.padEnd(9)}${confusion.map((_, i) => cell(i)).join('')}`;
  const rows = confusion.map((row, i) => `${String(i).padEnd(9)}${row.map(cell).join('')}`);
  return [header, ...rows].join('\n');
}
