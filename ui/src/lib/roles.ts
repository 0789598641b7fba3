import type { Role } from './ipc';

export const ROLE_LABELS: Record<Role, string> = {
  administrator: 'Administrator',
  facility_staff: 'Facility staff',
  instrument_user: 'Instrument user',
};

export const ROLES: readonly Role[] = ['administrator', 'facility_staff', 'instrument_user'];

export function roleLabel(role: Role): string {
  return ROLE_LABELS[role] ?? role;
}

export function isStaff(role: Role): boolean {
  return role === 'administrator' || role === 'facility_staff';
}

export function isAdmin(role: Role): boolean {
  return role === 'administrator';
}

/**
 * What the reader can do about something, by role: staff are told where to fix it, instrument
 * users whom to ask. Every empty state and error that needs someone's action goes through this.
 */
export function nextStep(role: Role, forStaff: string, forUser = 'Ask facility staff.'): string {
  return isStaff(role) ? forStaff : forUser;
}

/**
 * The next step after a failure of the station itself (not of the reader's input), by error code
 * and role; empty when the sentence already says it (validation, conflicts, refusals).
 */
export function failureHint(code: string, role: Role): string {
  switch (code) {
    case 'KEYRING_LOCKED':
      return nextStep(role, 'Unlock the OS keyring (the login keyring of this PC) and try again.', 'Ask facility staff: the keyring of this PC is locked.');
    case 'KEYRING_UNAVAILABLE':
      return nextStep(role, 'Check that the OS keyring service runs (interlock-station doctor).', 'Ask facility staff.');
    case 'DATABASE':
    case 'DATABASE_CORRUPT':
    case 'INTERNAL':
      return nextStep(role, 'The log file has the details (see Logs in the README).', 'Ask facility staff.');
    default:
      return '';
  }
}
