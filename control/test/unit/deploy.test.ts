/**
 * The deployment files (control/deploy/) checked offline: what the README's
 * "Containers" section promises of them, read from the files themselves.
 * The compose file and the DaemonSet are parsed as YAML; the linerate
 * configurations they carry are validated by linerate's own config schema.
 * No cluster runs here: Kubernetes' own validation (API schema, admission,
 * the kubelet's CPU manager and hugepage accounting) is not exercised.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadConfigFile, parseConfig } from '../../src/config/schema';

const DEPLOY = path.resolve(__dirname, '..', '..', '..', '..', 'control', 'deploy');
const ALLOWED_CAPS = new Set(['IPC_LOCK', 'SYS_NICE', 'NET_RAW', 'NET_ADMIN']);

/** "2,3" / "0-3" → [2, 3] / [0, 1, 2, 3] */
function cpuList(s: string): number[] {
  return s.split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

interface ComposeService {
  network_mode?: string; privileged?: boolean; ports?: unknown; cap_drop?: string[]; cap_add?: string[]; cpuset?: string;
  volumes?: string[]; ulimits?: { memlock?: number }; security_opt?: string[];
}

describe('deployment files (offline checks)', () => {
  it('compose: linerate in host mode with the least privilege, the CLI as a sidecar, nothing published', () => {
    const doc = YAML.parse(fs.readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
    const lr = doc.services.linerate;
    assert.equal(lr.network_mode, 'host');
    assert.notEqual(lr.privileged, true);
    assert.deepEqual(lr.cap_drop, ['ALL']);
    for (const c of lr.cap_add ?? []) assert.ok(ALLOWED_CAPS.has(c), `capability ${c}`);
    assert.ok(lr.cap_add?.includes('IPC_LOCK') && lr.cap_add.includes('SYS_NICE'));
    assert.equal(lr.ulimits?.memlock, -1);
    assert.ok(lr.security_opt?.includes('no-new-privileges:true'));
    assert.ok(lr.volumes?.includes('/dev/hugepages:/dev/hugepages'));
    const cfg = loadConfigFile(path.join(DEPLOY, 'linerate.yaml'));
    assert.deepEqual(cpuList(lr.cpuset!), cpuList(cfg.dataplane.lcores), 'cpuset = the config\'s lcores');
    assert.match(cfg.grpc.listen, /^127\.0\.0\.1:/, 'gRPC on loopback');
    assert.equal(doc.services.cli.network_mode, 'service:linerate');
    for (const [name, s] of Object.entries(doc.services)) {
      assert.equal(s.ports, undefined, `${name} publishes no port`);
      assert.notEqual(s.privileged, true, `${name} is not privileged`);
    }
  });

  it('DaemonSet: host network, Guaranteed QoS with whole CPUs = lcores, hugepages, a sidecar, state on a hostPath', () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(DEPLOY, 'k8s', 'daemonset.yaml'), 'utf8')).map((d) => d.toJS() as {
      kind: string; data?: Record<string, string>; spec?: { template: { spec: PodSpec } };
    });
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    const cfg = parseConfig(YAML.parse(cm.data!['linerate.yaml']), 'ConfigMap linerate-config');
    assert.match(cfg.grpc.listen, /^127\.0\.0\.1:/);
    const pod = docs.find((d) => d.kind === 'DaemonSet')!.spec!.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.ok(pod.containers.length >= 2, 'the sidecar is a second container');
    for (const c of pod.containers) {
      assert.deepEqual(c.resources.requests, c.resources.limits, `${c.name}: requests = limits (Guaranteed)`);
      assert.notEqual(c.securityContext?.privileged, true, `${c.name} not privileged`);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
      for (const cap of c.securityContext?.capabilities?.add ?? []) assert.ok(ALLOWED_CAPS.has(cap), `${c.name}: ${cap}`);
    }
    const lr = pod.containers.find((c) => c.name === 'linerate')!;
    const cpus = lr.resources.limits.cpu;
    assert.match(String(cpus), /^\d+$/, 'whole CPUs (exclusive under the static CPU manager)');
    assert.equal(Number(cpus), cpuList(cfg.dataplane.lcores).length, 'one CPU per lcore');
    assert.ok(lr.resources.limits['hugepages-2Mi']);
    const vol = (m: string) => pod.volumes.find((v) => v.name === lr.volumeMounts.find((x) => x.mountPath === m)?.name);
    assert.equal(vol('/dev/hugepages')?.emptyDir?.medium, 'HugePages-2Mi');
    assert.ok(vol('/var/lib/linerate')?.hostPath, 'state on a hostPath');
  });
});

interface PodSpec {
  hostNetwork?: boolean;
  containers: {
    name: string;
    resources: { requests: Record<string, string | number>; limits: Record<string, string | number> };
    securityContext?: { privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; emptyDir?: { medium?: string }; hostPath?: { path: string } }[];
}
