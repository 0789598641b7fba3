import { afterEach, describe, expect, it } from 'vitest';
import { describeError } from './index';
import { setLocale } from '../time';

// TZ is Europe/Berlin (vite.config.ts): 08:55Z is 09:55 local.
describe('errors that carry times are worded in the reader locale', () => {
  afterEach(() => setLocale('en-GB'));
  const refusal = {
    message: 'Interlock controls open at 09:55 for your booking.',
    detail: { kind: 'controls_open_at', at: '2026-11-30T08:55:00Z' } as const,
  };
  const overlap = {
    message: 'This booking overlaps another booking on Microscope (11/30/2026 10:00 AM to 11/30/2026 12:00 PM).',
    detail: {
      kind: 'booking_overlaps',
      service_name: 'Microscope',
      starts_at: '2026-11-30T09:00:00Z',
      ends_at: '2026-11-30T11:00:00Z',
    } as const,
  };

  it('en-US', () => {
    setLocale('en-US');
    expect(describeError(refusal)).toBe('Interlock controls open at 9:55 AM for your booking.');
    expect(describeError(overlap)).toBe(
      'This booking overlaps another booking on Microscope (Mon, Nov 30, 10:00 AM–12:00 PM).',
    );
  });

  it('de-DE', () => {
    setLocale('de-DE');
    expect(describeError(refusal)).toBe('Interlock controls open at 09:55 for your booking.');
    expect(describeError(overlap)).toBe('This booking overlaps another booking on Microscope (Mo., 30. Nov., 10:00–12:00).');
  });

  it('an error without detail keeps the backend sentence', () => {
    expect(describeError({ message: 'Wrong username or password.', detail: null })).toBe('Wrong username or password.');
  });
});
