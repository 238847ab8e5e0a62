/**
 * The coordinator's HTTP side, on --metrics-port: Prometheus metrics at
 * /metrics. It listens on the same host as the gRPC port and, when the run
 * has a token, asks for it the way Prometheus sends one
 * (`authorization: Bearer <token>`, scrape config `authorization.credentials_file`).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../shared/errors';
import { tokenMatches } from '../shared/security/token';
import type { CoordinatorMetrics } from './metrics';

export async function startHttpServer(host: string, port: number, deps: { metrics: CoordinatorMetrics; token: string | undefined }): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (deps.token !== undefined && !tokenMatches(deps.token, presented)) {
      deps.metrics.refused('unauthenticated');
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('a token is required\n');
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      deps.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
      return;
    }
    res.writeHead(404).end('not found: try /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ConfigError(`cannot listen on ${host}:${port} for metrics: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
