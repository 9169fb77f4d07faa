// Typed errors. Commands throw these; the one boundary in cli.ts maps them to exit codes and prints them.

export const EXIT = {
  ok: 0,
  failure: 1, // something went wrong while doing the work (a machine, a step, a remote error)
  invalid: 2, // bad input or usage: nothing was touched
  changesPending: 3, // plan --detailed-exitcode: the plan is not empty
  interrupted: 130, // Ctrl-C or SIGTERM: running steps finished, nothing new started, everything released
} as const;

export class PeerProvisionError extends Error {
  readonly exitCode: number = EXIT.failure;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem found in an input file, with its position. */
export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** Dotted path of the field, e.g. machines.beta.gateway.port; empty for the whole document. */
  field: string;
  message: string;
  /** What to do about it, when the message alone does not say (shown below the line, in JSON as `hint`). */
  hint?: string;
}

/** One line: FILE:LINE:COL: field: message, as compilers write theirs (output/diagnostics.ts adds the source line). */
export const formatProblem = (p: Problem) => `${p.file}${p.line ? `:${p.line}:${p.col ?? 1}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`;

/** The input is invalid: every problem found, reported at once. Exit 2, nothing touched. */
export class InputError extends PeerProvisionError {
  override readonly exitCode = EXIT.invalid;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** Bad command-line usage, or a question that cannot be asked (no TTY). Exit 2. */
export class UsageError extends PeerProvisionError {
  override readonly exitCode = EXIT.invalid;
}

/** Ctrl-C at a question (up's confirmation, init's answers): nothing was changed. Exit 130. */
export class InterruptedError extends PeerProvisionError {
  override readonly exitCode = EXIT.interrupted;
}

/**
 * A secret peer.yaml references cannot be had now (unset, unreadable, empty, or `generate` where a value is
 * needed): an operational failure (exit 1), named by its reference, never by its value.
 */
export class SecretError extends PeerProvisionError {}

/** A step on a machine failed: names the machine, the step and the remote error (already redacted). */
export class StepError extends PeerProvisionError {
  constructor(
    readonly machine: string,
    readonly step: string,
    readonly detail: string,
  ) {
    super(`${machine}: ${step} failed: ${detail}`);
  }
}
