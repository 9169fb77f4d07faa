/**
 * What the lab tests do, counted per test for the table test/run.ts prints at the end of a run: lab bring-ups and
 * resets, CLI commands, gateway starts. Each event is a JSON line appended to $PEER_TEST_TIMINGS (set by the run;
 * unset, nothing is written), tagged with the test file and the test running (set by `timeEachTest`).
 */
import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach } from 'node:test';
import type { Lab } from '../lab/lab.js';

export interface Recorded {
  file: string;
  test: string;
  what: string;
  n: number;
}

let current = '';

export function record(what: string, n = 1): void {
  const out = process.env.PEER_TEST_TIMINGS;
  if (!out || n <= 0) return;
  appendFileSync(out, `${JSON.stringify({ file: process.argv[1] ?? '', test: current, what, n } satisfies Recorded)}\n`);
}

/** How many times each of the lab's gateways became ready (a new process or OpenClaw's own in-process restart). */
async function gatewayStarts(lab: Lab): Promise<number> {
  const counts = await Promise.all(
    lab.machines.map(async (m) => {
      const r = await lab.run(
        m.name,
        `cat /root/.openclaw/logs/*.log /home/*/.openclaw/logs/*.log /tmp/openclaw/*.log 2>/dev/null | grep -c '"gateway ready"'`,
      );
      return Number(r.stdout.trim()) || 0;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** In a describe of a lab file: names each test for `record`, and records the gateway starts it caused. */
export function timeEachTest(lab: () => Lab | undefined): void {
  let before = 0;
  beforeEach(async (t) => {
    current = t.name;
    const l = lab();
    before = l && process.env.PEER_TEST_TIMINGS ? await gatewayStarts(l) : 0;
  });
  afterEach(async () => {
    const l = lab();
    if (l && process.env.PEER_TEST_TIMINGS) record('gateway starts', (await gatewayStarts(l)) - before);
    current = '';
  });
}
