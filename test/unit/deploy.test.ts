/**
 * The deployment files agree with the code: every flag they pass exists for
 * its command, ports, volumes, secrets and images line up between the
 * Dockerfiles, docker-compose and the Kubernetes manifests, and the GPU
 * image carries the CUDA that tfjs-node-gpu needs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { COORDINATOR_OPTIONS, flagName, TRAINING_OPTIONS, WORKER_OPTIONS } from '../../shared/config/option-table';
import { envNameFor } from '../../shared/config/env';

const DEPLOY = path.resolve(__dirname, '../../../deploy');
const read = (f: string) => fs.readFileSync(path.join(DEPLOY, f), 'utf8');
const FLAGS = {
  coordinator: new Set([...TRAINING_OPTIONS, ...COORDINATOR_OPTIONS].map((s) => `--${flagName(s.key)}`)),
  worker: new Set(WORKER_OPTIONS.map((s) => `--${flagName(s.key)}`)),
};
const DEFAULT_PORT = String(COORDINATOR_OPTIONS.find((s) => s.key === 'port')!.default);
/** libtensorflow of each tfjs-node-gpu release, and the CUDA/cuDNN it was built for (tfjs-node README). */
const CUDA_FOR_TFJS_NODE_GPU: Record<string, string> = { '4.22.0': 'nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04' };

type Role = keyof typeof FLAGS;

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function assertKnownFlags(role: Role, args: string[], where: string): void {
  for (const a of args.filter((x) => x.startsWith('--'))) assert.ok(FLAGS[role].has(a), `${where}: ${role} has no option ${a}`);
}

function dockerfile(name: string): { from: string[]; entrypoint: string[]; cmd: string[]; tag: string; expose: string[] } {
  const text = read(name);
  const json = (key: string) => JSON.parse(new RegExp(`^${key} (\\[.*\\])$`, 'm').exec(text)![1]) as string[];
  return {
    from: [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]),
    entrypoint: json('ENTRYPOINT'),
    cmd: json('CMD'),
    tag: /docker build -f deploy\/\S+ -t (\S+) \./.exec(text)![1],
    expose: [...text.matchAll(/^EXPOSE (\d+)/gm)].map((m) => m[1]),
  };
}

