/**
 * What a terminal would show for a stream of text and the few control
 * sequences a progress bar uses (cursor moves, line and screen clears,
 * cursor save and restore), so tests can assert what a person sees rather
 * than which bytes were written.
 */
export function screenOf(output: string): string[] {
  const rows: string[] = [''];
  let r = 0;
  let c = 0;
  let saved = { r: 0, c: 0 };
  const row = () => (rows[r] ??= '');
  const put = (ch: string) => {
    const line = row().padEnd(c, ' ');
    rows[r] = line.slice(0, c) + ch + line.slice(c + 1);
    c++;
  };
  const tokens = output.match(/\x1b\[\??[0-9;]*[A-Za-z]|\x1b[78]|[\s\S]/g) ?? [];
  for (const t of tokens) {
    if (t === '\n') [r, c] = [r + 1, 0];
    else if (t === '\r') c = 0;
    else if (t === '\x1b7') saved = { r, c };
    else if (t === '\x1b8') ({ r, c } = saved);
    else if (t.startsWith('\x1b[')) {
      const n = Number(/\d+/.exec(t)?.[0] ?? '1');
      const op = t.at(-1);
      if (t.includes('?') || op === 'm') continue;
      if (op === 'G') c = n - 1;
      else if (op === 'A') r = Math.max(0, r - n);
      else if (op === 'B') r += n;
      else if (op === 'C') c += n;
      else if (op === 'D') c = Math.max(0, c - n);
      else if (op === 'K' && t === '\x1b[2K') rows[r] = '';
      else if (op === 'K' && t === '\x1b[1K') rows[r] = ' '.repeat(c) + row().slice(c);
      else if (op === 'K') rows[r] = row().slice(0, c);
      else if (op === 'J') rows.splice(r + 1, Infinity, row().slice(0, c));
      if (op === 'J') rows[r] = rows[r].slice(0, c);
    } else put(t);
  }
  const shown = rows.map((l) => (l ?? '').trimEnd());
  while (shown.length > 0 && shown.at(-1) === '') shown.pop();
  return shown;
}
