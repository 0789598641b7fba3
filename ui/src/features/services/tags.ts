// The "Manual Tag Wizard" logic: plain functions so they are easy to test.
// Mirrors the backend rules; the backend validates again and has the last word.

import { LIMITS } from '../../lib/ipc';

// The numbers come from Rust through the generated bindings, so they cannot drift.
export const INTERLOCK_TAG = LIMITS.interlock_tag;
export const DEFAULT_LEAD_MINUTES = LIMITS.default_lead_minutes;
export const DEFAULT_POST_MINUTES = LIMITS.default_post_minutes;
export const MAX_TAG_LENGTH = LIMITS.max_tag_length;
export const MAX_MINUTES = LIMITS.max_margin_minutes;
export const SET_END_ON_LOCK_TAG = LIMITS.set_end_on_lock_tag;
export const TRIM_END_ON_LOCK_TAG = LIMITS.trim_end_on_lock_tag;
export const POST_LOCK_TAG = LIMITS.post_lock_tag;
export const MAX_POST_LOCK_URL_LENGTH = LIMITS.max_post_lock_url_length;
export const POST_LOCK_PLACEHOLDERS: readonly string[] = LIMITS.post_lock_placeholders;

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
    other: tags.filter((t) => !isInterlockTag(t) && !isLockTag(t)),
    interlock: findInterlock(tags),
  };
}

/**
 * The final tag list to send: the free-form tags plus exactly one interlock tag when enabled.
 * Any interlock tag among `other` is dropped so the list never has two.
 */
export function composeTags(
  other: readonly string[],
  interlock: InterlockSetting | null,
  lock: LockSetting = { endOnLock: null, postLock: null },
): string[] {
  const tags = other.filter((t) => !isInterlockTag(t) && !isLockTag(t));
  if (interlock) {
    tags.push(buildInterlockTag(interlock.lead, interlock.post));
    // The lock tags act when the interlock is locked, so they need has_interlock (as in Rust).
    if (lock.endOnLock === 'set') tags.push(SET_END_ON_LOCK_TAG);
    if (lock.endOnLock === 'trim') tags.push(TRIM_END_ON_LOCK_TAG);
    if (lock.postLock !== null && lock.postLock.trim() !== '') tags.push(`${POST_LOCK_TAG}:${lock.postLock.trim()}`);
  }
  return tags;
}

// ---- the lock tags: set_end_on_lock, trim_end_on_lock, post_lock:<url> ----------------------

export type EndOnLockSetting = 'set' | 'trim' | null;

export interface LockSetting {
  endOnLock: EndOnLockSetting;
  /** The post_lock URL with its placeholders, or null for none. */
  postLock: string | null;
}

/** True for the tags of the lock family (set_end_on_lock, trim_end_on_lock, post_lock…). */
export function isLockTag(tag: string): boolean {
  return (
    tag.startsWith(SET_END_ON_LOCK_TAG) || tag.startsWith(TRIM_END_ON_LOCK_TAG) || tag.startsWith(POST_LOCK_TAG)
  );
}

/** Reads the lock tags of a list (the first of each kind). */
export function splitLockTags(tags: readonly string[]): LockSetting {
  let endOnLock: EndOnLockSetting = null;
  let postLock: string | null = null;
  for (const tag of tags) {
    if (endOnLock === null && tag === SET_END_ON_LOCK_TAG) endOnLock = 'set';
    else if (endOnLock === null && tag === TRIM_END_ON_LOCK_TAG) endOnLock = 'trim';
    else if (postLock === null && tag.startsWith(`${POST_LOCK_TAG}:`)) postLock = tag.slice(POST_LOCK_TAG.length + 1);
  }
  return { endOnLock, postLock };
}

const URL_FORBIDDEN = /["<>\\^`|]/;

/**
 * Checks a post_lock URL as the backend does (interlock-core `tags::validate_post_lock_url`):
 * http or https only, at most 2,000 characters with its placeholders, printable ASCII without
 * spaces, known placeholders only and only after the host. Returns an error message or null.
 */
export function validatePostLockUrl(url: string): string | null {
  const rule = 'only http:// and https:// links are allowed';
  if (url.length === 0) return `Enter the URL of the page to show after a lock (${rule}).`;
  if (url.length > MAX_POST_LOCK_URL_LENGTH) {
    return `The URL is ${url.length} characters; a ${POST_LOCK_TAG} URL may have at most ${MAX_POST_LOCK_URL_LENGTH} characters, placeholders included.`;
  }
  const lower = url.toLowerCase();
  const schemeLength = lower.startsWith('https://') ? 8 : lower.startsWith('http://') ? 7 : 0;
  if (schemeLength === 0) {
    const scheme = url.includes(':') ? url.split(':')[0] : '';
    const got = scheme ? `the scheme '${scheme}:'` : 'no scheme';
    return `The URL has ${got}; ${rule} in a ${POST_LOCK_TAG} tag.`;
  }
  for (const ch of url) {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0x20 || code >= 0x7f || URL_FORBIDDEN.test(ch)) {
      const what = ch === ' ' ? 'a space' : code < 0x20 || code === 0x7f ? 'a control character' : `'${ch}'`;
      return `The URL contains ${what}; percent-encode it (a ${POST_LOCK_TAG} URL is printable ASCII without spaces).`;
    }
  }
  const known = POST_LOCK_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
  const spans: number[] = [];
  let rest = 0;
  for (;;) {
    const open = url.slice(rest).search(/[{}]/);
    if (open < 0) break;
    const at = rest + open;
    const close = url[at] === '{' ? url.indexOf('}', at) : -1;
    const name = close >= 0 ? url.slice(at + 1, close) : null;
    if (name !== null && POST_LOCK_PLACEHOLDERS.includes(name)) {
      spans.push(at);
      rest = close + 1;
    } else if (name !== null && !name.includes('{')) {
      return `Unknown placeholder {${name}}; a ${POST_LOCK_TAG} URL may use ${known}.`;
    } else {
      return `Braces may only enclose a placeholder (${known}).`;
    }
  }
  const afterScheme = url.slice(schemeLength).search(/[/?#]/);
  const authorityEnd = afterScheme < 0 ? url.length : afterScheme + schemeLength;
  if (spans.some((at) => at < authorityEnd)) {
    return 'Placeholders may appear only after the host (in the path, query or fragment), so a filled-in value cannot change where the link goes.';
  }
  const host = url.slice(schemeLength, authorityEnd);
  if (host.length === 0 || host.startsWith(':')) return 'The URL has no host.';
  if (host.includes('@')) return 'The URL may not carry a user name or password.';
  return null;
}

/** Human text for an interlock window, e.g. "Interlock · opens 5 min before, closes 30 min after". */
export function describeInterlock(window: { lead_minutes: number; post_minutes: number }): string {
  return `Interlock · opens ${window.lead_minutes} min before, closes ${window.post_minutes} min after`;
}
