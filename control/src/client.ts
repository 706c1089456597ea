/**
 * Typed gRPC client of the linerate.v1 API (used by the CLI and the tests):
 * promise-returning unary calls, async iteration over ListRoutes pages, and
 * the raw stream for WatchStats. Transport options mirror serve's: TLS with
 * a CA and optionally a client certificate (mutual TLS), a bearer token sent
 * on every call, and "unix:/path" addresses.
 */
import * as fs from 'node:fs';
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
    getDataplaneLog(req?: api.GetDataplaneLogRequest): grpc.ClientReadableStream<api.DataplaneLog__Output>;
  };
  capture: {
    /** The pcapng bytes in chunks (the last carries the final counters). */
    capture(req: api.CaptureRequest): grpc.ClientReadableStream<api.CaptureChunk__Output>;
  };
  flow: {
    write: Unary<api.WriteFlowsRequest, api.WriteFlowsResponse__Output>;
    /** Pages of flows with counters; iterate with for await. */
    read(req?: api.ReadFlowsRequest): AsyncIterable<api.ReadFlowsResponse__Output>;
    /** Every matching flow in one array. */
    readAll(req?: api.ReadFlowsRequest): Promise<api.Flow__Output[]>;
    getFlowStats: Unary<api.GetFlowStatsRequest, api.FlowStats__Output>;
  };
  queue: {
    listQueues: Unary<api.ListQueuesRequest, api.QueueMap__Output>;
    moveQueues: Unary<api.MoveQueuesRequest, api.QueueMap__Output>;
    getReta: Unary<api.GetRetaRequest, api.Reta__Output>;
    setReta: Unary<api.SetRetaRequest, api.Reta__Output>;
    setQueueCount: Unary<api.SetQueueCountRequest, api.QueueMap__Output>;
    getRss: Unary<api.GetRssRequest, api.RssConf__Output>;
    setRss: Unary<api.SetRssRequest, api.RssConf__Output>;
    rebalance: Unary<api.RebalanceRequest, api.RebalanceResponse__Output>;
  };
  irq: {
    listIrqs: Unary<api.ListIrqsRequest, api.ListIrqsResponse__Output>;
    setIrqAffinity: Unary<api.SetIrqAffinityRequest, api.IrqChange__Output>;
    isolateIrqs: Unary<api.IsolateIrqsRequest, api.IrqChanges__Output>;
    restoreIrqs: Unary<api.RestoreIrqsRequest, api.IrqChanges__Output>;
    getChannels: Unary<api.GetChannelsRequest, api.Channels__Output>;
    setChannels: Unary<api.SetChannelsRequest, api.Channels__Output>;
  };
  core: {
    getCores: Unary<api.GetCoresRequest, api.Cores__Output>;
    pinControlPlane: Unary<api.PinControlPlaneRequest, api.ControlPlane__Output>;
  };
  session: {
    write: Unary<api.WriteSessionsRequest, api.WriteSessionsResponse__Output>;
    read: Unary<api.ReadSessionRequest, api.Session__Output>;
    /** Every session with its counters in one array. */
    listAll(req?: api.ListSessionsRequest): Promise<api.Session__Output[]>;
  };
  upf: {
    setConfig: Unary<api.UpfConfig, api.UpfConfig__Output>;
    getConfig: Unary<api.GetUpfConfigRequest, api.UpfConfig__Output>;
    getStats: Unary<api.GetUpfStatsRequest, api.UpfStats__Output>;
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

export interface ClientOptions {
  /** TLS: CA bundle (PEM) the server's certificate must chain to; any of these turns TLS on. */
  tlsCa?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  tlsCert?: string;
  tlsKey?: string;
  /** Name the server certificate must carry, when it differs from the address's host. */
  tlsServerName?: string;
  /** Bearer token sent as "authorization: Bearer <token>". */
  token?: string;
  /** File holding the token (trimmed); used when `token` is not given. */
  tokenFile?: string;
}

function readOpt(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function channelCredentials(o: ClientOptions): grpc.ChannelCredentials {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (o.tlsCa === undefined && o.tlsCert === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    o.tlsCa !== undefined ? readOpt(o.tlsCa, '--tls-ca') : null,
    o.tlsKey !== undefined ? readOpt(o.tlsKey, '--tls-key') : null,
    o.tlsCert !== undefined ? readOpt(o.tlsCert, '--tls-cert') : null,
  );
}

function unary<Req, Res>(client: grpc.Client, method: string, md: () => grpc.Metadata): Unary<Req, Res> {
  const fn = (client as unknown as Record<string, (req: Req, md: grpc.Metadata, o: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Res) => void) => void>)[method].bind(client);
  return (req, opts = {}) =>
    new Promise((resolve, reject) => {
      const options: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
      fn(req, md(), options, (err, res) => (err ? reject(err) : resolve(res as Res)));
    });
}

/** A client for `addr` ("host:port" or "unix:/path"); plaintext unless TLS options are given. */
export function createClient(addr: string = DEFAULT_ADDR, o: ClientOptions = {}): LinerateClient {
  const { services } = loadProto();
  const creds = channelCredentials(o);
  const token = o.token ?? (o.tokenFile !== undefined ? readOpt(o.tokenFile, '--token-file').toString('utf8').trim() : undefined);
  // Per-call metadata rather than call credentials: grpc-js refuses those on plaintext channels (unix sockets, loopback).
  const md = (): grpc.Metadata => {
    const m = new grpc.Metadata();
    if (token !== undefined) m.set('authorization', `Bearer ${token}`);
    return m;
  };
  const options: grpc.ClientOptions = { 'grpc.max_receive_message_length': 64 << 20,
    ...(o.tlsServerName !== undefined ? { 'grpc.ssl_target_name_override': o.tlsServerName } : {}) };
  const port = new services.PortService(addr, creds, options);
  const channel = port.getChannel();
  const shared = { ...options, channelOverride: channel };
  const route = new services.RouteService(addr, creds, shared);
  const neighbor = new services.NeighborService(addr, creds, shared);
  const stats = new services.StatsService(addr, creds, shared);
  const dataplane = new services.DataplaneService(addr, creds, shared);
  const flow = new services.FlowService(addr, creds, shared);
  const capture = new services.CaptureService(addr, creds, shared);
  const queue = new services.QueueService(addr, creds, shared);
  const irq = new services.IrqService(addr, creds, shared);
  const core = new services.CoreService(addr, creds, shared);
  const session = new services.SessionService(addr, creds, shared);
  const upf = new services.UpfService(addr, creds, shared);
  const health = new (healthClientCtor())(addr, creds, shared);

  const listRoutes = (req: api.ListRoutesRequest = {}): AsyncIterable<api.ListRoutesResponse__Output> => route.ListRoutes(req, md());
  const readFlows = (req: api.ReadFlowsRequest = {}): AsyncIterable<api.ReadFlowsResponse__Output> => flow.Read(req, md());

  return {
    port: {
      listPorts: unary(port, 'ListPorts', md),
      getPort: unary(port, 'GetPort', md),
      addAddresses: unary(port, 'AddAddresses', md),
      deleteAddresses: unary(port, 'DeleteAddresses', md),
    },
    route: {
      write: unary(route, 'Write', md),
      addRoutes: unary(route, 'AddRoutes', md),
      deleteRoutes: unary(route, 'DeleteRoutes', md),
      getRoute: unary(route, 'GetRoute', md),
      listRoutes,
      async listAllRoutes(req = {}) {
        const out: api.Route__Output[] = [];
        for await (const page of listRoutes(req)) out.push(...page.routes);
        return out;
      },
    },
    neighbor: {
      addNeighbors: unary(neighbor, 'AddNeighbors', md),
      deleteNeighbors: unary(neighbor, 'DeleteNeighbors', md),
      listNeighbors: unary(neighbor, 'ListNeighbors', md),
    },
    stats: {
      getStats: unary(stats, 'GetStats', md),
      watchStats: (req = {}) => stats.WatchStats(req, md()),
    },
    capture: { capture: (req) => capture.Capture(req, md()) },
    dataplane: {
      getDataplane: unary(dataplane, 'GetDataplane', md),
      getDataplaneLog: (req = {}) => dataplane.GetDataplaneLog(req, md()),
    },
    flow: {
      write: unary(flow, 'Write', md),
      read: readFlows,
      async readAll(req = {}) {
        const out: api.Flow__Output[] = [];
        for await (const page of readFlows(req)) out.push(...page.flows);
        return out;
      },
      getFlowStats: unary(flow, 'GetFlowStats', md),
    },
    queue: {
      listQueues: unary(queue, 'ListQueues', md),
      moveQueues: unary(queue, 'MoveQueues', md),
      getReta: unary(queue, 'GetReta', md),
      setReta: unary(queue, 'SetReta', md),
      setQueueCount: unary(queue, 'SetQueueCount', md),
      getRss: unary(queue, 'GetRss', md),
      setRss: unary(queue, 'SetRss', md),
      rebalance: unary(queue, 'Rebalance', md),
    },
    irq: {
      listIrqs: unary(irq, 'ListIrqs', md),
      setIrqAffinity: unary(irq, 'SetIrqAffinity', md),
      isolateIrqs: unary(irq, 'IsolateIrqs', md),
      restoreIrqs: unary(irq, 'RestoreIrqs', md),
      getChannels: unary(irq, 'GetChannels', md),
      setChannels: unary(irq, 'SetChannels', md),
    },
    core: {
      getCores: unary(core, 'GetCores', md),
      pinControlPlane: unary(core, 'PinControlPlane', md),
    },
    session: {
      write: unary(session, 'Write', md),
      read: unary(session, 'Read', md),
      async listAll(req = {}) {
        const out: api.Session__Output[] = [];
        for await (const page of session.List(req, md()) as AsyncIterable<api.ListSessionsResponse__Output>) out.push(...page.sessions);
        return out;
      },
    },
    upf: {
      setConfig: unary(upf, 'SetConfig', md),
      getConfig: unary(upf, 'GetConfig', md),
      getStats: unary(upf, 'GetStats', md),
    },
    async healthCheck(service = '', opts = {}) {
      const res = await unary<{ service: string }, { status: string }>(health, 'Check', md)({ service }, opts);
      return res.status;
    },
    waitReady: (timeoutMs) =>
      new Promise((resolve, reject) => port.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(e) : resolve()))),
    close() {
      for (const c of [route, neighbor, stats, dataplane, flow, capture, queue, irq, core, session, upf, health]) c.close();
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
