// SPDX-License-Identifier: BSD-3-Clause
// RouteService writes with the request encoded ahead of time. The bench
// has one core for everything but the forwarding worker, so a client that
// encodes a million routes while the clock runs would bill its own
// protobuf encoding to the control plane; here encoding happens before the
// clock starts (and is timed on its own), and the timed part is the real
// gRPC call: transfer, decoding, validation, persistence, the dataplane
// update and the reply. Same service, same method paths, same bytes as the
// typed client sends.

import * as grpc from '@grpc/grpc-js';
import type * as api from '../../control/src/gen';
import { loadProto } from '../../control/src/proto';

type Method = 'Write' | 'AddRoutes' | 'DeleteRoutes';

interface MethodDef {
  path: string;
  requestSerialize(req: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}

export interface Encoded {
  method: Method;
  bytes: Buffer;
  updates: number;
}

export class RouteWriter {
  private readonly client: grpc.Client;
  private readonly defs: Record<Method, MethodDef>;

  constructor(addr: string) {
    const svc = loadProto().services.RouteService.service as unknown as Record<Method, MethodDef>;
    this.defs = { Write: svc.Write, AddRoutes: svc.AddRoutes, DeleteRoutes: svc.DeleteRoutes };
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  }

  addRoutes(req: api.AddRoutesRequest): Encoded {
    return { method: 'AddRoutes', bytes: this.defs.AddRoutes.requestSerialize(req), updates: req.routes?.length ?? 0 };
  }

  deleteRoutes(req: api.DeleteRoutesRequest): Encoded {
    return { method: 'DeleteRoutes', bytes: this.defs.DeleteRoutes.requestSerialize(req), updates: req.prefixes?.length ?? 0 };
  }

  write(req: api.WriteRoutesRequest): Encoded {
    return { method: 'Write', bytes: this.defs.Write.requestSerialize(req), updates: req.updates?.length ?? 0 };
  }

  /** Sends one encoded request; resolves with the number of updates applied. */
  send(e: Encoded): Promise<number> {
    const def = this.defs[e.method];
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(def.path, (b: Buffer) => b, (b: Buffer) => def.responseDeserialize(b) as api.WriteRoutesResponse, e.bytes,
        (err: grpc.ServiceError | null, res?: api.WriteRoutesResponse) => {
          if (err) reject(new Error(`${def.path}: ${grpc.status[err.code] ?? err.code}: ${err.details}`));
          else if (res?.applied !== e.updates) reject(new Error(`${def.path}: applied ${res?.applied} of ${e.updates}`));
          else resolve(res.applied);
        });
    });
  }

  close(): void {
    this.client.close();
  }
}
