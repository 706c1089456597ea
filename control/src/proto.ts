/**
 * Loads proto/linerate/v1/*.proto at run time (the .proto files are the
 * single source of the API) for the server, the client and reflection.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoFiles, protoRoot } from './paths';

export const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

export interface LinerateProto {
  packageDefinition: protoLoader.PackageDefinition;
  services: Record<'PortService' | 'RouteService' | 'NeighborService' | 'StatsService' | 'DataplaneService', grpc.ServiceClientConstructor>;
}

let cached: LinerateProto | undefined;

export function loadProto(): LinerateProto {
  if (!cached) {
    const packageDefinition = protoLoader.loadSync(protoFiles, loaderOptions);
    const root = grpc.loadPackageDefinition(packageDefinition) as unknown as {
      linerate: { v1: Record<string, grpc.ServiceClientConstructor> };
    };
    const v1 = root.linerate.v1;
    cached = {
      packageDefinition,
      services: {
        PortService: v1.PortService,
        RouteService: v1.RouteService,
        NeighborService: v1.NeighborService,
        StatsService: v1.StatsService,
        DataplaneService: v1.DataplaneService,
      },
    };
  }
  return cached;
}
