// The browser test (npm run test:e2e): its own ava configuration, so `npm test` does not need a
// browser. .ci/run installs Debian's chromium and runs both.
export default {
  files: ['test/e2e/**/*.e2e.ts'],
  extensions: ['ts'],
  workerThreads: false,
  timeout: '5m',
  concurrency: 1,
};
