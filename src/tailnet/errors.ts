// The one error type of the Tailscale side. The CLI boundary maps `exitCode` to the process exit code and prints
// `message` and, when present, `hint` (what to do about it). Messages never contain a secret value.

export class TailnetError extends Error {
  readonly exitCode = 1;
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'TailnetError';
  }
}
