// Languages for `lang:` from GitHub Linguist's data (the `linguist-languages` package), as
// Sourcegraph's go-enry uses it: a name or alias, case-insensitive, selects the files whose
// extension or file name Linguist lists for that language. An extension several languages share
// (`.h`: C, C++, Objective-C) belongs to each of them, as in Sourcegraph.
import * as linguist from 'linguist-languages';

export interface Language {
  /** Linguist's name, e.g. `C++`. */
  name: string;
  /** Lower-case names that select it: the name, its aliases, the name with `-` for spaces. */
  aliases: string[];
  /** Lower-case extensions with their dot, e.g. `.go`. */
  extensions: string[];
  /** Exact file names, e.g. `Makefile` (compared case-insensitively). */
  filenames: string[];
  type: string;
}

interface LinguistEntry {
  name: string;
  type: string;
  aliases?: readonly string[];
  extensions?: readonly string[];
  filenames?: readonly string[];
  /** Set on a language that is a flavour of another (`TSX` of `TypeScript`). */
  group?: string;
}

const LANGUAGES: Language[] = Object.values(linguist as unknown as Record<string, LinguistEntry>).map((entry) => ({
  name: entry.name,
  aliases: [
    ...new Set([entry.name.toLowerCase(), entry.name.toLowerCase().replace(/ /g, '-'), ...(entry.aliases ?? [])]),
  ],
  extensions: [...new Set((entry.extensions ?? []).map((extension) => extension.toLowerCase()))],
  filenames: [...new Set((entry.filenames ?? []).map((filename) => filename.toLowerCase()))],
  type: entry.type,
}));

const byAlias = new Map<string, Language>();
for (const language of LANGUAGES)
  for (const alias of language.aliases) if (!byAlias.has(alias)) byAlias.set(alias, language);

/** The language a `lang:` value names (case-insensitive), if Linguist knows it. */
export function findLanguage(name: string): Language | undefined {
  return byAlias.get(name.toLowerCase());
}

/** Every name and alias `lang:` accepts, for suggestions. */
export const languageNames = (): string[] => [...byAlias.keys()];

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).toLowerCase();
}

/** Whether a path is a file of the language: its file name or extension is one Linguist lists. */
export function pathIsInLanguage(path: string, language: Language): boolean {
  const base = baseName(path);
  if (language.filenames.includes(base)) return true;
  return language.extensions.some((extension) => base.length > extension.length && base.endsWith(extension));
}

// For statistics one language per path: a file name first, then the language that has the
// extension as an alias (`.md`: Markdown), then whose first (primary) extension it is, then the
// first programming language listing it.
const byFilename = new Map<string, Language>();
const byExtension = new Map<string, Language>();
const ranked = [...LANGUAGES].sort((a, b) => Number(b.type === 'programming') - Number(a.type === 'programming'));
for (const language of LANGUAGES)
  for (const extension of language.extensions)
    if (language.aliases.includes(extension.slice(1)) && !byExtension.has(extension))
      byExtension.set(extension, language);
for (const language of ranked) {
  for (const filename of language.filenames) if (!byFilename.has(filename)) byFilename.set(filename, language);
  const [primary] = language.extensions;
  if (primary && !byExtension.has(primary)) byExtension.set(primary, language);
}
for (const language of ranked)
  for (const extension of language.extensions) if (!byExtension.has(extension)) byExtension.set(extension, language);

/** The one language a path is counted under in statistics, if Linguist knows it. */
export function languageOfPath(path: string): Language | undefined {
  const base = baseName(path);
  const named = byFilename.get(base);
  if (named) return named;
  const dot = base.lastIndexOf('.');
  // The longest extension first: `.d.ts` before `.ts`.
  for (let at = base.indexOf('.', 1); at > 0 && at <= dot; at = base.indexOf('.', at + 1)) {
    const language = byExtension.get(base.slice(at));
    if (language) return language;
  }
  return undefined;
}
