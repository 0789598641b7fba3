// The "Manual Tag Wizard" logic: plain functions so they are easy to test.
// Mirrors the backend rules; the backend validates again and has the last word.

import { LIMITS } from '../../lib/ipc';

// The numbers come from Rust through the generated bindings, so they cannot drift.
export const INTERLOCK_TAG = LIMITS.interlock_tag;
export const DEFAULT_LEAD_MINUTES = LIMITS.default_lead_minutes;
export const DEFAULT_POST_MINUTES = LIMITS.default_post_minutes;
export const MAX_TAG_LENGTH = LIMITS.max_tag_length;
export const MAX_MINUTES = LIMITS.max_margin_minutes;

const TAG_PATTERN = /^[A-Za-z0-9_.:-]+$/;

export interface InterlockSetting {
  lead: number;
  post: number;
}

/** True for `has_interlock` and `has_interlock:…` tags (the one the wizard manages). */
export function isInterlockTag(tag: string): boolean {
  return tag === INTERLOCK_TAG || tag.startsWith(`${INTERLOCK_TAG}:`);
}

/** Checks a minutes value: an integer from 0 to 1440. Returns an error message or null. */
export function validateMinutes(value: number, label: string): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
    return `${label} must be a whole number of minutes.`;
  }
  if (value < 0 || value > MAX_MINUTES) {
    return `${label} must be between 0 and ${MAX_MINUTES} minutes.`;
  }
  return null;
}

/** The tag to save: `has_interlock` for the defaults (5/30), else `has_interlock:<lead>:<post>`. */
export function buildInterlockTag(lead: number, post: number): string {
  if (lead === DEFAULT_LEAD_MINUTES && post === DEFAULT_POST_MINUTES) return INTERLOCK_TAG;
  return `${INTERLOCK_TAG}:${lead}:${post}`;
}

/**
 * Reads a `has_interlock` / `has_interlock:L:P` tag. Returns null when the tag is not an
 * interlock tag or is malformed.
 */
export function parseInterlockTag(tag: string): InterlockSetting | null {
  if (tag === INTERLOCK_TAG) return { lead: DEFAULT_LEAD_MINUTES, post: DEFAULT_POST_MINUTES };
  const match = /^has_interlock:(\d{1,4}):(\d{1,4})$/.exec(tag);
  if (!match) return null;
  const lead = Number(match[1]);
  const post = Number(match[2]);
  if (lead > MAX_MINUTES || post > MAX_MINUTES) return null;
  return { lead, post };
}

/** Finds the interlock setting in a tag list (the first valid interlock tag), or null. */
export function findInterlock(tags: readonly string[]): InterlockSetting | null {
  for (const tag of tags) {
    const parsed = parseInterlockTag(tag);
    if (parsed) return parsed;
  }
  return null;
}

/** Checks one free-text tag against the rules and the tags already present. Returns an error message or null. */
export function validateTag(tag: string, existing: readonly string[] = []): string | null {
  if (tag.length === 0) return 'Enter a tag.';
  if (tag.length > MAX_TAG_LENGTH) return `A tag can be at most ${MAX_TAG_LENGTH} characters.`;
  if (!TAG_PATTERN.test(tag)) {
    return 'A tag may only contain letters, digits and _ - . : (no spaces).';
  }
  if (existing.includes(tag)) return `The tag "${tag}" is already in the list.`;
  return null;
}

/** Splits tags into the free-form ones and the interlock setting the wizard manages. */
export function splitTags(tags: readonly string[]): { other: string[]; interlock: InterlockSetting | null } {
  return {
    other: tags.filter((t) => !isInterlockTag(t)),
    interlock: findInterlock(tags),
  };
}

/**
 * The final tag list to send: the free-form tags plus exactly one interlock tag when enabled.
 * Any interlock tag among `other` is dropped so the list never has two.
 */
export function composeTags(other: readonly string[], interlock: InterlockSetting | null): string[] {
  const tags = other.filter((t) => !isInterlockTag(t));
  if (interlock) tags.push(buildInterlockTag(interlock.lead, interlock.post));
  return tags;
}

/** Human text for an interlock window, e.g. "Interlock · opens 5 min before, closes 30 min after". */
export function describeInterlock(window: { lead_minutes: number; post_minutes: number }): string {
  return `Interlock · opens ${window.lead_minutes} min before, closes ${window.post_minutes} min after`;
}
