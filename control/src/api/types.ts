/**
 * TypeScript view of the linerate.v1 messages as @grpc/proto-loader
 * decodes them (see proto.ts: camelCase fields, enums as their names,
 * 64-bit integers as decimal strings, defaults filled). The .proto files
 * under proto/linerate/v1 are the source; keep this in step with them.
 */

export type FamilyName = 'FAMILY_UNSPECIFIED' | 'FAMILY_IPV4' | 'FAMILY_IPV6';
/** Enum fields accept the name or the number on input. */
export type FamilyIn = FamilyName | 0 | 4 | 6;
export type U64 = string;

export interface Address { cidr: string; family?: FamilyName }
export interface NextHop { port: string; via?: string; weight?: number }

export interface PortCounters {
  rxPackets: U64; rxBytes: U64; txPackets: U64; txBytes: U64; rxDropped: U64; txDropped: U64;
  punts: U64; imissed: U64; ierrors: U64; oerrors: U64; rxNombuf: U64;
}
export interface Port {
  name: string; device: string; driver: string; mac: string; linkUp: boolean; speedMbps: number;
  mtu: number; rxQueues: number; txQueues: number; adminUp: boolean; addresses: Address[];
  counters: PortCounters | null; dpdkPortId: number;
}
export interface ListPortsRequest { [k: string]: never }
export interface ListPortsResponse { ports: Port[] }
export interface GetPortRequest { name: string }
export interface AddAddressesRequest { port: string; addresses: Address[] }
export type DeleteAddressesRequest = AddAddressesRequest;
export interface AddressesResponse { addresses: Address[] }

export interface Route { prefix: string; nextHops: NextHop[]; connected?: boolean; family?: FamilyName }
export type RouteUpdateType = 'UNSPECIFIED' | 'INSERT' | 'MODIFY' | 'DELETE';
export interface RouteUpdate { type: RouteUpdateType | 0 | 1 | 2 | 3; route: Route | null }
export interface WriteRoutesRequest { updates: RouteUpdate[] }
export interface WriteRoutesResponse { applied: number }
export interface AddRoutesRequest { routes: Route[] }
export interface DeleteRoutesRequest { prefixes: string[] }
export interface ListRoutesRequest { family?: FamilyIn; pageSize?: number; excludeConnected?: boolean }
export interface ListRoutesResponse { routes: Route[] }
export interface GetRouteRequest { prefix: string }

export type NeighborState = 'UNSPECIFIED' | 'STATIC' | 'LEARNED' | 'INCOMPLETE';
export interface Neighbor { port: string; address: string; mac: string; state?: NeighborState; ageSeconds?: number }
export interface AddNeighborsRequest { neighbors: Neighbor[] }
export type DeleteNeighborsRequest = AddNeighborsRequest;
export interface WriteNeighborsResponse { applied: number }
export interface ListNeighborsRequest { family?: FamilyIn; port?: string }
export interface ListNeighborsResponse { neighbors: Neighbor[] }

export interface Traffic { packets: U64; bytes: U64; pps: number; mpps: number; bps: number }
export interface RxQueueStats {
  queue: number; worker: number; rx: Traffic; forwarded: U64; punts: U64; dropped: U64; drops: Record<string, U64>;
}
export interface TxQueueStats { queue: number; tx: Traffic; dropped: U64 }
export interface DeviceStats {
  ipackets: U64; opackets: U64; ibytes: U64; obytes: U64; imissed: U64; ierrors: U64; oerrors: U64; rxNombuf: U64;
}
export interface PortStats {
  name: string; linkUp: boolean; speedMbps: number; rx: Traffic; tx: Traffic; forwarded: U64; punts: U64;
  dropped: U64; drops: Record<string, U64>; txDropped: U64; device: DeviceStats;
  rxQueues: RxQueueStats[]; txQueues: TxQueueStats[];
}
export interface WorkerStats {
  worker: number; lcore: number; rxQueues: number; rx: Traffic; tx: Traffic; dropped: U64; polls: U64;
  busyPolls: U64; busyCycles: U64; busyPercent: number; cyclesPerPacket: number;
}
export interface Stats {
  timestampNs: U64; intervalSeconds: number; bootId: U64; pid: number; tscHz: U64;
  rx: Traffic; tx: Traffic; dropped: U64; ports: PortStats[]; workers: WorkerStats[]; slowPath: Record<string, U64>;
}
export interface GetStatsRequest { [k: string]: never }
export interface WatchStatsRequest { intervalMs?: number }

export interface Dataplane {
  attached: boolean; name: string; pid: number; bootId: U64; startTimeNs: U64; version: number; ports: number;
  workers: number; ctlPath: string; statsPath: string; attaches: number; spawns: number;
  routes: U64; neighbors: U64; addresses: U64;
}
export interface GetDataplaneRequest { [k: string]: never }

/** Fully qualified service names (health checking uses them). */
export const serviceNames = [
  'linerate.v1.PortService',
  'linerate.v1.RouteService',
  'linerate.v1.NeighborService',
  'linerate.v1.StatsService',
  'linerate.v1.DataplaneService',
] as const;
