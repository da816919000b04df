// Connection strings in messages and the start-up banner never show a password, wherever it is given.
import test from 'ava';
import { redact } from '../src/db/wait-for-database.ts';

test('a password in the user info or in ?password= / ?sslpassword= is replaced', (t) => {
  t.is(redact('postgres://alice:s3cret@db:5432/insights'), 'postgres://alice:***@db:5432/insights');
  t.is(
    redact('postgres://alice@db/insights?password=s3cret&sslmode=require&SSLPASSWORD=k3y'),
    'postgres://alice@db/insights?password=***&sslmode=require&SSLPASSWORD=***',
  );
  t.false(redact('postgresql://u:p%40ss@h/d?password=x').includes('p%40ss'));
  t.is(redact('not a url'), '(unparseable connection string)');
});
