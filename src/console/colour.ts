// ANSI colour for what a person reads on a terminal, never for data in a pipe or a file. Off with NO_COLOR
// (https://no-color.org: any non-empty value), --no-color, or when stdout is not a terminal; FORCE_COLOR turns
// it on. Codes come from Node's own table (util.inspect.colors).
import { inspect } from 'node:util';

export type Colour = 'green' | 'yellow' | 'red' | 'gray' | 'bold';

let forcedOff = false;
/** --no-color: set once by the CLI before a command runs. */
export const disableColour = () => {
  forcedOff = true;
};

export function colourWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (forcedOff || env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function paint(text: string, colour: Colour, on = colourWanted()): string {
  if (!on) return text;
  const [open, close] = inspect.colors[colour] ?? [0, 0];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}
