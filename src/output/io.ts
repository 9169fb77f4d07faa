// Data goes to stdout, progress and errors to stderr; both redacted by value.
import { redact } from './redact.js';

export const stdout = (text: string) => process.stdout.write(redact(text));
export const stderr = (text: string) => process.stderr.write(redact(text));

/** One JSON document on stdout, on one line (JSON Lines: every --json output is one object per line). */
export const printJson = (doc: unknown) => stdout(JSON.stringify(doc) + '\n');
