/**
 * The deployment files (control/deploy/) checked offline: what the README's
 * "Containers" section promises of them, read from the files themselves.
 * The compose file and the DaemonSet are parsed as YAML; the linerate
 * configurations they carry are validated by linerate's own config schema;
 * the DaemonSet and its ConfigMap against the Kubernetes API types' fields
 * and the API server's validation rules they could break (k8s-api.ts, typed
 * by hand from the API reference), and the pod's QoS class as the kubelet
 * computes it. No cluster runs here: the API server itself, admission, the
 * kubelet's CPU manager (which CPUs the pod gets), hugepage accounting and
 * the device plugin are not exercised.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadConfigFile, parseConfig } from '../../src/config/schema';
import { configMap, daemonSet, type PodSpec as K8sPod, type Probe, qosClass, quantityValue, validatePod } from './k8s-api';

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

  describe('DaemonSet against the Kubernetes API types (offline)', () => {
    const docs = (): Record<string, unknown>[] =>
      YAML.parseAllDocuments(fs.readFileSync(path.join(DEPLOY, 'k8s', 'daemonset.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
    const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string[] =>
      r.success ? [] : r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

    /** Everything wrong with the manifest, as the API server (schema, validation) and the promises of the README see it. */
    function check(all: Record<string, unknown>[]): string[] {
      const errs: string[] = [];
      const cmDoc = all.find((d) => d.kind === 'ConfigMap');
      const dsDoc = all.find((d) => d.kind === 'DaemonSet');
      if (!cmDoc || !dsDoc) return ['a ConfigMap and a DaemonSet'];
      const cmR = configMap.safeParse(cmDoc);
      const dsR = daemonSet.safeParse(dsDoc);
      errs.push(...issues(cmR).map((e) => `ConfigMap ${e}`), ...issues(dsR).map((e) => `DaemonSet ${e}`));
      if (!cmR.success || !dsR.success) return errs;
      const cm = cmR.data;
      const ds = dsR.data;
      const pod: K8sPod = ds.spec.template.spec;
      errs.push(...validatePod(pod));
      for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) {
        if (ds.spec.template.metadata.labels[k] !== v) errs.push(`spec.selector.matchLabels.${k}: does not match the template's labels`);
      }
      if (cm.metadata.namespace !== ds.metadata.namespace) errs.push('the ConfigMap and the DaemonSet are in different namespaces');
      if (qosClass(pod) !== 'Guaranteed') errs.push(`QoS class ${qosClass(pod)}, not Guaranteed: no exclusive CPUs`);
      if (pod.hostNetwork !== true) errs.push('hostNetwork is not true');
      const lr = pod.containers.find((c) => c.name === 'linerate');
      if (!lr) return [...errs, 'no linerate container'];
      if (pod.containers.length < 2) errs.push('no sidecar container');
      const cfg = parseConfig(YAML.parse(Object.values(cm.data)[0]), 'ConfigMap');
      const cpu = lr.resources?.limits?.cpu;
      if (cpu === undefined || !Number.isInteger(quantityValue(cpu))) errs.push('linerate: cpu is not a whole number (the static CPU manager gives exclusive CPUs only then)');
      else if (quantityValue(cpu) !== cpuList(cfg.dataplane.lcores).length) errs.push('linerate: cpu differs from the number of lcores');
      // the config file the args name is the ConfigMap's key under a mount of that ConfigMap
      const cfgArg = lr.args?.[(lr.args?.indexOf('--config') ?? -2) + 1];
      const mount = lr.volumeMounts?.find((m) => cfgArg?.startsWith(`${m.mountPath}/`));
      const vol = pod.volumes?.find((v) => v.name === mount?.name);
      if (!cfgArg || !mount || vol?.configMap?.name !== cm.metadata.name || !(cfgArg.slice(mount.mountPath.length + 1) in cm.data)) {
        errs.push(`linerate: --config ${cfgArg} is not a key of ConfigMap ${cm.metadata.name} mounted in the container`);
      }
      const hp = lr.volumeMounts?.find((m) => m.mountPath === '/dev/hugepages');
      if (!hp || !/^HugePages/.test(pod.volumes?.find((v) => v.name === hp.name)?.emptyDir?.medium ?? '')) errs.push('linerate: no HugePages emptyDir at /dev/hugepages');
      const state = lr.volumeMounts?.find((m) => m.mountPath === '/var/lib/linerate');
      if (!state || !pod.volumes?.find((v) => v.name === state.name)?.hostPath) errs.push('linerate: state is not on a hostPath');
      // Probes connect to the pod IP (grpc always; httpGet/tcpSocket without host): under hostNetwork that is the
      // node's address, and a loopback-only listener never answers there.
      const loopback = /^(127\.|\[::1\]|localhost)/.test(cfg.grpc.listen);
      for (const c of pod.containers) {
        for (const [kind, p] of Object.entries({ readinessProbe: c.readinessProbe, livenessProbe: c.livenessProbe, startupProbe: c.startupProbe })) {
          const net: Probe['tcpSocket'] | Probe['grpc'] = p?.grpc ?? p?.httpGet ?? p?.tcpSocket;
          const host = p?.httpGet?.host ?? p?.tcpSocket?.host;
          if (pod.hostNetwork && loopback && net && !(host && /^(127\.|::1|localhost)/.test(host))) {
            errs.push(`${c.name}.${kind}: connects to the pod IP (the node's, under hostNetwork), where the loopback-only gRPC does not listen`);
          }
        }
      }
      for (const c of pod.containers) {
        if (c.securityContext?.privileged) errs.push(`${c.name}: privileged`);
        if (!c.securityContext?.capabilities?.drop?.includes('ALL')) errs.push(`${c.name}: does not drop ALL capabilities`);
        for (const cap of c.securityContext?.capabilities?.add ?? []) if (!ALLOWED_CAPS.has(cap)) errs.push(`${c.name}: capability ${cap}`);
      }
      return errs;
    }

    it('passes: fields, types and enums of apps/v1 and core/v1, validation rules, Guaranteed QoS, the README\'s promises', () => {
      assert.deepEqual(check(docs()), []);
    });

    it('the check catches what a cluster would refuse or a deployment would break on', () => {
      const mutate = (f: (ds: { spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[]; volumes: Record<string, unknown>[] } } } }) => void): string[] => {
        const all = docs();
        f(all.find((d) => d.kind === 'DaemonSet') as never);
        return check(all);
      };
      type C = { resources: { requests: Record<string, unknown>; limits: Record<string, unknown> }; securityContext: { capabilities: { add: string[] } } } & Record<string, unknown>;
      const lr = (ds: { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }): C => ds.spec.template.spec.containers[0] as C;
      const cases: [string, RegExp, Parameters<typeof mutate>[0]][] = [
        ['a misspelt field', /hostNetwrok|Unrecognized key/, (ds) => { ds.spec.template.spec.hostNetwrok = true; delete ds.spec.template.spec.hostNetwork; }],
        ['hugepages requests != limits', /hugepages-2Mi: must equal its limit/, (ds) => { lr(ds).resources.requests['hugepages-2Mi'] = '1Gi'; }],
        ['a cpu request below its limit (Burstable)', /QoS class Burstable/, (ds) => { lr(ds).resources.requests.cpu = '1'; }],
        ['fractional CPUs', /cpu is not a whole number/, (ds) => { lr(ds).resources.requests.cpu = '1500m'; lr(ds).resources.limits.cpu = '1500m'; }],
        ['a gRPC probe under hostNetwork', /readinessProbe: connects to the pod IP/, (ds) => { lr(ds).readinessProbe = { grpc: { port: 50051 } }; }],
        ['a mount without a volume', /no volume named nothing/, (ds) => { (lr(ds).volumeMounts as { name: string }[])[0].name = 'nothing'; }],
        ['a bad hostPath type', /Invalid enum value|invalid_enum_value|Invalid option/i, (ds) => { (ds.spec.template.spec.volumes.find((v) => v.name === 'state') as { hostPath: { type: string } }).hostPath.type = 'Dir'; }],
        ['a CAP_ prefix', /no CAP_ prefix/, (ds) => { lr(ds).securityContext.capabilities.add = ['CAP_IPC_LOCK']; }],
        ['SYS_ADMIN', /capability SYS_ADMIN/, (ds) => { lr(ds).securityContext.capabilities.add = ['IPC_LOCK', 'SYS_ADMIN']; }],
        ['an extended resource overcommitted', /intel\.com\/sriov_netdevice: must equal its limit/, (ds) => { lr(ds).resources.requests['intel.com/sriov_netdevice'] = '1'; }],
      ];
      for (const [what, re, f] of cases) {
        const errs = mutate(f);
        assert.ok(errs.some((e) => re.test(e)), `${what}: expected an error matching ${re}, got ${JSON.stringify(errs)}`);
      }
      assert.equal(quantityValue('1Gi'), quantityValue('1024Mi'));
      assert.equal(quantityValue('100m'), 0.1);
    });
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
