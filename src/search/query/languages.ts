// Languages known to `lang:` filters, by file extension or exact file name. Names are matched
// case-insensitively; aliases map to the same language.
export interface Language {
  name: string;
  aliases: string[];
  extensions: string[];
  filenames?: string[];
}

export const LANGUAGES: Language[] = [
  { name: 'go', aliases: ['golang'], extensions: ['go'] },
  { name: 'typescript', aliases: ['ts'], extensions: ['ts', 'tsx', 'mts', 'cts'] },
  { name: 'javascript', aliases: ['js'], extensions: ['js', 'jsx', 'mjs', 'cjs'] },
  { name: 'python', aliases: ['py'], extensions: ['py', 'pyi'] },
  { name: 'java', aliases: [], extensions: ['java'] },
  { name: 'kotlin', aliases: ['kt'], extensions: ['kt', 'kts'] },
  { name: 'rust', aliases: ['rs'], extensions: ['rs'] },
  { name: 'c', aliases: [], extensions: ['c', 'h'] },
  { name: 'c++', aliases: ['cpp', 'cplusplus'], extensions: ['cpp', 'cc', 'cxx', 'hpp', 'hh', 'hxx'] },
  { name: 'c#', aliases: ['csharp', 'cs'], extensions: ['cs'] },
  { name: 'ruby', aliases: ['rb'], extensions: ['rb'], filenames: ['Gemfile', 'Rakefile'] },
  { name: 'php', aliases: [], extensions: ['php'] },
  { name: 'swift', aliases: [], extensions: ['swift'] },
  { name: 'scala', aliases: [], extensions: ['scala'] },
  { name: 'shell', aliases: ['sh', 'bash'], extensions: ['sh', 'bash', 'zsh'] },
  { name: 'sql', aliases: [], extensions: ['sql'] },
  { name: 'html', aliases: [], extensions: ['html', 'htm'] },
  { name: 'css', aliases: [], extensions: ['css'] },
  { name: 'scss', aliases: [], extensions: ['scss'] },
  { name: 'json', aliases: [], extensions: ['json'] },
  { name: 'yaml', aliases: ['yml'], extensions: ['yaml', 'yml'] },
  { name: 'markdown', aliases: ['md'], extensions: ['md', 'markdown'] },
  { name: 'toml', aliases: [], extensions: ['toml'] },
  { name: 'xml', aliases: [], extensions: ['xml'] },
  { name: 'text', aliases: ['txt'], extensions: ['txt'] },
  { name: 'dockerfile', aliases: ['docker'], extensions: ['dockerfile'], filenames: ['Dockerfile'] },
  { name: 'makefile', aliases: ['make'], extensions: ['mk'], filenames: ['Makefile', 'GNUmakefile'] },
];

const byName = new Map<string, Language>();
for (const language of LANGUAGES) for (const name of [language.name, ...language.aliases]) byName.set(name, language);

export function findLanguage(name: string): Language | undefined {
  return byName.get(name.toLowerCase());
}

export const languageNames = (): string[] => [...byName.keys()];

/** Whether a path (its base name) is written in the language. */
export function pathIsInLanguage(path: string, language: Language): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (language.filenames?.includes(base)) return true;
  const dot = base.lastIndexOf('.');
  return dot > 0 && language.extensions.includes(base.slice(dot + 1).toLowerCase());
}

const byExtension = new Map<string, Language>();
const byFilename = new Map<string, Language>();
for (const language of LANGUAGES) {
  for (const extension of language.extensions) if (!byExtension.has(extension)) byExtension.set(extension, language);
  for (const filename of language.filenames ?? []) if (!byFilename.has(filename)) byFilename.set(filename, language);
}

/** The language a path is written in (by exact file name, then extension), if it is one we know. */
export function languageOfPath(path: string): Language | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return byFilename.get(base) ?? (dot > 0 ? byExtension.get(base.slice(dot + 1).toLowerCase()) : undefined);
}
