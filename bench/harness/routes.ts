// SPDX-License-Identifier: BSD-3-Clause
// Route tables and traffic address plans of the benchmark (pure).
//
// Main table: the one DPDK's l3fwd carries by default (198.18.k.0/24 for
// k = 0..15 to port k), with port k mod 2 here, so linerate and l3fwd do
// the same lookups; the main traffic goes to 198.18.1.0/24 (out of p1).
//
// Scale tables of N routes: the scale traffic has F flows to consecutive
// destinations from 16.0.0.0 (F a power of two). T = min(N, F) rounded down
// to a power of two "traffic routes" split that range evenly (N = 1: one
// /16; N = 1000: 512 x /25; N >= 65536: 65536 x /32), so the flows spread
// over T routes; the other N - T are /24s from 32.0.0.0 up that no packet
// hits but that fill the table as a full routing table would.

import type * as api from '../../control/src/gen';

export const MAIN_TRAFFIC_DST = '198.18.1.0';
export const SCALE_TRAFFIC_DST = '16.0.0.0';
const SCALE_BASE = ip4('16.0.0.0');
const FILLER_BASE = ip4('32.0.0.0');

/** Where a route leads: the generator's receive side or its send side. */
export interface Gateways {
  /** on p1, the generator's RX port */
  out: api.NextHop;
  /** on p0, the generator's TX port */
  back: api.NextHop;
}

export function ip4(s: string): number {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function ip4str(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** l3fwd's default IPv4 table, ports folded onto p0/p1. */
export function mainTable(gw: Gateways): (api.Route & { prefix: string })[] {
  return Array.from({ length: 16 }, (_, k) => ({ prefix: `198.18.${k}.0/24`, nextHops: [k % 2 ? gw.out : gw.back] }));
}

/** Largest power of two <= n (n >= 1). */
export function floorPow2(n: number): number {
  if (!(n >= 1)) throw new Error(`floorPow2(${n})`);
  return 2 ** Math.floor(Math.log2(n));
}

export interface ScalePlan {
  /** routes in the table */
  routes: number;
  /** routes the traffic spreads over */
  trafficRoutes: number;
  /** their prefix length */
  trafficPlen: number;
  /** the prefixes, traffic routes first */
  prefixes: string[];
}

/** The table of `routes` routes for scale traffic of `flows` flows (a power of two <= 2^16). */
export function scalePlan(routes: number, flows: number): ScalePlan {
  if (!Number.isInteger(routes) || routes < 1) throw new Error(`routes must be a positive integer, got ${routes}`);
  if (flows !== floorPow2(flows) || flows > 65536) throw new Error(`flows must be a power of two <= 65536, got ${flows}`);
  const t = floorPow2(Math.min(routes, flows));
  // the traffic range is 16.0.0.0 + [0, flows): T prefixes of flows / T addresses
  const span = flows / t;
  const trafficPlen = 32 - Math.log2(span);
  const prefixes: string[] = new Array(routes);
  for (let i = 0; i < t; i++) prefixes[i] = `${ip4str(SCALE_BASE + i * span)}/${trafficPlen}`;
  for (let j = 0; j < routes - t; j++) prefixes[t + j] = `${ip4str(FILLER_BASE + j * 256)}/24`;
  if (FILLER_BASE + (routes - t) * 256 > ip4('120.0.0.0')) throw new Error(`too many routes for the filler range: ${routes}`);
  return { routes, trafficRoutes: t, trafficPlen, prefixes };
}

/** Splits `items` into batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new Error(`batch size must be >= 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What turns table `from` into table `to` (prefix sets). */
export function diff(from: ReadonlySet<string>, to: readonly string[]): { del: string[]; add: string[] } {
  const want = new Set(to);
  const del = [...from].filter((p) => !want.has(p));
  const add = to.filter((p) => !from.has(p));
  return { del, add };
}

/**
 * Churn sets: `count` /32 host routes that overlap the main traffic (all
 * of 198.18.1.0/24 first, where packets are flowing, then 100.64.0.0/10
 * addresses no packet uses). Inserting and deleting them leaves every
 * destination routed (the /24 covers it), so any loss is the update's
 * fault, not the table's.
 */
export function churnPrefixes(count: number): string[] {
  const out: string[] = [];
  const hot = ip4(MAIN_TRAFFIC_DST);
  for (let i = 0; i < Math.min(256, count); i++) out.push(`${ip4str(hot + i)}/32`);
  const cold = ip4('100.64.0.0');
  for (let i = 0; out.length < count; i++) {
    if (i >= 1 << 22) throw new Error(`too many churn routes: ${count}`);
    out.push(`${ip4str(cold + i)}/32`);
  }
  return out;
}
