// Redaction by value: every secret the tool resolves (auth keys, gateway tokens, API credentials) is
// registered here the moment it is read, and every line the tool prints or logs passes through redact().
// One convention: a secret is registered where it enters the process, by the I/O code that reads it: resolveSecret
// (peer.yaml's env: and file: references), observe (a config's tokens), the tailnet (minted keys, the stack's
// passphrase), new tokens as they are made. Pure code (parsers, the planner) returns secrets and never registers.
// A value is caught in every form the tool itself can print it in: as is, JSON-escaped (--json output is
// redacted after JSON.stringify), URL-encoded, inside base64 (an HTTP Basic header, an encoded blob) at any
// alignment, and cut off at the start or end of a line (a message truncated to N characters).

const forms = new Set<string>();
/** Shorter values would redact ordinary words; input checks refuse secrets this short (src/peer-yaml/secret-check.ts). */
const MIN_LENGTH = 6;
/** A line ending in this many characters of a secret's start (or starting with its end) is a cut-off secret. */
const MIN_PARTIAL = 6;
const MASK = '[redacted]';
/**
 * The forms, longest first. A secret may hold another one: Tailscale's OAuth client secret is
 * `tskey-client-<client id>-<secret>`, and masking the id first would leave the secret's own part in plain sight.
 */
let ordered: string[] | undefined;
const longestFirst = () => (ordered ??= [...forms].sort((a, b) => b.length - a.length));

export function registerSecret(value: string): string {
  if (value.length < MIN_LENGTH) return value;
  for (const form of encodings(value)) if (form.length >= MIN_LENGTH) forms.add(form);
  ordered = undefined;
  return value;
}

function encodings(value: string): string[] {
  const out = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+')];
  // base64 of any text holding the value: the characters that encode only the value's bytes, for each of
  // the three alignments the value can start at
  const bytes = Buffer.from(value, 'utf8');
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = shift === 0 ? 0 : 4;
    const whole = Math.floor((shift + bytes.length) / 3) * 4; // characters of complete 3-byte groups
    const core = encoded.slice(start, whole);
    if (core.length >= 8) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

export function redact(text: string): string {
  let out = text;
  for (const form of longestFirst()) {
    if (out.includes(form)) out = out.split(form).join(MASK);
  }
  if (forms.size === 0) return out;
  return out.split('\n').map(redactCutOff).join('\n');
}

/** A line that ends with the beginning of a secret, or begins with its end (a value cut by truncation). */
function redactCutOff(line: string): string {
  let out = line;
  for (const form of longestFirst()) {
    for (let n = Math.min(form.length - 1, out.length); n >= MIN_PARTIAL; n--) {
      if (out.endsWith(form.slice(0, n))) {
        out = out.slice(0, out.length - n) + MASK;
        break;
      }
    }
    for (let n = Math.min(form.length - 1, out.length); n >= MIN_PARTIAL; n--) {
      if (out.startsWith(form.slice(form.length - n))) {
        out = MASK + out.slice(n);
        break;
      }
    }
  }
  return out;
}

/** At most `max` characters of text, redacted first: a cut can never leave half a secret behind. */
export const redactedPrefix = (text: string, max: number) => redact(text).slice(0, max);

/** For tests: forget everything registered. */
export function forgetSecrets(): void {
  forms.clear();
  ordered = undefined;
}