describe('deployment files', () => {
  const images = { coordinator: dockerfile('coordinator.Dockerfile'), worker: dockerfile('worker-gpu.Dockerfile') };
  const roleOfImage = (image: string): Role => {
    const role = (Object.keys(images) as Role[]).find((r) => images[r].tag === image);
    assert.ok(role, `image ${image} is built by no Dockerfile in deploy/`);
    return role;
  };

  it('Dockerfiles start the CLI the package ships, with flags their command knows, on the default port', () => {
    const bin = JSON.parse(fs.readFileSync(path.resolve(DEPLOY, '../package.json'), 'utf8')).bin.gradfleet as string;
    for (const role of Object.keys(images) as Role[]) {
      const d = images[role];
      assert.deepEqual(d.entrypoint, ['node', bin, role]);
      assertKnownFlags(role, d.cmd, `${role} Dockerfile`);
    }
    assert.deepEqual(images.coordinator.expose, [DEFAULT_PORT]);
  });

  it('the GPU worker image has the CUDA and cuDNN that the pinned tfjs-node-gpu was built for', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(DEPLOY, '../package.json'), 'utf8'));
    const version = pkg.optionalDependencies['@tensorflow/tfjs-node-gpu'] as string;
    assert.ok(CUDA_FOR_TFJS_NODE_GPU[version], `no known CUDA for tfjs-node-gpu ${version}`);
    assert.ok(images.worker.from.includes(CUDA_FOR_TFJS_NODE_GPU[version]));
  });

  it('docker-compose: known flags, one port, the token from its secret, the run dir on a volume, workers on GPUs', () => {
    const compose = YAML.parse(read('docker-compose.yml'));
    const secretNames = Object.keys(compose.secrets);
    for (const [name, svc] of Object.entries<Record<string, any>>(compose.services)) {
      const role = roleOfImage(svc.image);
      if (svc.build) assert.equal(images[role].tag, svc.image, `${name} builds the image it names`);
      const args = (svc.command as unknown[]).map(String);
      assertKnownFlags(role, args, `compose ${name}`);
      const token = flagValue(args, '--token-file')!;
      assert.ok(secretNames.some((s) => token === `/run/secrets/${s}` && svc.secrets.includes(s)), `${name}: ${token} is a mounted secret`);
      if (role === 'coordinator') {
        assert.equal(flagValue(args, '--port'), DEFAULT_PORT);
        assert.deepEqual(svc.ports, [`${DEFAULT_PORT}:${DEFAULT_PORT}`]);
        const runDir = flagValue(args, '--run-dir')!;
        assert.ok((svc.volumes as string[]).some((v) => runDir.startsWith(`${v.split(':')[1]}/`)), `${name}: the run dir is on a volume`);
      } else {
        assert.equal(flagValue(args, '--coordinator'), `coordinator:${DEFAULT_PORT}`);
        assert.equal(compose.services.coordinator !== undefined, true);
        assert.equal(svc.deploy.resources.reservations.devices[0].driver, 'nvidia');
      }
    }
  });

  it('Kubernetes: the Service reaches the coordinator, workers dial it, the token is a Secret, checkpoints are on the claim', () => {
    const docs = fs
      .readdirSync(path.join(DEPLOY, 'k8s'))
      .flatMap((f) => YAML.parseAllDocuments(read(`k8s/${f}`)).map((d) => d.toJS()))
      .filter((d) => d !== null);
    const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
    const service = byKind('Service')[0];
    const claims = byKind('PersistentVolumeClaim').map((c) => c.metadata.name);
    for (const w of [...byKind('Deployment'), ...byKind('StatefulSet')]) {
      const pod = w.spec.template.spec;
      assert.deepEqual(w.spec.selector.matchLabels, w.metadata.labels);
      for (const c of pod.containers) {
        const role = roleOfImage(c.image);
        const args = (c.args as unknown[]).map(String);
        assertKnownFlags(role, args, `${w.metadata.name}`);
        for (const e of c.env ?? []) assert.ok([...FLAGS[role]].some((flag) => envNameFor(flag.slice(2)) === e.name), `${e.name} sets a ${role} option`);
        const mountOf = (file: string) => c.volumeMounts.find((m: { mountPath: string }) => file.startsWith(`${m.mountPath}/`));
        const tokenMount = mountOf(flagValue(args, '--token-file')!);
        assert.ok(tokenMount, 'the token file is mounted');
        assert.equal(pod.volumes.find((v: { name: string }) => v.name === tokenMount.name).secret.secretName, 'gradfleet-token');
        if (role === 'coordinator') {
          assert.equal(w.kind, 'Deployment');
          assert.equal(w.spec.replicas, 1);
          assert.equal(flagValue(args, '--port'), DEFAULT_PORT);
          assert.equal(flagValue(args, '--resume'), 'auto');
          assert.equal(c.ports[0].containerPort, Number(DEFAULT_PORT));
          assert.deepEqual(service.spec.selector, w.spec.selector.matchLabels);
          assert.equal(service.spec.ports[0].targetPort, c.ports[0].name);
          const runs = pod.volumes.find((v: { name: string }) => v.name === mountOf(flagValue(args, '--run-dir')!).name);
          assert.ok(claims.includes(runs.persistentVolumeClaim.claimName), 'the run dir is on the claim');
        } else {
          assert.equal(flagValue(args, '--coordinator'), `${service.metadata.name}:${service.spec.ports[0].port}`);
          assert.equal(c.resources.limits['nvidia.com/gpu'], 1);
        }
      }
    }
  });

  it('the manifests say how to create the Secret they mount', () => {
    assert.match(read('k8s/coordinator.yaml'), /kubectl create secret generic gradfleet-token --from-file=token=/);
  });
});
