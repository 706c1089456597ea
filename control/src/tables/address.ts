/**
 * The port address table (PortService.AddAddresses / DeleteAddresses; the
 * dataplane answers ARP/ND and ping for these and derives connected routes
 * from them): model entry, request validation, translation to the addon's
 * AddrEntry, and its place in reconcile and the journal. An address is
 * unique across ports.
 */
import type * as dp from '../dataplane/addon';
import type * as api from '../gen';
import { type Family, canonicalIp, parseCidr, parseInterfaceAddress } from '../model/net';
import type { DesiredState } from '../model/state';
import { type Limits, type Op, type PortNames, type Validated, checkPort, defineTable, indexed, validateWrite } from './table';

export interface Address { port: string; address: string; prefixLen: number; family: Family }

export const cidrOf = (a: Address): string => `${a.address}/${a.prefixLen}`;

export const addressTable = defineTable<Address, dp.AddrEntry, 'addresses'>({
  kind: 'address',
  name: 'addresses',
  order: 0, // neighbors and routes rely on the subnets addresses make on-link
  key: (a) => a.address,
  describe: (a) => a.address,
  exists: (cur) => `${cur.address} is already an address of ${cur.port} (${cidrOf(cur)})`,
  missing: (a) => `${cidrOf(a)} is not an address of ${a.port}`,
  matches: (cur, a) => cur.port === a.port && cur.prefixLen === a.prefixLen,

  addon: { batch: 'addrBatch', dump: 'addrDump' },
  writeOps: { add: 'add', mod: 'replace', del: 'del' },
  toEntry: (a, op, ports) => ({ op, portId: ports.id(a.port), address: a.address, prefixLen: a.prefixLen }),
  deleteEntry: (have) => ({ op: 'del', portId: have.portId, address: have.address, prefixLen: have.prefixLen }),
  dumpKey: (have) => canonicalIp(have.address),
  same: (have, want, ports) => have.portId === ports.id(want.port) && have.prefixLen === want.prefixLen,
  reconcileOp: 'add', // a changed address (other port or length) is deleted, then added
  missingPort: (a, ports) => (ports.has(a.port) ? undefined : `address ${a.address} on ${a.port}`),
  dpKey: (e) => e.address,
  dpPorts: (e) => [e.portId],

  fromConfig: (config) => config.ports.flatMap((p) => p.addresses.map((text) => {
    const c = parseCidr(text, text);
    return { port: p.name, address: c.address, prefixLen: c.prefixLen, family: c.family };
  })),
});

/** The addresses of one port, in the order they were added. */
export const addressesOf = (state: DesiredState, port: string): Address[] =>
  [...state.addresses.values()].filter((a) => a.port === port);

/** AddAddresses / DeleteAddresses: one port, addresses[i].cidr. */
function validateAddresses(op: Op, req: api.AddAddressesRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated {
  const port = checkPort(req.port, 'port', ports);
  const list = req.addresses ?? [];
  return validateWrite(addressTable, {
    listField: 'addresses', length: list.length, field: indexed('addresses'), keyField: (i) => `addresses[${i}].cidr`,
    op: () => op,
    entry(i) {
      const p = parseInterfaceAddress(list[i]?.cidr, `addresses[${i}].cidr`);
      return { port, address: p.address, prefixLen: p.prefixLen, family: p.family };
    },
  }, state, limits);
}

/** PortService.AddAddresses. */
export const validateAddAddresses = (req: api.AddAddressesRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated =>
  validateAddresses('add', req, state, ports, limits);

/** PortService.DeleteAddresses. */
export const validateDeleteAddresses = (req: api.DeleteAddressesRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated =>
  validateAddresses('del', req, state, ports, limits);
