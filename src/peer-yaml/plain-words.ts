// The schema's complaints about the mistakes people make most, in plain words with what to do: a secret pasted
// where its reference goes, ${VAR} where env:VAR is meant, quotes that became part of a value, a number or a
// yes/no written in quotes. (A key left empty because the lines below it are not indented: empty-keys.ts.)
// No message repeats a secret: a value is named only when it is a variable's name or not a secret at all.
import type { ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';

export interface Advice {
  message: string;
  hint?: string;
}

export const PASTED_KEY: Advice = {
  message: 'a key was pasted inline: revoke it, then use env:NAME or file:PATH',
  hint: 'the key is in this file now, and wherever the file was copied or committed: revoke it in the Tailscale admin console (Settings, Keys), make a new one, and reference that: env:NAME reads an environment variable, file:PATH a file (mode 0600)',
};

/** A Tailscale key or API token as it is written: tskey-auth-…, tskey-client-…, tskey-api-… */
export const looksLikeTailscaleKey = (value: unknown): boolean => typeof value === 'string' && /^tskey-[A-Za-z0-9]/.test(value.trim());

// straight quotes, and the typographic ones a word processor or a chat app puts in, which YAML does not read as quotes
const QUOTES = /["'`“”„‘’‚«»]/g;
const TYPOGRAPHIC = /[“”„‘’‚«»]/;
const VARIABLE = /^(?:env:)?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/;
const TOKEN_WORDS = ['generate', 'generate-replace-weak'];

/** Plain words for this schema error, or undefined to say what the schema says. */
export function plainWords(error: ErrorObject): Advice | undefined {
  const value: unknown = error.data;
  const reference = /\/(secretRef|tokenRef)\//.exec(error.schemaPath)?.[1];
  if (error.keyword === 'pattern' && reference && typeof value === 'string') {
    return referenceAdvice(value, reference === 'tokenRef', error.schema as string);
  }
  if (error.keyword === 'pattern' && typeof value === 'string' && VARIABLE.test(value.trim()) && !value.startsWith('env:')) {
    return { message: `\`${value.trim()}\` is not expanded: peer.yaml expands no variables; write the value itself` };
  }
  if ((error.keyword === 'pattern' || error.keyword === 'enum') && typeof value === 'string' && fineWithoutQuotes(error, value)) {
    return quotesAdvice(value, true);
  }
  if (error.keyword === 'type' && typeof value === 'string') return quotedScalarAdvice((error.params as { type: string }).type, value);
  if (error.keyword === 'type' && value === null) return { message: 'is empty: give it a value' };
  return undefined;
}

/** A secret field holds what is not a reference: a pasted secret, a variable, or a reference mistyped. */
function referenceAdvice(value: string, isToken: boolean, pattern: string): Advice {
  const or = isToken ? ', or generate' : '';
  if (looksLikeTailscaleKey(value)) return PASTED_KEY;
  const variable = VARIABLE.exec(value.trim());
  if (variable) {
    return {
      message: `\`${value.trim()}\` is not a reference: use env:${variable[1]}`,
      hint: `peer.yaml expands no variables: env:${variable[1]} reads the variable ${variable[1]} when a command runs`,
    };
  }
  if (fineWithoutQuotes({ keyword: 'pattern', schema: pattern } as ErrorObject, value)) return quotesAdvice(value, false);
  if (value.startsWith('file:')) return { message: 'a file: path may not hold control characters (NUL, line breaks, tabs)' };
  if (/^env:/i.test(value)) {
    return { message: 'env:NAME names an environment variable: letters, digits and _, not starting with a digit (env: in lowercase)' };
  }
  if (isToken) {
    const word = closest(value, TOKEN_WORDS);
    if (distance(value, word) <= 2) return { message: `is not a reference (did you mean "${word}"?): env:NAME, file:PATH, generate or generate-replace-weak` };
  }
  return {
    message: `a secret was pasted inline: change it, then use env:NAME or file:PATH${or}`,
    hint: 'it is in this file now, and wherever the file was copied or committed: env:NAME reads the secret from an environment variable, file:PATH from a file (mode 0600)',
  };
}

/** Quotes inside a value, or typographic ones around it: YAML reads them as part of the value. */
function quotesAdvice(value: string, showable: boolean): Advice {
  const typographic = TYPOGRAPHIC.test(value);
  const without = value.replace(QUOTES, '').trim();
  return {
    message: `the quotes are part of the value: remove them${showable ? ` (${without})` : ''}`,
    hint: typographic
      ? '“ ” and ‘ ’ are not YAML quotes (a word processor or chat app puts them in): write the value without them, or in plain " quotes'
      : 'YAML reads quotes as quotes only around a whole value, as in ssh: "me@host:2222"',
  };
}

/**
 * Quotes that only wrap the value (typographic ones anywhere): without them it is what the schema wants. Quotes
 * inside a value (a'b"c) are not a slip to point out: the value is simply wrong.
 */
function fineWithoutQuotes(error: ErrorObject, value: string): boolean {
  const wrapped = /^["'`“”„‘’‚«»].*["'`“”„‘’‚«»]$/s.test(value.trim());
  if (!wrapped && !TYPOGRAPHIC.test(value)) return false;
  const without = value.replace(QUOTES, '').trim();
  if (error.keyword === 'enum') return (error.params as { allowedValues: unknown[] }).allowedValues.includes(without);
  return new RegExp(error.schema as string, 'u').test(without);
}

/** "18789" where a number is wanted: the quotes made it text. */
function quotedScalarAdvice(type: string, value: string): Advice | undefined {
  const text = value.trim();
  const fits =
    ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text) && (type === 'number' || !text.includes('.'))) ||
    (type === 'boolean' && /^(true|false)$/i.test(text));
  if (fits) return { message: `is text, not ${type === 'boolean' ? 'true or false' : 'a number'}: write ${text.toLowerCase()} without quotes` };
  // YAML 1.1 read yes/no/on/off as true/false; YAML 1.2, which peer.yaml is, reads them as words
  if (type === 'boolean' && /^(yes|no|on|off|y|n)$/i.test(text)) {
    return { message: `is text, not true or false: write ${/^(yes|on|y)$/i.test(text) ? 'true' : 'false'}` };
  }
  return undefined;
}
