/**
 * Errors carrying a gRPC status. Every message starts with the request field
 * it is about ("updates[3].route.prefix: host bits set").
 */
import { status } from '@grpc/grpc-js';

export class ApiError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
    this.name = 'ApiError';
  }
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

/** Converts anything thrown into an ApiError; `fieldOf` maps a batch index to its request field. */
export function toApiError(e: unknown, fieldOf?: (index: number) => string): ApiError {
  if (e instanceof ApiError) return e;
  if (isDataplaneError(e)) {
    const code = e.code >= 1 && e.code <= 16 ? (e.code as status) : status.INTERNAL;
    const field = fieldOf && e.index !== undefined ? fieldOf(e.index) : '';
    return new ApiError(code, at(field, `dataplane: ${e.message}`));
  }
  return new ApiError(status.INTERNAL, e instanceof Error ? e.message : String(e));
}
