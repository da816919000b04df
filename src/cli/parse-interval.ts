// Sampling intervals as typed on the command line: 1h, 2d, 1w, 1m (month), 1y, or words (3 months).
const UNITS: Record<string, 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR'> = {
  h: 'HOUR',
  hour: 'HOUR',
  hours: 'HOUR',
  d: 'DAY',
  day: 'DAY',
  days: 'DAY',
  w: 'WEEK',
  week: 'WEEK',
  weeks: 'WEEK',
  m: 'MONTH',
  mo: 'MONTH',
  month: 'MONTH',
  months: 'MONTH',
  y: 'YEAR',
  year: 'YEAR',
  years: 'YEAR',
};

export interface SampleInterval {
  unit: 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
  value: number;
}

export function parseInterval(text: string): SampleInterval {
  const match = text
    .trim()
    .toLowerCase()
    .match(/^(\d+)\s*([a-z]+)$/);
  const unit = match && UNITS[match[2]!];
  const value = match ? Number(match[1]) : NaN;
  if (!unit || !Number.isInteger(value) || value < 1 || value > 1000) {
    throw new Error(
      `invalid interval "${text}": use a number from 1 to 1000 and h, d, w, m or y (for example 1w or 3m)`,
    );
  }
  return { unit, value };
}
