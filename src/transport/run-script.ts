// One template run on one machine: its script built with the variables, sent, and traced when --verbose asks.
import { performance } from 'node:perf_hooks';
import type { Remote, RunResult } from './remote.js';
import { script, type Vars } from './script.js';
import { traceAnswer, traceSend } from './trace.js';

export async function runScript(remote: Remote, name: string, vars: Vars): Promise<RunResult> {
  const started = performance.now();
  const text = script(name, vars); // (registers the secret variables for redaction before anything is printed)
  traceSend(remote.machine, name, vars);
  try {
    const result = await remote.run(text);
    traceAnswer(remote.machine, name, result, performance.now() - started);
    return result;
  } catch (error) {
    traceAnswer(remote.machine, name, error as Error, performance.now() - started);
    throw error;
  }
}
