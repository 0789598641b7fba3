// The one door to Rust for the rest of the UI: re-exports the generated bindings and adds `unwrap`.
import { formatRange, formatTime } from '../time';
import type { CoreError, ErrorCode, ErrorDetail, Result } from './bindings';

export * from './bindings';

/**
 * The sentence for an error, in the reader's locale: an error that refers to times carries them
 * as `detail` and is worded here (the backend's `message` uses the station's OS locale).
 */
export function describeError(error: Pick<CoreError, 'message'> & { detail?: ErrorDetail | null }): string {
  const d = error.detail;
  if (!d) return error.message;
  switch (d.kind) {
    case 'controls_open_at':
      return `Interlock controls open at ${formatTime(d.at)} for your booking.`;
    case 'controls_closed_at':
      return `Interlock controls closed at ${formatTime(d.at)} for this booking.`;
    case 'booking_overlaps':
      return `This booking overlaps another booking on ${d.service_name} (${formatRange(d.starts_at, d.ends_at)}).`;
    case 'sign_in_paused_until':
      return error.message;
  }
}

/** A failed command, carrying the backend's stable code, its detail and the sentence to show. */
export class IpcError extends Error {
  readonly code: ErrorCode;
  readonly detail: ErrorDetail | null;

  constructor(error: CoreError) {
    super(describeError(error));
    this.name = 'IpcError';
    this.code = error.code;
    this.detail = error.detail ?? null;
  }
}

const AUTH_LOST: readonly ErrorCode[] = ['NOT_SIGNED_IN', 'SESSION_EXPIRED'];

export function isAuthLost(code: ErrorCode): boolean {
  return AUTH_LOST.includes(code);
}

type AuthLostHandler = (error: IpcError) => void;
let authLostHandler: AuthLostHandler | null = null;

/**
 * Registers what happens when any command reports that nobody is signed in anymore
 * (the app shell sends the user back to the sign-in screen). Returns an unregister function.
 */
export function onAuthLost(handler: AuthLostHandler): () => void {
  authLostHandler = handler;
  return () => {
    if (authLostHandler === handler) authLostHandler = null;
  };
}

/** Returns the data of a successful command, or throws an `IpcError` with the backend's code and message. */
export async function unwrap<T>(call: Promise<Result<T, CoreError>>): Promise<T> {
  const result = await call;
  if (result.status === 'ok') return result.data;
  const error = new IpcError(normalise(result.error));
  if (isAuthLost(error.code) && authLostHandler) authLostHandler(error);
  throw error;
}

function normalise(raw: unknown): CoreError {
  if (raw && typeof raw === 'object' && 'code' in raw && 'message' in raw) {
    const { code, message, detail } = raw as { code: unknown; message: unknown; detail?: unknown };
    if (typeof code === 'string' && typeof message === 'string') {
      const known = detail && typeof detail === 'object' && 'kind' in detail ? (detail as ErrorDetail) : null;
      return { code: code as ErrorCode, message, detail: known };
    }
  }
  // A string (or anything else) from the IPC layer itself: not one of ours.
  return {
    code: 'INTERNAL',
    message: typeof raw === 'string' ? raw : 'Unexpected error from the app core.',
    detail: null,
  };
}

/** The message to show for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof IpcError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** True when the error means the session is gone (the shell already handles the redirect). */
export function isAuthError(e: unknown): boolean {
  return e instanceof IpcError && isAuthLost(e.code);
}
