// The current time to the microsecond, as ISO 8601 text PostgreSQL reads in full: a recording and a
// snapshot of one series started in the same millisecond must still get distinct recording times
// (insight_series_recording_times is unique per series and time; a Date carries milliseconds only).
export function preciseNow(): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const millis = Math.floor(micros / 1000);
  return new Date(millis).toISOString().replace(/Z$/, `${String(micros % 1000).padStart(3, '0')}Z`);
}
