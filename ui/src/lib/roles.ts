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
