/**
 * Loads proto/linerate/v1/*.proto at run time (the .proto files are the
 * single source of the API) for the server, the client and reflection. The
 * TypeScript types of the same files are generated into gen/ by
 * scripts/gen-types.sh with options matching loaderOptions.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as CaptureProto } from './gen/capture';
import type { ProtoGrpcType as CoreProto } from './gen/core';
import type { ProtoGrpcType as DataplaneProto } from './gen/dataplane';
import type { ProtoGrpcType as FlowProto } from './gen/flow';
import type { ProtoGrpcType as IrqProto } from './gen/irq';
import type { ProtoGrpcType as NeighborProto } from './gen/neighbor';
import type { ProtoGrpcType as PortProto } from './gen/port';
import type { ProtoGrpcType as QueueProto } from './gen/queue';
import type { ProtoGrpcType as RouteProto } from './gen/route';
import type { ProtoGrpcType as StatsProto } from './gen/stats';
import type { ProtoGrpcType as UpfProto } from './gen/upf';
import { protoFiles, protoRoot } from './paths';

export const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

/** Package linerate.v1 as grpc.loadPackageDefinition returns it (typed by the generated files). */
type V1 = PortProto['linerate']['v1'] & RouteProto['linerate']['v1'] & NeighborProto['linerate']['v1']
  & StatsProto['linerate']['v1'] & DataplaneProto['linerate']['v1'] & FlowProto['linerate']['v1']
  & CaptureProto['linerate']['v1'] & IrqProto['linerate']['v1'] & CoreProto['linerate']['v1']
  & QueueProto['linerate']['v1'] & UpfProto['linerate']['v1'];
export type ServiceName = { [K in keyof V1]: V1[K] extends { service: grpc.ServiceDefinition } ? K : never }[keyof V1];
export type Services = { [K in ServiceName]: V1[K] };

export interface LinerateProto {
  packageDefinition: protoLoader.PackageDefinition;
  services: Services;
  /** Fully qualified service names ("linerate.v1.RouteService"; health checking uses them). */
  serviceNames: string[];
}

let cached: LinerateProto | undefined;

export function loadProto(): LinerateProto {
  if (!cached) {
    const packageDefinition = protoLoader.loadSync(protoFiles, loaderOptions);
    const v1 = (grpc.loadPackageDefinition(packageDefinition) as unknown as { linerate: { v1: Record<string, unknown> } }).linerate.v1;
    const services = Object.fromEntries(Object.entries(v1).filter(([, v]) => typeof v === 'function' && 'service' in v)) as Services;
    cached = { packageDefinition, services, serviceNames: Object.keys(services).map((s) => `linerate.v1.${s}`) };
  }
  return cached;
}
