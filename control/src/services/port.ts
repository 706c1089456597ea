/** linerate.v1.PortService: ports from the dataplane, addresses from the desired state. */
import type * as api from '../gen';
import type { PortServiceHandlers } from '../gen/linerate/v1/PortService';
import type { Controller } from '../controller';
import type { PortHwStats, PortInfo } from '../dataplane/addon';
import { invalid, notFound } from '../errors';
import type { Logger } from '../log';
import { addressesOf, validateAddAddresses, validateDeleteAddresses } from '../tables/address';
import { portCounters } from '../stats/rates';
import { addressMsg, unary } from './common';

function portMsg(ctl: Controller, p: PortInfo, hw: PortHwStats | undefined): api.Port {
  return {
    name: p.name,
    device: p.device,
    driver: p.driver,
    mac: p.mac,
    linkUp: p.linkUp,
    speedMbps: p.speedMbps,
    mtu: p.mtu,
    rxQueues: p.rxQueues,
    txQueues: p.txQueues,
    adminUp: p.adminUp,
    dpdkPortId: p.dpdkPortId,
    addresses: addressesOf(ctl.state, p.name).map(addressMsg),
    counters: hw ? portCounters(hw) : null,
  };
}

async function listPorts(ctl: Controller): Promise<api.Port[]> {
  const a = ctl.attached();
  const ports = await a.dp.portList();
  const snap = ctl.snapshot();
  return ports.map((p) => portMsg(ctl, p, snap?.ports[p.portId]));
}

export function portService(ctl: Controller, log: Logger): PortServiceHandlers {
  const addresses = (port: string): api.AddressesResponse => ({ addresses: addressesOf(ctl.state, port).map(addressMsg) });
  return {
    ListPorts: unary(log, 'ListPorts', async () => ({ ports: await listPorts(ctl) })),
    GetPort: unary(log, 'GetPort', async (req) => {
      if (!req.name) throw invalid('name', 'required');
      const p = (await listPorts(ctl)).find((x) => x.name === req.name);
      if (!p) throw notFound('name', `unknown port ${JSON.stringify(req.name)}`);
      return p;
    }),
    AddAddresses: unary(log, 'AddAddresses', async (req) => {
      await ctl.write((state, a) => validateAddAddresses(req, state, a.ports, ctl.limits));
      return addresses(req.port);
    }),
    DeleteAddresses: unary(log, 'DeleteAddresses', async (req) => {
      await ctl.write((state, a) => validateDeleteAddresses(req, state, a.ports, ctl.limits));
      return addresses(req.port);
    }),
  };
}
