/** Ends a server stream with a gRPC status instead of OK: grpc-js turns an 'error' event into the call's status. */
import type * as grpc from '@grpc/grpc-js';

export function endWithStatus(call: { emit(event: 'error', err: Partial<grpc.ServiceError>): boolean }, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}
