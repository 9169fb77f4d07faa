// Data goes to stdout, progress and errors to stderr; both redacted by value.
import { redact } from './redact.js';

export const stdout = (text: string) => process.stdout.write(redact(text));
export const stderr = (text: string) => process.stderr.write(redact(text));
