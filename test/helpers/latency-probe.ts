// A second client that asks `{ __typename }` every 20 ms while an attack runs, so a latency test can
// show the server kept answering everyone else (the hostile-input suite's 200 ms bound).
import { postGraphql } from './server.ts';

export interface ProbeResult {
  /** Milliseconds each answer took, in order. */
  latencies: number[];
  /** Answers that were not `{ data: { __typename: "Query" } }`, as JSON. */
  wrong: string[];
  slowest: number;
}

export interface LatencyProbe {
  /** Stops probing and waits for the request in flight. */
  stop(): Promise<ProbeResult>;
}

export function startLatencyProbe(serverUrl: string, intervalMs = 20): LatencyProbe {
  const latencies: number[] = [];
  const wrong: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const { body } = await postGraphql(serverUrl, '{ __typename }');
        if (body.data?.__typename !== 'Query') wrong.push(JSON.stringify(body));
      } catch (error) {
        wrong.push(String(error));
      }
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { latencies, wrong, slowest: Math.max(0, ...latencies) };
    },
  };
}
