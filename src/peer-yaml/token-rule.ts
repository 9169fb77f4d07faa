// Which gateway tokens peer-provision accepts. A token travels into shell variables, files, HTTP headers
// and the peer files an agent reads: it must be plain text that no shell, curl or Markdown can read as
// syntax, and long enough to be a secret. Generated tokens (43 characters of base64url) always pass.
export const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{24,512}$/;
export const TOKEN_RULE = '24 to 512 characters from A-Z a-z 0-9 . _ ~ + / = -';
const ALLOWED = /[A-Za-z0-9._~+/=-]/;

/** Undefined when the token is accepted, else why not, naming the kind of character, never the token. */
export function tokenProblem(token: string): string | undefined {
  if (TOKEN_PATTERN.test(token)) return undefined;
  const bad = [...new Set([...token].filter((c) => !ALLOWED.test(c)).map(describeChar))];
  if (bad.length > 0) return `holds characters a token may not have (${bad.slice(0, 4).join(', ')}); a token is ${TOKEN_RULE}`;
  return `is ${token.length} characters long; a token is ${TOKEN_RULE}`;
}

function describeChar(c: string): string {
  if (c === '\n' || c === '\r') return 'a line break';
  if (c === '\0') return 'a NUL byte';
  if (c === '"') return 'a double quote';
  if (c === "'") return 'a single quote';
  if (c === ' ' || c === '\t') return 'white space';
  if (c === '\\') return 'a backslash';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\x00-\x1f\x7f]/.test(c)) return 'a control character';
  if (c.charCodeAt(0) > 0x7e) return 'a non-ASCII character';
  return `"${c}"`;
}
