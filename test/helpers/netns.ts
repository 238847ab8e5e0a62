/**
 * Network namespaces as hosts: a coordinator and workers, each in its own
 * namespace with its own address on a private bridge that exists only for
 * the test (the project's own test hosts). Needs root and `ip`.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { CLI } from './cli';
import { skipIfMissing } from './skip';

export interface Host {
  ns: string;
  address: string;
  /** The host's cable to the bridge, as seen from outside: setting it down partitions the host. */
  link: string;
  /** The same cable's end inside the host's namespace. */
  device: string;
}

export interface Topology {
  hosts: Host[];
  destroy(): void;
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `gfprobe${process.pid % 100000}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `'ip' is not available (${add.error.message})`;
  if (add.status !== 0) return `'ip netns add' failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** `count` namespaces on one bridge, 10.<231+n>.<k>.<i>/24, where k varies with the pid so runs do not collide. */
let topologies = 0;

export function createTopology(count: number): Topology {
  // A topology just destroyed may linger a moment in the kernel: each one gets names and a subnet of its own.
  const serial = topologies++ % 10;
  const tag = (process.pid % 10000) * 10 + serial;
  const subnet = `10.${231 + serial}.${process.pid % 250}`;
  const bridge = `gfbr${tag}`;
  const hosts: Host[] = [];
  const created: string[] = [];
  const destroy = () => {
    for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('link', 'set', bridge, 'up');
    for (let i = 1; i <= count; i++) {
      const ns = `gf${tag}h${i}`;
      const outside = `gf${tag}v${i}`;
      const inside = `gf${tag}p${i}`;
      ip('netns', 'add', ns);
      created.push(ns);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', ns);
      ip('link', 'set', outside, 'master', bridge);
      ip('link', 'set', outside, 'up');
      const address = `${subnet}.${i + 1}`;
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inside);
      ip('-n', ns, 'link', 'set', inside, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      hosts.push({ ns, address, link: outside, device: inside });
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { hosts, destroy };
}

/** Unplugs (or plugs back) a host's cable: packets stop both ways, and no connection is closed. */
export function setLink(host: Host, up: boolean): void {
  ip('link', 'set', host.link, up ? 'up' : 'down');
}

export interface HostProcess {
  child: ChildProcess;
  exit: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the time (Date.now()) at which a line matching `pattern` first appeared. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<number>;
}

/** Runs `gradfleet ARGS` inside a host's namespace. */
export function runOnHost(host: Host, args: string[]): HostProcess {
  const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const seen: { pattern: RegExp; resolve: (t: number) => void }[] = [];
  const onData = (d: Buffer) => {
    text += String(d);
    for (const w of seen.splice(0)) {
      if (w.pattern.test(text)) w.resolve(Date.now());
      else seen.push(w);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    output: () => text,
    waitFor: (pattern, timeoutMs = 120_000) =>
      pattern.test(text)
        ? Promise.resolve(Date.now())
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${text}`)), timeoutMs);
            seen.push({ pattern, resolve: (t) => (clearTimeout(timer), resolve(t)) });
          }),
  };
}

/** Mocha hooks for a suite that needs `count` hosts; it is skipped, saying why, where namespaces are unavailable. */
export function withHosts(count: number): () => Host[] {
  let topology: Topology | undefined;
  before(function () {
    skipIfMissing(this, netnsUnavailable());
    topology = createTopology(count);
  });
  after(() => topology?.destroy());
  return () => topology!.hosts;
}
