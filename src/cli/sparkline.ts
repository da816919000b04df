// A line of values as block characters, lowest to highest (▁ … █), for terminals.
const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: number[]): string {
  if (!values.length) return '';
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low;
  return values
    .map((value) => BLOCKS[span === 0 ? 0 : Math.round(((value - low) / span) * (BLOCKS.length - 1))])
    .join('');
}
