/** linerate.v1.NeighborService: static entries are desired state; the list is the dataplane's table. */
import type * as api from '../gen';
import type { NeighborServiceHandlers } from '../gen/linerate/v1/NeighborService';
import type { Controller } from '../controller';
import { notFound, quote } from '../errors';
import type { Logger } from '../log';
import { canonicalIp, familyOf, parseFamily } from '../model/net';
import { validateAddNeighbors, validateDeleteNeighbors } from '../tables/neighbor';
import { unary } from './common';
import ipaddr from 'ipaddr.js';

const stateName: Record<string, api._linerate_v1_Neighbor_State__Output> = { static: 'STATIC', learned: 'LEARNED', incomplete: 'INCOMPLETE' };

/** Sort key: port, then family, then address bytes. */
function addrBytes(a: string): string {
  return ipaddr.parse(a).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function neighborService(ctl: Controller, log: Logger): NeighborServiceHandlers {
  return {
    AddNeighbors: unary(log, 'AddNeighbors', async (req) => ({
      applied: await ctl.write((state, a) => validateAddNeighbors(req, state, a.ports, ctl.limits)),
    })),
    DeleteNeighbors: unary(log, 'DeleteNeighbors', async (req) => ({
      applied: await ctl.write((state, a) => validateDeleteNeighbors(req, state, a.ports, ctl.limits)),
    })),
    ListNeighbors: unary(log, 'ListNeighbors', async (req) => {
      const family = parseFamily(req.family, 'family');
      const a = ctl.attached();
      if (req.port && !a.ports.has(req.port)) throw notFound('port', `unknown port ${quote(req.port)}`);
      const dump = await a.dp.neighDump(family);
      const neighbors = dump
        .map((n): api.Neighbor__Output => ({
          port: a.ports.name(n.portId),
          address: canonicalIp(n.address),
          mac: n.state === 'incomplete' ? '' : n.mac,
          state: stateName[n.state ?? 'static'] ?? 'UNSPECIFIED',
          ageSeconds: n.ageSeconds ?? 0,
        }))
        .filter((n) => !req.port || n.port === req.port)
        .sort((x, y) => x.port.localeCompare(y.port) || familyOf(x.address) - familyOf(y.address)
          || addrBytes(x.address).localeCompare(addrBytes(y.address)));
      return { neighbors };
    }),
  };
}
