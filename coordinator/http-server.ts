/**
 * The coordinator's HTTP side, on --metrics-port: Prometheus metrics at
 * /metrics, the live dashboard at /, and its data at /api/run. It listens on
 * the same host as the gRPC port and, when the run has a token, asks for it
 * the way Prometheus sends one (`authorization: Bearer <token>`, scrape
 * config `authorization.credentials_file`) or, for browsers, as a cookie
 * set by opening /?token=TOKEN once.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../shared/errors';
import { bearerToken, tokenMatches } from '../shared/security/token';
import { DASHBOARD_HTML } from './dashboard-page';
import type { CoordinatorMetrics } from './metrics';

const COOKIE = 'gradfleet_token';

export interface HttpDeps {
  metrics: CoordinatorMetrics;
  token: string | undefined;
  /** The dashboard's data: status, curves, breakdown, checkpoints. */
  snapshot: () => object;
}

function presentedToken(req: http.IncomingMessage): string | undefined {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined) return bearer;
  const cookie = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`));
  return cookie === undefined ? undefined : decodeURIComponent(cookie.slice(COOKIE.length + 1));
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, deps: HttpDeps): void {
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (deps.token !== undefined) {
    const fromQuery = url.pathname === '/' ? url.searchParams.get('token') : null;
    if (fromQuery !== null && tokenMatches(deps.token, fromQuery)) {
      res.writeHead(303, { location: '/', 'set-cookie': `${COOKIE}=${encodeURIComponent(fromQuery)}; HttpOnly; SameSite=Strict; Path=/` }).end();
      return;
    }
    if (!tokenMatches(deps.token, presentedToken(req))) {
      deps.metrics.refused('unauthenticated');
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('a token is required: send it as a bearer token, or open /?token=TOKEN once\n');
      return;
    }
  }
  if (req.method !== 'GET') {
    res.writeHead(405).end();
    return;
  }
  switch (url.pathname) {
    case '/metrics':
      deps.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
      return;
    case '/':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(DASHBOARD_HTML);
      return;
    case '/api/run':
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(deps.snapshot()));
      return;
    default:
      res.writeHead(404).end('not found: try /, /api/run or /metrics\n');
  }
}

export async function startHttpServer(host: string, port: number, deps: HttpDeps): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => handle(req, res, deps));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ConfigError(`cannot listen on ${host}:${port} for metrics and the dashboard: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
