// Pure layout for the day and week timelines: where each booking, the relay's state and the
// signed-in user's interlock window sit along the axis (percent of the range), and what each says.
// Which bookings a reader may see in full is decided in Rust; this only places and words them.
import type { LockState, OverviewEvent, StateChange, TimelineInstrument } from '../../lib/ipc';
import { formatDay, formatTime, formatTimeRange } from '../../lib/time';

export interface Span {
  left: number; // percent from the start of the range
  width: number; // percent of the range
}

export interface BookingBlock extends Span {
  mine: boolean;
  /** What the block says ("Imaging · Uma", "Your booking: Imaging", "Booked"). */
  label: string;
  /** The same with its times, for the accessible name and the tooltip. */
  description: string;
}

export interface StateSegment extends Span {
  state: LockState;
  description: string;
}

export interface Tick {
  at: number; // percent
  label: string;
}

const ms = (iso: string) => new Date(iso).getTime();

/** The span of [start, end] inside [from, to], or null when it lies outside. */
export function span(start: number, end: number, from: number, to: number): Span | null {
  const a = Math.max(start, from);
  const b = Math.min(end, to);
  if (b <= a || to <= from) return null;
  return { left: ((a - from) / (to - from)) * 100, width: ((b - a) / (to - from)) * 100 };
}

/** Percent position of an instant, or null outside the range. */
export function position(at: string | number, from: string, to: string): number | null {
  const t = typeof at === 'number' ? at : ms(at);
  const [f, e] = [ms(from), ms(to)];
  if (t < f || t > e || e <= f) return null;
  return ((t - f) / (e - f)) * 100;
}

function bookingLabel(b: OverviewEvent): string {
  if (b.mine) return b.title?.trim() ? `Your booking: ${b.title}` : 'Your booking';
  if (b.title === null) return 'Booked';
  // A calendar's booking no account matched carries the name the calendar gave.
  const who = b.user_display_name ? (b.matched ? b.user_display_name : `Booked by ${b.user_display_name}`) : '';
  return who ? `${b.title || 'Booking'} · ${who}` : b.title || 'Booking';
}

export function bookingBlocks(instrument: TimelineInstrument, from: string, to: string): BookingBlock[] {
  const out: BookingBlock[] = [];
  for (const b of instrument.bookings) {
    const s = span(ms(b.starts_at), ms(b.ends_at), ms(from), ms(to));
    if (!s) continue;
    const label = bookingLabel(b);
    const source = b.source ? `, from ${b.source}` : '';
    out.push({ ...s, mine: b.mine, label, description: `${label}, ${formatTimeRange(b.starts_at, b.ends_at)}${source}` });
  }
  return out;
}

/** The signed-in user's interlock windows (lead before, post after each own booking). */
export function ownWindows(instrument: TimelineInstrument, from: string, to: string): Span[] {
  const w = instrument.interlock;
  if (!w) return [];
  return instrument.bookings
    .filter((b) => b.mine)
    .map((b) => span(ms(b.starts_at) - w.lead_minutes * 60_000, ms(b.ends_at) + w.post_minutes * 60_000, ms(from), ms(to)))
    .filter((s): s is Span => s !== null);
}

const STATE_WORDS: Record<LockState, string> = { locked: 'Locked', unlocked: 'Unlocked', unknown: 'Unknown' };

/**
 * The relay's state along the range, from the stored changes: each lasts until the next one, the
 * last until now. Before the first stored reading nothing is drawn (the state was not read).
 */
export function stateSegments(states: readonly StateChange[], from: string, to: string, now: string): StateSegment[] {
  const end = Math.min(ms(to), ms(now));
  const out: StateSegment[] = [];
  states.forEach((c, i) => {
    const next = i + 1 < states.length ? ms(states[i + 1].at) : end;
    const s = span(ms(c.at), Math.min(next, end), ms(from), ms(to));
    if (!s) return;
    out.push({ ...s, state: c.state, description: `${STATE_WORDS[c.state]} from ${formatTime(c.at)}` });
  });
  return out;
}

/** Hour marks for a day (every `everyHours`), or day marks for a longer range. */
export function ticks(from: string, to: string, everyHours = 3): Tick[] {
  const [f, e] = [ms(from), ms(to)];
  const out: Tick[] = [];
  const days = (e - f) / 86_400_000;
  const start = new Date(f);
  if (days > 1.5) {
    const d = new Date(start.getFullYear(), start.getMonth(), start.getDate());
    for (; d.getTime() < e; d.setDate(d.getDate() + 1)) {
      const at = position(d.getTime(), from, to);
      if (at !== null) out.push({ at, label: formatDay(d) });
    }
    return out;
  }
  const d = new Date(start.getFullYear(), start.getMonth(), start.getDate(), start.getHours());
  for (; d.getTime() <= e; d.setHours(d.getHours() + 1)) {
    if (d.getHours() % everyHours !== 0) continue;
    const at = position(d.getTime(), from, to);
    if (at !== null) out.push({ at, label: formatTime(d) });
  }
  return out;
}

/** Local midnight of `day` to the next local midnight `days` later (DST-safe). */
export function localDays(day: Date, days = 1): { from: string; to: string } {
  const start = new Date(day.getFullYear(), day.getMonth(), day.getDate());
  const end = new Date(day.getFullYear(), day.getMonth(), day.getDate() + days);
  return { from: start.toISOString(), to: end.toISOString() };
}
