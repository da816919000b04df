// The README's configuration table is generated from SETTINGS in src/config.ts: one description.
import fs from 'node:fs';
import test from 'ava';
import { SETTINGS } from '../src/config.ts';
import { README, readmeWithConfigurationTable } from '../src/config-docs.ts';

test('the README configuration table is the one rendered from src/config.ts', (t) => {
  const readme = fs.readFileSync(README, 'utf8');
  t.is(readme, readmeWithConfigurationTable(readme), 'README.md is stale: run `npm run docs:config`');
  for (const name of Object.keys(SETTINGS)) t.true(readme.includes(`| \`${name}\` |`), `${name} is documented`);
});

test('every setting the configuration reads is documented, and nothing else', async (t) => {
  const { loadConfig } = await import('../src/config.ts');
  const config = loadConfig({});
  // Settings with a default appear in the parsed configuration; each of them is documented.
  for (const name of Object.keys(config)) t.true(name in SETTINGS, `${name} has an entry in SETTINGS`);
});
