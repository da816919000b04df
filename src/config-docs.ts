// The README's configuration table, rendered from SETTINGS (src/config.ts), the one description of
// every setting. `npm run docs:config` rewrites the table between its markers in README.md.
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS } from './config.ts';
import { projectRoot } from './project-root.ts';

export const README = path.join(projectRoot, 'README.md');
const START = '<!-- configuration table: generated from src/config.ts by `npm run docs:config` -->';
const END = '<!-- end of configuration table -->';

export function configurationTable(): string {
  const rows = Object.entries(SETTINGS).map(
    ([name, setting]) => `| \`${name}\` | ${setting.flag} | ${setting.default} | ${setting.meaning} |`,
  );
  return ['| Variable | Flag | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The README with its configuration table replaced by the rendered one. */
export function readmeWithConfigurationTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no configuration table markers (${START} ... ${END})`);
  return `${readme.slice(0, start)}${START}\n${configurationTable()}\n${readme.slice(end)}`;
}

if (import.meta.main) {
  fs.writeFileSync(README, readmeWithConfigurationTable(fs.readFileSync(README, 'utf8')));
  console.log('README.md: configuration table regenerated from src/config.ts');
}
