/**
 * The part of the Kubernetes API (core/v1 ConfigMap, apps/v1 DaemonSet and
 * the PodSpec inside it) that control/deploy/k8s/daemonset.yaml uses, typed
 * offline: field names and types as the API reference (v1.30) gives them,
 * every object strict (an unknown or misspelt field is an error, as the API
 * server's strict field validation makes it), plus the validation rules of
 * the API server that such a manifest can break (pkg/apis/core/validation,
 * pkg/apis/apps/validation): name formats, enums, one source per volume and
 * handler per probe, mounts that name a volume, selector = template labels,
 * hugepages and extended resources with requests = limits, hugepages only
 * beside cpu or memory. Used by deploy.test.ts; written by hand because no
 * schema package (kubeconform, the OpenAPI documents) is installed here, and
 * it covers only the fields the manifest has (adding a field means adding it
 * here, from the API reference).
 */
import { z } from 'zod';

const dns1123Label = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const dns1123Subdomain = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/).max(253);
/** label keys: [prefix/]name; values: up to 63 of [A-Za-z0-9._-], alphanumeric at both ends */
const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/);
const labels = z.record(labelKey, labelValue);
const port = z.number().int().min(1).max(65535);

/** resource.Quantity: a number with a binary (Ki..Ei), decimal (n..E) or exponent suffix; YAML may give a bare number */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
export const quantity = z.union([z.number(), z.string().regex(QUANTITY, 'a resource quantity such as "2", "100m" or "1Gi"')]);
export type Quantity = z.infer<typeof quantity>;

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity ("1Gi" = 1073741824, "100m" = 0.1), so that "1Gi" and "1024Mi" compare equal. */
export function quantityValue(q: Quantity): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$/.exec(q)!;
  const exp = /^[eE]([+-]?\d+)$/.exec(m[2]);
  return Number(m[1]) * (exp ? 10 ** Number(exp[1]) : SUFFIX[m[2]]);
}

const metadata = z.object({
  name: dns1123Subdomain,
  namespace: dns1123Label.optional(),
  labels: labels.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
}).strict();

/** Linux capability names as the CRI takes them: upper case, without the CAP_ prefix. */
const capability = z.string().regex(/^(?!CAP_)[A-Z][A-Z_]*$/, 'a capability name such as NET_ADMIN (no CAP_ prefix)');

const securityContext = z.object({
  privileged: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  runAsNonRoot: z.boolean().optional(),
  runAsUser: z.number().int().optional(),
  capabilities: z.object({ add: z.array(capability).optional(), drop: z.array(z.union([capability, z.literal('ALL')])).optional() }).strict().optional(),
}).strict();

const probe = z.object({
  exec: z.object({ command: z.array(z.string()).min(1) }).strict().optional(),
  grpc: z.object({ port, service: z.string().optional() }).strict().optional(),
  httpGet: z.object({ path: z.string().optional(), port: z.union([port, z.string()]), host: z.string().optional(), scheme: z.enum(['HTTP', 'HTTPS']).optional() }).strict().optional(),
  tcpSocket: z.object({ port: z.union([port, z.string()]), host: z.string().optional() }).strict().optional(),
  initialDelaySeconds: z.number().int().min(0).optional(),
  periodSeconds: z.number().int().min(1).optional(),
  timeoutSeconds: z.number().int().min(1).optional(),
  successThreshold: z.number().int().min(1).optional(),
  failureThreshold: z.number().int().min(1).optional(),
}).strict().refine((p) => [p.exec, p.grpc, p.httpGet, p.tcpSocket].filter(Boolean).length === 1, 'a probe has exactly one handler');
export type Probe = z.infer<typeof probe>;

const resources = z.object({
  requests: z.record(z.string(), quantity).optional(),
  limits: z.record(z.string(), quantity).optional(),
}).strict();

const container = z.object({
  name: dns1123Label,
  image: z.string().min(1),
  imagePullPolicy: z.enum(['Always', 'Never', 'IfNotPresent']).optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(z.object({ name: z.string().min(1), value: z.string().optional() }).strict()).optional(),
  resources: resources.optional(),
  securityContext: securityContext.optional(),
  readinessProbe: probe.optional(),
  livenessProbe: probe.optional(),
  startupProbe: probe.optional(),
  volumeMounts: z.array(z.object({
    name: dns1123Label, mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional(), subPath: z.string().optional(),
  }).strict()).optional(),
}).strict();
export type Container = z.infer<typeof container>;

