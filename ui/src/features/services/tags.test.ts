import { describe, expect, it } from 'vitest';
import {
  buildInterlockTag,
  composeTags,
  describeInterlock,
  findInterlock,
  isInterlockTag,
  isLockTag,
  MAX_POST_LOCK_URL_LENGTH,
  parseInterlockTag,
  splitLockTags,
  splitTags,
  validateMinutes,
  validatePostLockUrl,
  validateTag,
} from './tags';

describe('buildInterlockTag', () => {
  it('uses the bare tag for the defaults 5/30', () => {
    expect(buildInterlockTag(5, 30)).toBe('has_interlock');
  });
  it('spells out other windows', () => {
    expect(buildInterlockTag(10, 0)).toBe('has_interlock:10:0');
    expect(buildInterlockTag(5, 31)).toBe('has_interlock:5:31');
    expect(buildInterlockTag(0, 30)).toBe('has_interlock:0:30');
  });
});

describe('parseInterlockTag', () => {
  it('reads the bare tag as the defaults', () => {
    expect(parseInterlockTag('has_interlock')).toEqual({ lead: 5, post: 30 });
  });
  it('reads explicit minutes', () => {
    expect(parseInterlockTag('has_interlock:10:0')).toEqual({ lead: 10, post: 0 });
    expect(parseInterlockTag('has_interlock:1440:1440')).toEqual({ lead: 1440, post: 1440 });
  });
  it('rejects malformed or out-of-range tags', () => {
    expect(parseInterlockTag('has_interlock:10')).toBeNull();
    expect(parseInterlockTag('has_interlock:a:b')).toBeNull();
    expect(parseInterlockTag('has_interlock:1441:0')).toBeNull();
    expect(parseInterlockTag('has_interlock:-1:0')).toBeNull();
    expect(parseInterlockTag('microscope')).toBeNull();
    expect(parseInterlockTag('has_interlocks')).toBeNull();
  });
  it('round-trips with buildInterlockTag', () => {
    for (const [lead, post] of [[5, 30], [0, 0], [10, 0], [120, 45]] as const) {
      expect(parseInterlockTag(buildInterlockTag(lead, post))).toEqual({ lead, post });
    }
  });
});

describe('validateTag', () => {
  it('accepts letters, digits and _ - . :', () => {
    expect(validateTag('confocal')).toBeNull();
    expect(validateTag('room-2.14_b:east')).toBeNull();
    expect(validateTag('a'.repeat(64))).toBeNull();
  });
  it('rejects empty, too long, bad characters and duplicates', () => {
    expect(validateTag('')).toMatch(/Enter a tag/);
    expect(validateTag('a'.repeat(65))).toMatch(/at most 64/);
    expect(validateTag('two words')).toMatch(/only contain/);
    expect(validateTag('ümlaut')).toMatch(/only contain/);
    expect(validateTag('x/y')).toMatch(/only contain/);
    expect(validateTag('confocal', ['confocal'])).toMatch(/already/);
  });
});

describe('validateMinutes', () => {
  it('accepts whole minutes 0..1440', () => {
    expect(validateMinutes(0, 'Lead')).toBeNull();
    expect(validateMinutes(1440, 'Lead')).toBeNull();
  });
  it('rejects fractions, negatives, too large and NaN', () => {
    expect(validateMinutes(2.5, 'Lead')).toMatch(/whole number/);
    expect(validateMinutes(-1, 'Lead')).toMatch(/between 0 and 1440/);
    expect(validateMinutes(1441, 'Post')).toMatch(/^Post must be between/);
    expect(validateMinutes(Number.NaN, 'Lead')).toMatch(/whole number/);
  });
});

