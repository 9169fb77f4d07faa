// Redaction by value: every secret the tool resolves (auth keys, gateway tokens, API credentials) is
// registered here the moment it is read, and every line the tool prints or logs passes through redact().

const secrets = new Set<string>();
const MIN_LENGTH = 6; // shorter values would redact ordinary words; no real key or token is that short

export function registerSecret(value: string): string {
  if (value.length >= MIN_LENGTH) secrets.add(value);
  return value;
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** For tests: forget everything registered. */
export function forgetSecrets(): void {
  secrets.clear();
}
