/**
 * Typed gRPC client of the linerate.v1 API (used by the CLI and the tests):
 * promise-returning unary calls, async iteration over ListRoutes pages, and
 * the raw stream for WatchStats.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type * as api from './gen';
import { loadProto } from './proto';

export const DEFAULT_ADDR = '127.0.0.1:50051';

type Unary<Req, Res> = (req: Req, opts?: { deadlineMs?: number }) => Promise<Res>;

/** Requests are the generated input types (fields optional), replies the __Output ones (defaults filled). */
export interface LinerateClient {
  port: {
    listPorts: Unary<api.ListPortsRequest, api.ListPortsResponse__Output>;
    getPort: Unary<api.GetPortRequest, api.Port__Output>;
    addAddresses: Unary<api.AddAddressesRequest, api.AddressesResponse__Output>;
    deleteAddresses: Unary<api.DeleteAddressesRequest, api.AddressesResponse__Output>;
  };
  route: {
    write: Unary<api.WriteRoutesRequest, api.WriteRoutesResponse__Output>;
    addRoutes: Unary<api.AddRoutesRequest, api.WriteRoutesResponse__Output>;
    deleteRoutes: Unary<api.DeleteRoutesRequest, api.WriteRoutesResponse__Output>;
    getRoute: Unary<api.GetRouteRequest, api.Route__Output>;
    /** Pages of the table; iterate with for await. */
    listRoutes(req?: api.ListRoutesRequest): AsyncIterable<api.ListRoutesResponse__Output>;
    /** Every route in one array (convenience for small tables). */
    listAllRoutes(req?: api.ListRoutesRequest): Promise<api.Route__Output[]>;
  };
  neighbor: {
    addNeighbors: Unary<api.AddNeighborsRequest, api.WriteNeighborsResponse__Output>;
    deleteNeighbors: Unary<api.DeleteNeighborsRequest, api.WriteNeighborsResponse__Output>;
    listNeighbors: Unary<api.ListNeighborsRequest, api.ListNeighborsResponse__Output>;
  };
  stats: {
    getStats: Unary<api.GetStatsRequest, api.Stats__Output>;
    watchStats(req?: api.WatchStatsRequest): grpc.ClientReadableStream<api.Stats__Output>;
  };
  dataplane: {
    getDataplane: Unary<api.GetDataplaneRequest, api.Dataplane__Output>;
  };
  /** grpc.health.v1.Health/Check: "SERVING", "NOT_SERVING", ... */
  healthCheck(service?: string, opts?: { deadlineMs?: number }): Promise<string>;
  /** Resolves once the channel is connected. */
  waitReady(timeoutMs: number): Promise<void>;
  close(): void;
}

let healthCtor: grpc.ServiceClientConstructor | undefined;
function healthClientCtor(): grpc.ServiceClientConstructor {
  if (!healthCtor) {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: false, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    healthCtor = pkg.grpc.health.v1.Health;
  }
  return healthCtor;
}

function unary<Req, Res>(client: grpc.Client, method: string): Unary<Req, Res> {
  const fn = (client as unknown as Record<string, (req: Req, md: grpc.Metadata, o: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Res) => void) => void>)[method].bind(client);
  return (req, opts = {}) =>
    new Promise((resolve, reject) => {
      const options: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
      fn(req, new grpc.Metadata(), options, (err, res) => (err ? reject(err) : resolve(res as Res)));
    });
}

/** A client for `addr` ("host:port"), plaintext. */
export function createClient(addr: string = DEFAULT_ADDR): LinerateClient {
  const { services } = loadProto();
  const creds = grpc.credentials.createInsecure();
  const options = { 'grpc.max_receive_message_length': 64 << 20 };
  const port = new services.PortService(addr, creds, options);
  const channel = port.getChannel();
  const shared = { ...options, channelOverride: channel };
  const route = new services.RouteService(addr, creds, shared);
  const neighbor = new services.NeighborService(addr, creds, shared);
  const stats = new services.StatsService(addr, creds, shared);
  const dataplane = new services.DataplaneService(addr, creds, shared);
  const health = new (healthClientCtor())(addr, creds, shared);

  const listRoutes = (req: api.ListRoutesRequest = {}): AsyncIterable<api.ListRoutesResponse__Output> => route.ListRoutes(req);

  return {
    port: {
      listPorts: unary(port, 'ListPorts'),
      getPort: unary(port, 'GetPort'),
      addAddresses: unary(port, 'AddAddresses'),
      deleteAddresses: unary(port, 'DeleteAddresses'),
    },
    route: {
      write: unary(route, 'Write'),
      addRoutes: unary(route, 'AddRoutes'),
      deleteRoutes: unary(route, 'DeleteRoutes'),
      getRoute: unary(route, 'GetRoute'),
      listRoutes,
      async listAllRoutes(req = {}) {
        const out: api.Route__Output[] = [];
        for await (const page of listRoutes(req)) out.push(...page.routes);
        return out;
      },
    },
    neighbor: {
      addNeighbors: unary(neighbor, 'AddNeighbors'),
      deleteNeighbors: unary(neighbor, 'DeleteNeighbors'),
      listNeighbors: unary(neighbor, 'ListNeighbors'),
    },
    stats: {
      getStats: unary(stats, 'GetStats'),
      watchStats: (req = {}) => stats.WatchStats(req),
    },
    dataplane: { getDataplane: unary(dataplane, 'GetDataplane') },
    async healthCheck(service = '', opts = {}) {
      const res = await unary<{ service: string }, { status: string }>(health, 'Check')({ service }, opts);
      return res.status;
    },
    waitReady: (timeoutMs) =>
      new Promise((resolve, reject) => port.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(e) : resolve()))),
    close() {
      for (const c of [route, neighbor, stats, dataplane, health]) c.close();
      port.close();
    },
  };
}

/** "NOT_FOUND: routes[0].prefix: ..." for a failed call. */
export function describeError(e: unknown): string {
  const err = e as Partial<grpc.ServiceError>;
  if (typeof err.code === 'number') return `${grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`;
  return e instanceof Error ? e.message : String(e);
}
