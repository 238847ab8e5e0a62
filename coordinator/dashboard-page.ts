/**
 * The live dashboard: one self-contained page (no external scripts, so it
 * works on a closed cluster network) that polls /api/run every second and
 * redraws loss and accuracy curves, the workers, the step-time breakdown (the
 * step timeline's phases) and the checkpoints.
 */
import { PHASE_NAMES, StepPhases } from './step-timeline';

const PHASE_LABELS: Record<keyof StepPhases, string> = {
  broadcast: 'broadcast',
  toWorker: 'to worker',
  loadWeights: 'load weights',
  compute: 'compute',
  encode: 'encode',
  toCoordinator: 'to coordinator',
  aggregate: 'aggregate',
  apply: 'apply',
  other: 'other',
};
const PHASES = JSON.stringify(PHASE_NAMES.map((k) => [k, PHASE_LABELS[k]]));

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gradfleet</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  #headline { color: #555; margin-bottom: 16px; }
  .charts { display: flex; gap: 24px; flex-wrap: wrap; }
  .chart { border: 1px solid #ddd; padding: 8px; }
  .chart h2, section h2 { font-size: 15px; margin: 0 0 6px; }
  table { border-collapse: collapse; margin-top: 6px; }
  th, td { border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; }
  .legend span { margin-right: 12px; }
  .train { color: #1f77b4; } .val { color: #ff7f0e; }
  #breakdown { display: flex; width: 520px; height: 22px; border: 1px solid #ccc; }
  #breakdown div { height: 100%; }
  section { margin-top: 18px; }
</style>
</head>
<body>
<h1>gradfleet <span id="run"></span></h1>
<div id="headline">connecting…</div>
<div class="charts">
  <div class="chart"><h2>Loss</h2><svg id="loss-chart" width="520" height="220"></svg>
    <div class="legend"><span class="train">— train (per step)</span><span class="val">● validation (per epoch)</span></div></div>
  <div class="chart"><h2>Accuracy</h2><svg id="accuracy-chart" width="520" height="220"></svg>
    <div class="legend"><span class="train">— train (per step)</span><span class="val">● validation (per epoch)</span></div></div>
</div>
<section><h2>Step time</h2><div id="breakdown"></div><div id="breakdown-text"></div></section>
<section><h2>Workers</h2>
  <table id="workers"><thead><tr><th>worker</th><th>name</th><th>address</th><th>backend</th><th>state</th><th>samples/s</th><th>shards</th><th>last seen</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Checkpoints</h2><table id="checkpoints"><thead><tr><th>step</th><th>written in</th><th>at</th></tr></thead><tbody></tbody></table></section>
<script>
const NS = 'http://www.w3.org/2000/svg';
function el(name, attrs) { const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; }
function fmt(v, d) { return Number.isFinite(v) ? v.toFixed(d) : '-'; }
// The step timeline's phases, in order, with their labels: the same split as trace.json and summary.json.
const PHASES = ${PHASES};
const COLORS = ['#9467bd', '#17becf', '#8c564b', '#2ca02c', '#bcbd22', '#1f77b4', '#7f7f7f', '#ff7f0e', '#d62728'];
function draw(svg, steps, key, epochs, valKey, stepsPerEpoch) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = +svg.getAttribute('width'), H = +svg.getAttribute('height'), L = 50, B = 24, T = 8, R = 8;
  const pts = steps.map(p => [p.step, p[key]]).filter(p => Number.isFinite(p[1]));
  const val = epochs.map(e => [e.epoch * stepsPerEpoch, e[valKey]]).filter(p => Number.isFinite(p[1]));
  const all = pts.concat(val);
  if (all.length === 0) return;
  const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-6);
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - R), Y = y => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  svg.appendChild(el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }));
  svg.appendChild(el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }));
  for (const [v, y] of [[y1, T + 10], [y0, H - B]]) { const t = el('text', { x: 2, y, 'font-size': 11 }); t.textContent = fmt(v, 3); svg.appendChild(t); }
  const t = el('text', { x: W - R - 60, y: H - 6, 'font-size': 11 }); t.textContent = 'step ' + x1; svg.appendChild(t);
  svg.appendChild(el('polyline', { class: 'train', fill: 'none', stroke: '#1f77b4', 'stroke-width': 1.5, points: pts.map(p => X(p[0]) + ',' + Y(p[1])).join(' ') }));
  for (const p of val) svg.appendChild(el('circle', { class: 'val', cx: X(p[0]), cy: Y(p[1]), r: 4, fill: '#ff7f0e' }));
}
function rows(tbody, data) {
  tbody.innerHTML = '';
  for (const cells of data) { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); } tbody.appendChild(tr); }
}
async function refresh() {
  try {
    const res = await fetch('api/run', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
    const r = await res.json();
    const s = r.status;
    document.getElementById('run').textContent = s.runId;
    document.getElementById('headline').textContent = s.model + ' on ' + s.dataset + ': ' + s.state + ', epoch ' + s.epoch + '/' + s.epochs + ', step ' + s.step +
      ', loss ' + fmt(s.loss, 4) + ', accuracy ' + fmt(s.accuracy, 4) + ', ' + fmt(s.samplesPerSecond, 0) + ' samples/s';
    draw(document.getElementById('loss-chart'), r.steps, 'loss', r.epochs, 'val_loss', r.stepsPerEpoch);
    draw(document.getElementById('accuracy-chart'), r.steps, 'accuracy', r.epochs, 'val_accuracy', r.stepsPerEpoch);
    const b = r.breakdown, ms = (k) => Math.max(0, b[k]), total = PHASES.reduce((t, [k]) => t + ms(k), 0) || 1;
    const bar = document.getElementById('breakdown'); bar.innerHTML = '';
    PHASES.forEach(([k, label], i) => {
      const d = document.createElement('div'); d.style.width = (100 * ms(k) / total) + '%'; d.style.background = COLORS[i % COLORS.length];
      d.title = label + ' ' + fmt(ms(k), 1) + ' ms'; bar.appendChild(d);
    });
    document.getElementById('breakdown-text').textContent = PHASES.map(([k, label]) => label + ' ' + fmt(ms(k), 1) + ' ms').join(', ');
    rows(document.querySelector('#workers tbody'), s.workers.map(w => [w.workerId, w.name, w.address, w.backend, w.state, fmt(w.samplesPerSecond, 0), w.shardsDone, (w.silentMs / 1000).toFixed(1) + ' s ago']));
    rows(document.querySelector('#checkpoints tbody'), r.checkpoints.slice(-10).reverse().map(c => [c.step, fmt(c.seconds * 1000, 0) + ' ms', new Date(c.at).toLocaleTimeString()]));
  } catch (err) {
    document.getElementById('headline').textContent = 'no answer from the coordinator: ' + err.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
