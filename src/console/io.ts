// Data goes to stdout, progress and errors to stderr; both redacted by value, control characters shown as escapes.
import { redact } from '../model/redact.js';
import { visible } from './visible.js';

export const stdout = (text: string) => process.stdout.write(visible(redact(text)));
export const stderr = (text: string) => process.stderr.write(visible(redact(text)));
