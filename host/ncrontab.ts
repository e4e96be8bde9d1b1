/**
 * NCRONTAB, as the Functions timer trigger reads it: six fields,
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, each `*`, a number,
 * a range `a-b`, a step `*\/n` or `a-b/n`, or a list of those. Times are UTC
 * (WEBSITE_TIME_ZONE is not supported locally).
 */
const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 6 },
] as const;

const NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

export interface Schedule {
  expression: string;
  fields: Set<number>[];
  /** Day-of-month and day-of-week both restricted: either matches (cron's rule). */
  eitherDay: boolean;
}

function value(text: string, field: (typeof FIELDS)[number], expression: string): number {
  const n = NAMES[text.toLowerCase()] ?? (/^\d+$/.test(text) ? Number(text) : NaN);
  const v = field.name === 'day-of-week' && n === 7 ? 0 : n;
  if (!Number.isInteger(v) || v < field.min || v > field.max) {
    throw new RangeError(`"${expression}": ${field.name} "${text}" must be ${field.min}-${field.max}`);
  }
  return v;
}

export function parseSchedule(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new RangeError(`"${expression}": an NCRONTAB schedule has six fields (second minute hour day month day-of-week)`);
  const fields = parts.map((part, i) => {
    const field = FIELDS[i]!;
    const set = new Set<number>();
    for (const item of part.split(',')) {
      const [range, stepText] = item.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      if (!Number.isInteger(step) || step < 1)
        throw new RangeError(`"${expression}": ${field.name} step "${stepText}" must be a positive whole number`);
      let [lo, hi] = [field.min as number, field.max as number];
      if (range !== '*') {
        const [a, b] = range!.split('-');
        lo = value(a!, field, expression);
        hi = b === undefined ? (stepText === undefined ? lo : field.max) : value(b, field, expression);
      }
      if (lo > hi) throw new RangeError(`"${expression}": ${field.name} range "${range}" is backwards`);
      for (let v = lo; v <= hi; v += step) set.add(v);
    }
    return set;
  });
  return { expression, fields, eitherDay: parts[3] !== '*' && parts[5] !== '*' };
}

function matchesDay(s: Schedule, d: Date): boolean {
  const dom = s.fields[3]!.has(d.getUTCDate());
  const dow = s.fields[5]!.has(d.getUTCDay());
  return s.eitherDay ? dom || dow : dom && dow;
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(s: Schedule, after: Date): Date {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
  while (t.getTime() <= limit) {
    if (!s.fields[4]!.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0);
    } else if (!matchesDay(s, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0);
    } else if (!s.fields[2]!.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0);
    } else if (!s.fields[1]!.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
    } else if (!s.fields[0]!.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1);
    } else {
      return t;
    }
  }
  throw new RangeError(`"${s.expression}" never occurs`);
}