const volume = z.object({
  name: dns1123Label,
  emptyDir: z.object({
    medium: z.string().regex(/^(|Memory|HugePages|HugePages-\d+[KMG]i)$/, 'medium: "", Memory, HugePages or HugePages-<size>').optional(),
    sizeLimit: quantity.optional(),
  }).strict().optional(),
  hostPath: z.object({
    path: z.string().startsWith('/'),
    type: z.enum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']).optional(),
  }).strict().optional(),
  configMap: z.object({ name: dns1123Subdomain, optional: z.boolean().optional(), defaultMode: z.number().int().optional() }).strict().optional(),
}).strict().refine((v) => [v.emptyDir, v.hostPath, v.configMap].filter(Boolean).length === 1, 'a volume has exactly one source');
export type Volume = z.infer<typeof volume>;

export const podSpec = z.object({
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  dnsPolicy: z.enum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']).optional(),
  nodeSelector: z.record(labelKey, labelValue).optional(),
  terminationGracePeriodSeconds: z.number().int().min(0).optional(),
  priorityClassName: z.string().optional(),
  serviceAccountName: dns1123Subdomain.optional(),
  containers: z.array(container).min(1),
  volumes: z.array(volume).optional(),
}).strict();
export type PodSpec = z.infer<typeof podSpec>;

export const daemonSet = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('DaemonSet'),
  metadata,
  spec: z.object({
    selector: z.object({ matchLabels: labels }).strict(),
    updateStrategy: z.object({
      type: z.enum(['RollingUpdate', 'OnDelete']),
      rollingUpdate: z.object({ maxUnavailable: z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).optional(),
        maxSurge: z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).optional() }).strict().optional(),
    }).strict().optional(),
    minReadySeconds: z.number().int().min(0).optional(),
    template: z.object({ metadata: z.object({ labels, annotations: z.record(z.string(), z.string()).optional() }).strict(), spec: podSpec }).strict(),
  }).strict(),
}).strict();
export type DaemonSet = z.infer<typeof daemonSet>;

export const configMap = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata,
  data: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/), z.string()),
}).strict();

/** The resource names the API server knows without a device plugin. */
const NATIVE = /^(cpu|memory|ephemeral-storage|hugepages-\d+[KMG]i)$/;

/**
 * The API server's rules on a pod spec that the schema does not carry;
 * an empty list when it would accept it. Each message names the field.
 */
export function validatePod(pod: PodSpec): string[] {
  const errs: string[] = [];
  const vols = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  if (vols.size !== (pod.volumes ?? []).length) errs.push('spec.volumes: duplicate name');
  const names = new Set<string>();
  for (const c of pod.containers) {
    const at = `containers[${c.name}]`;
    if (names.has(c.name)) errs.push(`${at}: duplicate container name`);
    names.add(c.name);
    const paths = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!vols.has(m.name)) errs.push(`${at}.volumeMounts[${m.mountPath}]: no volume named ${m.name}`);
      if (paths.has(m.mountPath)) errs.push(`${at}.volumeMounts: ${m.mountPath} mounted twice`);
      paths.add(m.mountPath);
    }
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const k of new Set([...Object.keys(req), ...Object.keys(lim)])) {
      const r = req[k];
      const l = lim[k];
      if (r !== undefined && l !== undefined && quantityValue(r) > quantityValue(l)) errs.push(`${at}.resources.requests.${k}: more than its limit`);
      const hugepages = k.startsWith('hugepages-');
      const extended = !NATIVE.test(k);
      if ((hugepages || extended) && l === undefined) errs.push(`${at}.resources.limits.${k}: required (${hugepages ? 'hugepages' : 'extended resources'} cannot be overcommitted)`);
      if ((hugepages || extended) && r !== undefined && l !== undefined && quantityValue(r) !== quantityValue(l)) {
        errs.push(`${at}.resources.requests.${k}: must equal its limit`);
      }
      if (extended && !hugepages && l !== undefined && !Number.isInteger(quantityValue(l))) errs.push(`${at}.resources.limits.${k}: must be a whole number`);
      if (hugepages && !['cpu', 'memory'].some((x) => req[x] !== undefined || lim[x] !== undefined)) errs.push(`${at}.resources: HugePages require cpu or memory`);
    }
    // a HugePages-<size> emptyDir needs that size among the container's resources
    for (const m of c.volumeMounts ?? []) {
      const medium = vols.get(m.name)?.emptyDir?.medium ?? '';
      const size = /^HugePages-(.+)$/.exec(medium)?.[1];
      if (size && lim[`hugepages-${size}`] === undefined) errs.push(`${at}.volumeMounts[${m.mountPath}]: medium ${medium} without a hugepages-${size} limit`);
    }
  }
  return errs;
}

/** The pod's QoS class, as the kubelet computes it (pkg/apis/core/v1/helper/qos). */
export function qosClass(pod: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = true;
  for (const c of pod.containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const k of ['cpu', 'memory']) {
      // a request left out defaults to the limit
      const r = req[k] ?? lim[k];
      if (r !== undefined || lim[k] !== undefined) any = true;
      if (lim[k] === undefined || r === undefined || quantityValue(r) !== quantityValue(lim[k])) guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}
