// How a command's output looks, chosen once (src/cli.ts) from --json: commands say what happened, the view
// decides what reaches stdout. Human: listr2's progress tree and text on stdout. JSON: JSON Lines on stdout
// (typed by src/output/events.ts, documented by schemas/events.schema.json), progress as plain lines on stderr.
// Both print through io.stdout, so both are redacted.
import type { Renderer } from '../apply/tasks.js';
import { stdout } from '../console/io.js';
import type { Events, JsonDocument, StreamEvent } from './events.js';

/** The error boundary's description of a failed run (see report() in src/cli.ts). */
export type ErrorDetail = Extract<JsonDocument, { format: 'peer-provision/error@1' }>['error'];

export interface View extends Events {
  readonly json: boolean;
  /** How up/down/rotate show their steps (on stderr: stdout is for data). */
  readonly renderer: Renderer;
  /** The one result of validate, plan, verify, status, tailnet init: the document, or its text. */
  document(doc: JsonDocument, text: () => string): void;
  /** Text for a person; the JSON view drops it (its events carry the same facts). */
  print(text: string): void;
  /** An event of up/down/rotate; the human view drops it (listr2 and print show the same). */
  emit(event: StreamEvent): void;
  /** One fact of up/down/rotate, told once: as its event (JSON) or as its text (a person). */
  tell(event: StreamEvent, text: string): void;
  /** The run failed: what stdout says about it (the message itself always goes to stderr). */
  failed(detail: ErrorDetail, exitCode: number): void;
}

/** A live tree on a terminal; timestamped lines in CI or a pipe (a CI log cannot redraw). */
export const humanView = (): View => ({
  json: false,
  renderer: process.stderr.isTTY && !process.env.CI ? 'default' : 'simple',
  document: (_, text) => stdout(text()),
  print: (text) => stdout(text),
  emit: () => undefined,
  tell: (_, text) => stdout(text),
  failed: () => undefined,
});

/**
 * streaming: up, down and rotate, whose stdout is a stream of events ending with a result, even when they
 * fail; the others print one document, an error document when they fail. validating: validate's file, whose
 * invalid input is its answer (valid: false, with the diagnostics), not an error document.
 */
export function jsonView(streaming: boolean, validating?: string): View {
  const line = (value: unknown) => stdout(JSON.stringify(value) + '\n');
  const emit = (event: StreamEvent) => line({ time: new Date().toISOString(), ...event });
  return {
    json: true,
    renderer: 'simple',
    document: (doc) => line(doc),
    print: () => undefined,
    emit,
    tell: (event) => emit(event),
    failed(detail, exitCode) {
      if (validating && detail.problems?.length && exitCode === 2) {
        const doc: JsonDocument = {
          format: 'peer-provision/validate@1',
          valid: false,
          file: validating,
          diagnostics: detail.problems.map(diagnostic),
          exitCode,
          error: detail,
        };
        return line(doc);
      }
      if (!streaming) return line({ format: 'peer-provision/error@1', exitCode, error: detail });
      emit({ event: 'error', error: detail });
      emit({ event: 'result', ok: false, exitCode, error: detail.message });
    },
  };
}

type Diagnostic = Extract<JsonDocument, { valid: false }>['diagnostics'][number];

/** A problem as a diagnostic: its position spelled out (column, not col), in the order a person reads it. */
const diagnostic = ({ file, line, col, field, message, hint }: NonNullable<ErrorDetail['problems']>[number]): Diagnostic => ({
  file,
  ...(line ? { line, column: col ?? 1 } : {}),
  field,
  message,
  ...(hint ? { hint } : {}),
});
