// observe.sh's stdout as the tests need it: its one result line, built from values (texts given as they are
// on the machine are base64-encoded here, as observe.sh's b64 does).
const b64 = (text: string) => Buffer.from(text).toString('base64');

export interface ObserveTexts {
  config?: string;
  tailscaleStatus?: string;
  applied?: string;
}

export function observeStdout(values: Record<string, string>, texts: ObserveTexts = {}): string {
  const all: Record<string, string> = { ...values };
  if (texts.config !== undefined) all.config_b64 = b64(texts.config);
  if (texts.tailscaleStatus !== undefined) all.tailscale_status_b64 = b64(texts.tailscaleStatus);
  if (texts.applied !== undefined) all.applied_b64 = b64(texts.applied);
  return `${JSON.stringify({ changed: false, values: all, message: '' })}\n`;
}

/** "key=value" lines (as the tests' facts read best) as values. */
export const facts = (lines: string): Record<string, string> =>
  Object.fromEntries(
    lines
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
