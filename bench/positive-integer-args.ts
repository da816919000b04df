// Benchmark options are positive integers with defaults: `--name N` parsed and checked in one place.
import { parseArgs } from 'node:util';

export function positiveIntegerArgs<const Names extends string>(
  defaults: Record<Names, number>,
): Record<Names, number> {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [name, { type: 'string' as const, default: String(value) }]),
  );
  const { values } = parseArgs({ options });
  return Object.fromEntries(
    Object.keys(defaults).map((name) => {
      const value = Number(values[name]);
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
      return [name, value];
    }),
  ) as Record<Names, number>;
}
