/**
 * gRPC access for the tests: the product's own typed client
 * (control/src/client.ts), whose failures reject with the grpc-js
 * ServiceError untouched, so tests can assert `code` and `details`.
 */
import type * as grpc from '@grpc/grpc-js';
import { createClient, type LinerateClient } from '../../src/client';

export type TestClient = LinerateClient;

export function connectClient(address: string): TestClient {
  return createClient(address);
}

/** Awaits a call that must fail; returns its error (fails the test if it succeeded). */
export async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export { status as Status } from '@grpc/grpc-js';
