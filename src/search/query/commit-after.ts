// repo:has.commit.after()'s argument: a date, or one of Sourcegraph's relative forms (`1 month ago`,
// `last week`). The plan keeps the text as written, so a relative time means "before now" each time
// it is counted, not "before the day the series was created".

/** The point in time the argument means at `now`, or undefined when it is not one of the forms. */
export function commitAfterTime(argument: string, now = new Date()): Date | undefined {
  const text = argument.trim().replace(/^["']|["']$/g, '');
  const relative = /^(\d+)\s+(second|minute|hour|day|week|month|year)s?\s+ago$/i.exec(text);
  const last = /^last\s+(day|week|month|year)$/i.exec(text);
  if (relative || last) {
    const amount = relative ? Number(relative[1]) : 1;
    const unit = (relative ? relative[2]! : last![1]!).toLowerCase();
    const date = new Date(now);
    if (unit === 'year') date.setUTCFullYear(date.getUTCFullYear() - amount);
    else if (unit === 'month') date.setUTCMonth(date.getUTCMonth() - amount);
    else {
      const seconds = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 }[unit]!;
      date.setTime(date.getTime() - amount * seconds * 1000);
    }
    return date;
  }
  const parsed = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(parsed) ? new Date(parsed) : undefined;
}
