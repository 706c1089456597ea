/**
 * A test rig: N wires (veth pairs) given to one real linerate-dp, run by a
 * real `linerate serve`; plus the checks that a suite left nothing behind.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { isAlive } from './cleanup';
import { hugepageFiles, missingPrerequisite, newHugepageFiles, uniqueId } from './env';
import { loadAddon } from '../../src/dataplane/addon';
import type { TestClient } from './grpc';
import { Serve, type ServeOptions } from './serve';
import { createLab, createWire, leftovers, type Lab, type Wire } from './topology';

/**
 * Called first in a suite's before(): skips the suite when the machine
 * cannot run it (not root), fails it when something `npm test` should have
 * provided is missing.
 */
export function requireIntegration(ctx: Mocha.Context): void {
  const why = missingPrerequisite();
  if (!why) return;
  if (why.includes('root') && !process.env.LINERATE_REQUIRE_INTEGRATION) {
    process.stderr.write(`  skipping: ${why}\n`);
    ctx.skip();
  }
  throw new Error(why);
}

export interface Rig {
  id: string;
  wires: Wire[];
  /** Namespaced hosts instead of bare wires (startLabRig). */
  lab?: Lab;
  serve: Serve;
  hugepagesBefore: Set<string>;
  /** Dataplane pids seen while the rig ran (checked gone at the end). */
  pids: Set<number>;
  client(): TestClient;
}

/** Creates the wires, starts serve (which spawns linerate-dp) and waits until attached. */
export async function startRig(tag: string, nWires: number, opts: (wires: Wire[], id: string) => Omit<ServeOptions, 'name'>): Promise<Rig> {
  const id = uniqueId();
  const hugepagesBefore = hugepageFiles();
  const wires: Wire[] = [];
  for (let i = 0; i < nWires; i++) wires.push(createWire(id, i));
  return launchRig(id, tag, hugepagesBefore, { wires }, opts(wires, id));
}

/** Starts serve for a rig whose topology exists; on failure undoes everything. */
async function launchRig(id: string, tag: string, hugepagesBefore: Set<string>, topo: { wires: Wire[]; lab?: Lab },
  serveOpts: Omit<ServeOptions, 'name'>): Promise<Rig> {
  const serve = new Serve({ name: `lrt-${id}-${tag}`, ...serveOpts });
  const rig: Rig = {
    id, ...topo, serve, hugepagesBefore, pids: new Set(),
    client: () => {
      if (!serve.client) throw new Error('serve is not running');
      return serve.client;
    },
  };
  try {
    await serve.start();
  } catch (err) {
    stopRig(rig);
    throw err;
  }
  const pid = serve.dataplanePid();
  if (pid) rig.pids.add(pid);
  return rig;
}

/** Like startRig, but the ports lead to namespaces with real kernel hosts (createLab). */
export async function startLabRig(tag: string, opts: (lab: Lab, id: string) => Omit<ServeOptions, 'name'>): Promise<Rig> {
  const id = uniqueId();
  const hugepagesBefore = hugepageFiles();
  const lab = createLab(id);
  return launchRig(id, tag, hugepagesBefore, { wires: [], lab }, opts(lab, id));
}

/** Stops everything the rig started (idempotent; also run by the exit handler). */
export function stopRig(rig: Rig | undefined): void {
  if (!rig) return;
  const pid = rig.serve.dataplanePid();
  if (pid) rig.pids.add(pid);
  if (rig.serve.proc?.pid) rig.pids.add(rig.serve.proc.pid);
  rig.serve.destroy();
  for (const w of rig.wires) w.destroy();
  rig.lab?.destroy();
}

/** Stops the rig and asserts nothing of it remains. */
export function stopRigAndCheckClean(rig: Rig): void {
  stopRig(rig);
  const alive = [...rig.pids].filter((p) => isAlive(p));
  assert.deepEqual(alive, [], 'processes still running');
  assert.deepEqual(leftovers(rig.id), [], 'interfaces or namespaces left');
  assert.equal(fs.existsSync(rig.serve.statsPath), false, `stats file ${rig.serve.statsPath} left`);
  const ctl = `${rig.serve.runDir}/ctl.sock`;
  assert.equal(fs.existsSync(ctl), false, `control socket ${ctl} left`);
  assert.equal(fs.existsSync(`/var/run/dpdk/${rig.serve.filePrefix}`), false, 'EAL run dir left');
  assert.deepEqual(newHugepageFiles(rig.hugepagesBefore), [], 'hugepage files left in /dev/hugepages');
}

/** Counter of a port's drop reason, from gRPC GetStats. */
export async function dropCount(client: TestClient, port: string, reason: string): Promise<bigint> {
  const stats = await client.stats.getStats({});
  const p = stats.ports.find((x) => x.name === port);
  if (!p) throw new Error(`no port ${port} in stats`);
  return BigInt(p.drops[reason] ?? '0');
}

const dumped = new WeakSet<Rig>();

/** afterEach hook body: on a rig's first failure, show what serve and the dataplane said. */
export function dumpOnFailure(ctx: Mocha.Context, rig: Rig | undefined): void {
  if (!rig || ctx.currentTest?.state !== 'failed' || dumped.has(rig)) return;
  dumped.add(rig);
  process.stderr.write(`\n--- serve output (${rig.serve.opts.name}) ---\n${rig.serve.tail()}\n` +
    `--- dataplane log ---\n${rig.serve.dpLog()}\n`);
}

export interface DataplaneTables { routes: string[]; neighbors: string[]; addresses: string[] }

/**
 * The tables as the dataplane itself holds them, read over its control
 * socket with the addon (a second client beside serve's): what a test
 * compares to prove a refused request changed nothing, or that a restart
 * reprogrammed everything. Learned neighbors are left out (they come and go).
 */
export async function dataplaneTables(rig: Rig): Promise<DataplaneTables> {
  const { Dataplane } = loadAddon();
  const dp = new Dataplane();
  await dp.connect(`${rig.serve.runDir}/ctl.sock`, 5000);
  try {
    const nh = (n: { portId: number; via?: string; weight?: number }) => `${n.portId}/${n.via ?? ''}/${n.weight ?? ''}`;
    const routes = (await dp.routeDump(0)).map((r) => `${r.prefix}${r.connected ? ' connected' : ''} ${r.nextHops.map(nh).join(',')}`);
    const neighbors = (await dp.neighDump(0)).filter((n) => n.state === 'static').map((n) => `${n.portId} ${n.address} ${n.mac}`);
    const addresses = (await dp.addrDump()).map((a) => `${a.portId} ${a.address}/${a.prefixLen}`);
    return { routes: routes.sort(), neighbors: neighbors.sort(), addresses: addresses.sort() };
  } finally {
    dp.close();
  }
}
