// Tests that measure how promptly a real server answers while it is under attack: run by `npm test`
// after every other test file, alone (concurrency 1), so the other tests' load on a small machine
// does not count against the server.
export default {
  files: ['test/latency/**/*.latency.ts'],
  extensions: ['ts'],
  workerThreads: false,
  timeout: '5m',
  concurrency: 1,
};
