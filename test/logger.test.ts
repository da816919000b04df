// Log lines cannot be forged: text from users, repositories and git stays on the line it belongs to.
import test from 'ava';
import { createLogger } from '../src/logger.ts';

test('a line break or terminal escape in a message or field is written escaped, on one line', (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => void lines.push(line), fields: { repo: 'a\nb' } });
  logger.warn('acme/evil\n2026-12-01T00:00:00.000Z ERROR forged: everything is on fire\r\u001b[2J');
  t.is(lines.length, 1);
  t.is(lines[0]!.split('\n').length, 2, 'one line, ended by its own newline');
  t.true(lines[0]!.endsWith('acme/evil\\n2026-12-01T00:00:00.000Z ERROR forged: everything is on fire\\r\\u001b[2J\n'));
  t.true(lines[0]!.includes(' repo=a\\nb '));
  const json: string[] = [];
  createLogger({ level: 'info', format: 'json', write: (line) => void json.push(line) }).info('x\ny');
  t.is(JSON.parse(json[0]!).message, 'x\ny', 'JSON lines keep the text, escaped by JSON itself');
});
