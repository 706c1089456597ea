/**
 * Errors carrying a gRPC status, the one place they are made and read:
 * every message starts with the request field it is about
 * ("updates[3].route.prefix: host bits set"); addon rejections (a gRPC
 * status code and the failing batch index) are converted here too.
 */
import { status } from '@grpc/grpc-js';

export class ApiError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Bad input as errors quote it: JSON, at most 64 characters of it (a 16 MiB string must not travel back in a message). */
export function quote(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text);
  return s.length <= 64 ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, 64))}... (${s.length} characters)`;
}

const at = (field: string, msg: string): string => (field ? `${field}: ${msg}` : msg);

export const invalid = (field: string, msg: string): ApiError => new ApiError(status.INVALID_ARGUMENT, at(field, msg));
export const notFound = (field: string, msg: string): ApiError => new ApiError(status.NOT_FOUND, at(field, msg));
export const exists = (field: string, msg: string): ApiError => new ApiError(status.ALREADY_EXISTS, at(field, msg));
export const exhausted = (field: string, msg: string): ApiError => new ApiError(status.RESOURCE_EXHAUSTED, at(field, msg));
export const unavailable = (msg = 'dataplane not attached'): ApiError => new ApiError(status.UNAVAILABLE, msg);

/** A rejection from the addon: `code` is a gRPC status, `index` the failing batch entry. */
export function isDataplaneError(e: unknown): e is Error & { code: number; index?: number } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'number';
}

/**
 * Whether the dataplane refused one entry of a batch of `n` (it names the
 * entry), as opposed to failing as a whole (INTERNAL, or UNAVAILABLE: the
 * connection is gone), which no retry without that entry would fix.
 */
export function isEntryRefusal(e: unknown, n: number): e is Error & { code: number; index: number } {
  return isDataplaneError(e) && typeof e.index === 'number' && e.index < n
    && e.code !== status.INTERNAL && e.code !== status.UNAVAILABLE;
}

/** An addon-shaped rejection (tests and fakes build the errors the addon would). */
export function dataplaneError(code: status, message: string, index?: number): Error & { code: number; index?: number } {
  return Object.assign(new Error(message), index === undefined ? { code } : { code, index });
}

/** Converts anything thrown into an ApiError; `fieldOf` maps a batch index to its request field. */
export function toApiError(e: unknown, fieldOf?: (index: number) => string): ApiError {
  if (e instanceof ApiError) return e;
  if (isDataplaneError(e)) {
    const code = e.code > status.OK && e.code <= status.UNAUTHENTICATED ? (e.code as status) : status.INTERNAL;
    const field = fieldOf && e.index !== undefined ? fieldOf(e.index) : '';
    return new ApiError(code, at(field, `dataplane: ${e.message}`));
  }
  return new ApiError(status.INTERNAL, e instanceof Error ? e.message : String(e));
}
