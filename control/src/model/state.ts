/**
 * The desired state: port addresses, routes and static neighbors, keyed and
 * in canonical form. It changes only through applyChanges(), the same code
 * for a live write and for a journal replay, so that a reload rebuilds
 * exactly what was replied to the client.
 */
import type { Family } from './net';

export interface Address { port: string; address: string; prefixLen: number; family: Family }
export interface NextHop { port: string; via?: string; weight?: number }
export interface Route { prefix: string; family: Family; nextHops: NextHop[] }
export interface Neighbor { port: string; address: string; mac: string; family: Family }

export type Change =
  | { kind: 'address'; op: 'add' | 'del'; address: Address }
  | { kind: 'route'; op: 'add' | 'del' | 'mod'; route: Route }
  | { kind: 'neighbor'; op: 'add' | 'del'; neighbor: Neighbor };

export const addressKey = (a: { address: string }): string => a.address;
export const routeKey = (r: { prefix: string }): string => r.prefix;
export const neighborKey = (n: { port: string; address: string }): string => `${n.port}|${n.address}`;
export const cidrOf = (a: Address): string => `${a.address}/${a.prefixLen}`;

/** Next hops in a canonical order with default weights dropped (for equality). */
export function normalizeNextHops(nhs: NextHop[]): NextHop[] {
  return nhs
    .map((nh) => {
      const out: NextHop = { port: nh.port };
      if (nh.via) out.via = nh.via;
      if (nh.weight && nh.weight !== 1) out.weight = nh.weight;
      return out;
    })
    .sort((a, b) => (a.port + '|' + (a.via ?? '')).localeCompare(b.port + '|' + (b.via ?? '')));
}

export function sameNextHops(a: NextHop[], b: NextHop[]): boolean {
  return JSON.stringify(normalizeNextHops(a)) === JSON.stringify(normalizeNextHops(b));
}

export class DesiredState {
  readonly addresses = new Map<string, Address>();
  readonly routes = new Map<string, Route>();
  readonly neighbors = new Map<string, Neighbor>();

  /** Applies validated changes; throws on an inconsistent one (a bug or a corrupt journal). */
  applyChanges(changes: readonly Change[]): void {
    for (const c of changes) {
      switch (c.kind) {
        case 'address':
          this.put(this.addresses, addressKey(c.address), c.address, c.op === 'add' ? 'add' : 'del');
          break;
        case 'route':
          this.put(this.routes, routeKey(c.route), c.route, c.op);
          break;
        case 'neighbor':
          this.put(this.neighbors, neighborKey(c.neighbor), c.neighbor, c.op === 'add' ? 'add' : 'del');
          break;
      }
    }
  }

  private put<T>(map: Map<string, T>, key: string, value: T, op: 'add' | 'del' | 'mod'): void {
    const has = map.has(key);
    if (op === 'add' && has) throw new Error(`state: add of existing ${key}`);
    if (op !== 'add' && !has) throw new Error(`state: ${op} of missing ${key}`);
    if (op === 'del') map.delete(key);
    else map.set(key, value);
  }

  addressesOf(port: string): Address[] {
    return [...this.addresses.values()].filter((a) => a.port === port);
  }

  /** Every entry as a change that recreates it (snapshots). */
  *asChanges(): Generator<Change> {
    for (const address of this.addresses.values()) yield { kind: 'address', op: 'add', address };
    for (const neighbor of this.neighbors.values()) yield { kind: 'neighbor', op: 'add', neighbor };
    for (const route of this.routes.values()) yield { kind: 'route', op: 'add', route };
  }

  get size(): { addresses: number; routes: number; neighbors: number } {
    return { addresses: this.addresses.size, routes: this.routes.size, neighbors: this.neighbors.size };
  }
}
