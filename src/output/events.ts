// The --json output as TS types, derived from the schema (src/output/events-schema.ts), so what the code
// prints and what schemas/events.schema.json documents cannot drift apart.
import type { FromSchema } from 'json-schema-to-ts';
import type { Plan } from '../plan/types.js';
import type { eventsSchema } from './events-schema.js';

/** Any one line of --json output, as a reader parses it. */
export type JsonLine = FromSchema<typeof eventsSchema>;

type Documents = Extract<JsonLine, { format: string }>;
type Streamed = Extract<JsonLine, { event: string }>;

/**
 * What a command hands the JSON view. The plan is typed by src/plan/types.ts (the schema describes it loosely
 * while it gains typed steps, and an interface never fits a schema's open object type); `time` is the view's.
 */
export type JsonDocument = Exclude<Documents, { format: 'peer-provision/plan@2' }> | Plan;
export type StreamEvent = DistributiveOmit<Exclude<Streamed, { event: 'plan' }>, 'time'> | { event: 'plan'; plan: Plan };

/** The one event that ends up, down and rotate. */
export type ResultEvent = Extract<StreamEvent, { event: 'result' }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Where apply reports its steps and checks (the JSON view prints them; the human view shows listr2's tree instead). */
export interface Events {
  emit(event: StreamEvent): void;
}
