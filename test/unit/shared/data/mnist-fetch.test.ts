import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fetchFiles, RemoteFile } from '../../../../shared/data/mnist-fetch';
import { ConfigError, NetworkError } from '../../../../shared/errors';
import { tmpDir } from '../../../helpers/tmp';

/** A local mirror serving `files`, honouring Range; `cutAfter` drops the first response mid-body. */
async function startMirror(files: Record<string, Buffer>, options: { cutAfter?: number } = {}) {
  const requests: { url: string; range?: string }[] = [];
  let cut = options.cutAfter;
  const server = http.createServer((req, res) => {
    const name = path.basename(req.url ?? '');
    requests.push({ url: req.url ?? '', range: req.headers.range });
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { 'Content-Length': body.length - start });
    if (cut !== undefined) {
      res.write(body.subarray(start, start + cut));
      cut = undefined;
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist/`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const content = Buffer.from('pretend this is train-images-idx3-ubyte.gz'.repeat(100));
const file: RemoteFile = { name: 'train-images-idx3-ubyte.gz', sha256: createHash('sha256').update(content).digest('hex') };

describe('dataset fetch', () => {
  it('downloads from the first mirror that has the file and verifies its SHA-256', async () => {
    const empty = await startMirror({});
    const full = await startMirror({ [file.name]: content });
    try {
      const dir = tmpDir();
      const results = await fetchFiles({ dir, mirrors: [empty.url, full.url], files: [file] });
      assert.deepEqual(results, [{ name: file.name, result: 'downloaded' }]);
      assert.deepEqual(fs.readFileSync(path.join(dir, file.name)), content);
      const again = await fetchFiles({ dir, mirrors: [full.url], files: [file] });
      assert.deepEqual(again, [{ name: file.name, result: 'present' }]);
    } finally {
      await empty.close();
      await full.close();
    }
  });

  it('resumes a cut download with an HTTP Range request', async () => {
    const mirror = await startMirror({ [file.name]: content }, { cutAfter: 1000 });
    try {
      const dir = tmpDir();
      await assert.rejects(fetchFiles({ dir, mirrors: [mirror.url], files: [file] }), NetworkError);
      assert.equal(fs.statSync(path.join(dir, `${file.name}.part`)).size, 1000);
      await fetchFiles({ dir, mirrors: [mirror.url], files: [file] });
      assert.equal(mirror.requests[1].range, 'bytes=1000-');
      assert.deepEqual(fs.readFileSync(path.join(dir, file.name)), content);
      assert.equal(fs.existsSync(path.join(dir, `${file.name}.part`)), false);
    } finally {
      await mirror.close();
    }
  });

  it('refuses a file whose checksum does not match, keeping nothing', async () => {
    const mirror = await startMirror({ [file.name]: Buffer.from('tampered') });
    try {
      const dir = tmpDir();
      await assert.rejects(fetchFiles({ dir, mirrors: [mirror.url], files: [file] }), /checksum mismatch/);
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      await mirror.close();
    }
  });

  it('says clearly when no mirror can be reached', async () => {
    const mirror = await startMirror({});
    const url = mirror.url;
    await mirror.close();
    await assert.rejects(fetchFiles({ dir: tmpDir(), mirrors: [url], files: [file], timeoutMs: 5000 }), (err: Error) => {
      assert.ok(err instanceof NetworkError);
      assert.match(err.message, /cannot download train-images-idx3-ubyte\.gz: no mirror succeeded/);
      assert.match(err.message, /ECONNREFUSED|fetch failed/);
      return true;
    });
  });

  it('takes a mirror given without its closing slash as the directory it names', async () => {
    const mirror = await startMirror({ [file.name]: content });
    try {
      await fetchFiles({ dir: tmpDir(), mirrors: [mirror.url.replace(/\/$/, '')], files: [file] });
      assert.deepEqual(mirror.requests.map((r) => r.url), ['/mnist/train-images-idx3-ubyte.gz']);
    } finally {
      await mirror.close();
    }
  });

  for (const [what, mirror, message] of [
    ['not a URL', 'mirror.example.com/mnist/', /--mirror 'mirror\.example\.com\/mnist\/': not a URL/],
    ['not http or https', 'ftp://mirror.example.com/mnist/', /--mirror 'ftp:.*': only http:\/\/ and https:\/\/ mirrors/],
  ] as const) {
    it(`refuses a mirror that is ${what}, before making any directory`, async () => {
      const dir = path.join(tmpDir(), 'mnist');
      await assert.rejects(fetchFiles({ dir, mirrors: [mirror], files: [file] }), (err: Error) => err instanceof ConfigError && message.test(err.message));
      assert.equal(fs.existsSync(dir), false);
    });
  }
});
