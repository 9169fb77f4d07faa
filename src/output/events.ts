// --json streams one JSON object per line on stdout (steps, checks, then a result); otherwise nothing here.
import { stdout } from './io.js';

export interface Events {
  emit(event: Record<string, unknown>): void;
}

export const jsonEvents = (): Events => ({ emit: (event) => stdout(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n') });
export const noEvents: Events = { emit: () => undefined };
