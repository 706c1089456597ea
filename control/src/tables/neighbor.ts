/**
 * The static neighbor table (NeighborService.AddNeighbors / DeleteNeighbors):
 * model entry, request validation, translation to the addon's NeighEntry,
 * and its place in reconcile and the journal. Only static entries are
 * desired state; learned and incomplete ones belong to the dataplane.
 */
import type * as dp from '../dataplane/addon';
import type * as api from '../gen';
import { invalid } from '../errors';
import { type Family, canonicalIp, parseIp, parseMac } from '../model/net';
import type { DesiredState } from '../model/state';
import { type Limits, type Op, type PortNames, type Validated, checkPort, defineTable, indexed, validateWrite } from './table';

export interface Neighbor { port: string; address: string; mac: string; family: Family }

export const neighborKey = (n: { port: string; address: string }): string => `${n.port}|${n.address}`;

export const neighborTable = defineTable<Neighbor, dp.NeighEntry, 'neighbors'>({
  kind: 'neighbor',
  name: 'neighbors',
  order: 1, // on a port's subnet (addresses); gateways of routes
  key: neighborKey,
  describe: (n) => `${n.address} on ${n.port}`,
  exists: (_cur, n) => `static neighbor ${n.address} on ${n.port} already exists`,
  missing: (n) => `no static neighbor ${n.address} on ${n.port}`,

  addon: { batch: 'neighBatch', dump: 'neighDump' },
  // 'replace': a static entry takes over a learned one.
  writeOps: { add: 'replace', mod: 'replace', del: 'del' },
  toEntry: (n, op, ports) => ({ op, portId: ports.id(n.port), address: n.address, mac: op === 'del' ? '00:00:00:00:00:00' : n.mac }),
  deleteEntry: (have) => ({ op: 'del', portId: have.portId, address: have.address, mac: have.mac }),
  dumpKey: (have, ports) => (have.state !== undefined && have.state !== 'static'
    ? null : neighborKey({ port: ports.name(have.portId), address: canonicalIp(have.address) })),
  same: (have, want) => have.mac.toLowerCase() === want.mac,
  reconcileOp: 'replace',
  missingPort: (n, ports) => (ports.has(n.port) ? undefined : `neighbor ${n.address} on ${n.port}`),
  dpKey: (e) => `${e.portId}|${e.address}`,
  dpPorts: (e) => [e.portId],

  fromConfig: (config) => config.neighbors.map((n) => {
    const ip = parseIp(n.address, n.address);
    return { port: n.port, address: ip.address, mac: parseMac(n.mac, n.mac), family: ip.family };
  }),
});

const NOT_NEIGHBOR = ['unspecified', 'multicast', 'broadcast', 'loopback'];

/** AddNeighbors / DeleteNeighbors: neighbors[i] = {port, address, mac}; a delete reads no mac. */
function validateNeighbors(op: Op, list: (api.Neighbor | null | undefined)[], state: DesiredState, ports: PortNames,
  limits: Limits): Validated {
  return validateWrite(neighborTable, {
    listField: 'neighbors', length: list.length, field: indexed('neighbors'), keyField: (i) => `neighbors[${i}].address`,
    op: () => op,
    entry(i) {
      const n = list[i];
      const field = `neighbors[${i}]`;
      if (!n) throw invalid(field, 'required');
      const port = checkPort(n.port, `${field}.port`, ports);
      const ip = parseIp(n.address, `${field}.address`);
      if (NOT_NEIGHBOR.includes(ip.ip.range())) throw invalid(`${field}.address`, `${ip.ip.range()} address ${ip.address} cannot be a neighbor`);
      return { port, address: ip.address, mac: op === 'add' ? parseMac(n.mac, `${field}.mac`) : '', family: ip.family };
    },
  }, state, limits);
}

/** NeighborService.AddNeighbors. */
export const validateAddNeighbors = (req: api.AddNeighborsRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated =>
  validateNeighbors('add', req.neighbors ?? [], state, ports, limits);

/** NeighborService.DeleteNeighbors. */
export const validateDeleteNeighbors = (req: api.DeleteNeighborsRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated =>
  validateNeighbors('del', req.neighbors ?? [], state, ports, limits);
