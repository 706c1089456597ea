// SPDX-License-Identifier: BSD-3-Clause
// The bare-metal bench files must stay consistent: linerate.yaml must be a
// valid linerate configuration (control's own schema), and the traffic the
// Pktgen-DPDK script sends must be what that configuration routes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { loadConfigFile } from '../../control/src/config/schema';
import { repoRoot } from '../lib/pktgen';

const dir = path.join(repoRoot, 'bench/baremetal');

function luaString(src: string, name: string): string {
  const m = new RegExp(`local ${name}\\s*=\\s*"([^"]+)"`).exec(src);
  assert.ok(m, `${name} not found in the Lua script`);
  return m[1];
}

function inPrefix(addr: string, prefix: string): boolean {
  return ipaddr.parse(addr).match(ipaddr.parseCIDR(prefix));
}

describe('bench/baremetal', function () {
  it('linerate.yaml is a valid configuration that routes the Lua script\'s traffic', function () {
    const cfg = loadConfigFile(path.join(dir, 'linerate.yaml'));
    const lua = readFileSync(path.join(dir, 'linerate-rfc2544.lua'), 'utf8');
    const [p0, p1] = cfg.ports;
    const p0net = p0.addresses[0];
    const src = luaString(lua, 'src_ip');
    assert.ok(inPrefix(src, p0net), `source ${src} is not on p0's subnet ${p0net}`);
    for (const name of ['dst_first', 'dst_last']) {
      const dst = luaString(lua, name);
      const route = cfg.routes.find((r) => inPrefix(dst, r.prefix));
      assert.ok(route, `no route for ${dst}`);
      assert.equal(route.port, p1.name, `${dst} leaves by ${route.port}, not by ${p1.name}`);
      assert.ok(route.via && inPrefix(route.via, p1.addresses[0]), 'next hop not on p1\'s subnet');
      assert.ok(cfg.neighbors.some((n) => n.address === route.via && n.port === p1.name), `no static neighbor for ${route.via}`);
    }
  });
});
