/**
 * The UPF configuration (UpfService.SetConfig; the dataplane's `upf` stage
 * reads it: lr_upf_config in dataplane/include/lr_upf.h) as a one-entry
 * desired-state table: the N3 address and the interface (access / core) of
 * each port by name. Being a table, it is journaled and snapshotted by the
 * state store and pushed again by reconcile into a respawned dataplane.
 */
import type * as dp from '../dataplane/addon';
import type { PortMap } from '../dataplane/translate';
import { invalid, notFound, quote } from '../errors';
import type * as api from '../gen';
import { parseIp } from '../model/net';
import { type PortNames, defineTable } from './table';

export const UPF_CONFIG_KEY = 'upf';

export interface UpfConfig {
  n3Address: string;                       // '' = none
  ports: Record<string, dp.UpfInterface>;  // by port name
}

const IFACE: Record<string, dp.UpfInterface | undefined> = { INTERFACE_ACCESS: 'access', INTERFACE_CORE: 'core', 1: 'access', 2: 'core' };

/** SetConfig's request as a model entry; names the field at fault. */
export function parseUpfConfig(req: api.UpfConfig, ports: PortNames): UpfConfig {
  let n3 = '';
  if (req.n3Address) {
    const ip = parseIp(req.n3Address, 'n3_address');
    if (ip.family !== 4) throw invalid('n3_address', `${ip.address} is not an IPv4 address`);
    n3 = ip.address;
  }
  const out: Record<string, dp.UpfInterface> = {};
  for (const [name, v] of Object.entries(req.ports ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!ports.has(name)) throw notFound(`ports[${quote(name)}]`, `unknown port ${quote(name)}`);
    const i = IFACE[String(v)];
    if (!i) throw invalid(`ports[${quote(name)}]`, 'INTERFACE_ACCESS or INTERFACE_CORE');
    out[name] = i;
  }
  return { n3Address: n3, ports: out };
}

function toEntry(c: UpfConfig, op: dp.BatchOp, ports: PortMap): dp.UpfConfigEntry {
  const byId: Record<string, dp.UpfInterface> = {};
  for (const [name, i] of Object.entries(c.ports)) if (ports.has(name)) byId[String(ports.id(name))] = i;
  return { op, n3Address: c.n3Address, ports: byId };
}

const text = (n3: string, ports: Record<string, dp.UpfInterface>): string =>
  JSON.stringify([n3 === '0.0.0.0' ? '' : n3, Object.entries(ports).sort(([a], [b]) => a.localeCompare(b))]);

export const upfConfigTable = defineTable<UpfConfig, dp.UpfConfigEntry, 'upfConfig'>({
  kind: 'upf-config',
  name: 'upfConfig',
  order: 4, // before the sessions
  key: () => UPF_CONFIG_KEY,
  describe: () => 'the UPF configuration',
  exists: () => 'the UPF configuration is set',
  missing: () => 'no UPF configuration',

  addon: { batch: 'upfConfigWrite', dump: 'upfConfigDump' },
  writeOps: { add: 'add', mod: 'replace', del: 'del' },
  toEntry,
  deleteEntry: () => ({ op: 'del', n3Address: '', ports: {} }),
  dumpKey: () => UPF_CONFIG_KEY,
  same: (have, want, ports) => {
    const named: Record<string, dp.UpfInterface> = {};
    for (const [id, i] of Object.entries(have.ports)) named[ports.name(Number(id))] = i;
    return text(have.n3Address, named) === text(want.n3Address, want.ports);
  },
  reconcileOp: 'replace',
  missingPort: (c, ports) => {
    const gone = Object.keys(c.ports).find((p) => !ports.has(p));
    return gone && `the UPF configuration's port ${gone}`;
  },
  dpKey: () => UPF_CONFIG_KEY,
  dpPorts: (e) => Object.keys(e.ports).map(Number),
});
