// Test helper: a typed fake backend on top of Tauri's mockIPC.
import { mockIPC } from '@tauri-apps/api/mocks';
import type { CoreError, SessionInfo, Account } from '../lib/ipc';

export type Handler = (args: Record<string, unknown>) => unknown;

export interface FakeBackend {
  calls: { cmd: string; args: Record<string, unknown> }[];
  callsTo(cmd: string): Record<string, unknown>[];
}

/** Thrown from a handler, makes the command fail the way Rust does ({ code, message }). */
export function fail(code: CoreError['code'], message: string, detail: CoreError['detail'] = null): never {
  throw { code, message, detail } satisfies CoreError;
}

/**
 * Installs handlers by command name; unknown commands fail loudly so tests notice.
 * Events are mocked too: `listen` works, and `emit` from `@tauri-apps/api/event` (or
 * `events.<name>.emit`) delivers to the listeners, standing in for Rust emitting.
 */
export function fakeBackend(handlers: Record<string, Handler>): FakeBackend {
  const calls: FakeBackend['calls'] = [];
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      // The station screen reads its timeline with the overview: an empty day unless a test asks.
      const handler =
        handlers[cmd] ??
        (cmd === 'station_timeline' && handlers.station_overview
          ? (a: Record<string, unknown>) => ({ from: a.from, to: a.to, now: a.from, instruments: [] })
          : undefined);
      if (!handler) throw { code: 'INTERNAL', message: `unexpected command ${cmd}`, detail: null } satisfies CoreError;
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    callsTo: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
  };
}

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 'acc-1',
    username: 'alice',
    display_name: 'Alice Admin',
    role: 'administrator',
    active: true,
    email: null,
    created_at: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export function session(overrides: Partial<Account> = {}, idle = 15): SessionInfo {
  return { account: account(overrides), signed_in_at: '2026-01-01T08:00:00Z', idle_timeout_minutes: idle };
}