describe('tag list handling', () => {
  it('recognises interlock tags', () => {
    expect(isInterlockTag('has_interlock')).toBe(true);
    expect(isInterlockTag('has_interlock:1:2')).toBe(true);
    expect(isInterlockTag('interlock')).toBe(false);
  });
  it('splits the managed interlock tag from the others', () => {
    expect(splitTags(['confocal', 'has_interlock:10:0', 'laser'])).toEqual({
      other: ['confocal', 'laser'],
      interlock: { lead: 10, post: 0 },
    });
    expect(splitTags(['confocal'])).toEqual({ other: ['confocal'], interlock: null });
    expect(findInterlock(['x', 'has_interlock'])).toEqual({ lead: 5, post: 30 });
  });
  it('composes exactly one interlock tag', () => {
    expect(composeTags(['confocal'], { lead: 10, post: 0 })).toEqual(['confocal', 'has_interlock:10:0']);
    expect(composeTags(['confocal', 'has_interlock'], { lead: 5, post: 30 })).toEqual(['confocal', 'has_interlock']);
    expect(composeTags(['confocal', 'has_interlock:1:1'], null)).toEqual(['confocal']);
  });
  it('describes a window', () => {
    expect(describeInterlock({ lead_minutes: 5, post_minutes: 30 })).toBe(
      'Interlock · opens 5 min before, closes 30 min after',
    );
  });
});

describe('lock tags (set_end_on_lock, trim_end_on_lock, post_lock)', () => {
  it('are read from and written to a tag list, only with has_interlock', () => {
    const tags = ['confocal', 'has_interlock', 'trim_end_on_lock', 'post_lock:https://log.example.org/?e={event_id}'];
    expect(splitLockTags(tags)).toEqual({ endOnLock: 'trim', postLock: 'https://log.example.org/?e={event_id}' });
    expect(splitTags(tags).other).toEqual(['confocal']);
    expect(composeTags(['confocal'], { lead: 5, post: 30 }, { endOnLock: 'set', postLock: 'https://a.example/x' })).toEqual([
      'confocal',
      'has_interlock',
      'set_end_on_lock',
      'post_lock:https://a.example/x',
    ]);
    expect(composeTags(['confocal'], null, { endOnLock: 'set', postLock: 'https://a.example/x' })).toEqual(['confocal']);
    expect(isLockTag('post_lock:x')).toBe(true);
    expect(isLockTag('set_end_on_lock')).toBe(true);
    expect(isLockTag('confocal')).toBe(false);
  });

  it('accept http and https URLs with placeholders after the host, up to 2,000 characters', () => {
    for (const url of [
      'https://logbook.example.org/use/{service}?event={event_id}&order={order_id}&who={username}#top',
      'http://10.0.0.5:8080/form/{event_id}',
      'HTTPS://Example.org/',
      'https://example.org',
    ]) {
      expect(validatePostLockUrl(url), url).toBeNull();
    }
    const base = 'https://example.org/form?event={event_id}&pad=';
    const ok = base + 'a'.repeat(MAX_POST_LOCK_URL_LENGTH - base.length);
    expect(ok.length).toBe(2000);
    expect(validatePostLockUrl(ok)).toBeNull();
    expect(validatePostLockUrl(ok + 'a')).toContain('at most 2000 characters');
  });

  it('refuse other schemes and bad forms with the rule, as the backend does', () => {
    const cases: [string, string][] = [
      ['javascript:alert.1', "the scheme 'javascript:'; only http:// and https:// links are allowed"],
      ['javascript:alert(document.cookie)', 'only http:// and https:// links'],
      ['file:///etc/passwd', "the scheme 'file:'"],
      ['data:text/html,hi', "the scheme 'data:'"],
      ['ftp://example.org/', "the scheme 'ftp:'"],
      ['example.org/form', 'no scheme'],
      ['', 'Enter the URL'],
      ['https://example.org/a b', 'contains a space'],
      ['https://example.org/é', "contains 'é'"],
      ['https://example.org/<script>', "contains '<'"],
      ['https://example.org/{user}', 'Unknown placeholder {user}'],
      ['https://example.org/{event_id', 'Braces may only enclose'],
      ['https://example.org/event_id}', 'Braces may only enclose'],
      ['https://{service}.example.org/', 'only after the host'],
      ['https://example.org{event_id}/', 'only after the host'],
      ['https:///path', 'no host'],
      ['https://user:pw@example.org/', 'user name or password'],
    ];
    for (const [url, needle] of cases) {
      expect(validatePostLockUrl(url), url).toContain(needle);
    }
  });
});
