// The one door to Rust for the rest of the UI: re-exports the generated bindings and adds `unwrap`.
import type { CoreError, ErrorCode, Result } from './bindings';

export * from './bindings';

/** A failed command, carrying the backend's stable code and its human message. */
export class IpcError extends Error {
  readonly code: ErrorCode;

  constructor(error: CoreError) {
    super(error.message);
    this.name = 'IpcError';
    this.code = error.code;
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
    const { code, message } = raw as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string') {
      return { code: code as ErrorCode, message };
    }
  }
  // A string (or anything else) from the IPC layer itself: not one of ours.
  return { code: 'INTERNAL', message: typeof raw === 'string' ? raw : 'Unexpected error from the app core.' };
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
