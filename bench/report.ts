/**
 * BENCHMARKS.md is assembled from sections, one per benchmark program, each
 * between markers, so every program rewrites only its own figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const BENCHMARKS_FILE = path.resolve(__dirname, '../../BENCHMARKS.md');

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

export function updateSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const current = fs.existsSync(BENCHMARKS_FILE) ? fs.readFileSync(BENCHMARKS_FILE, 'utf8') : '# Benchmarks\n';
  const at = current.indexOf(start);
  const next =
    at >= 0 ? current.slice(0, at) + block + current.slice(current.indexOf(end) + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(BENCHMARKS_FILE, next);
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
