// Text from a machine (a tailnet's name, a remote error) may hold terminal control sequences: `\e[2K\r` would erase
// and overwrite what the tool printed before it. What reaches a terminal keeps line breaks, tabs and the tool's own
// colours (SGR: ESC [ digits m) and shows every other control character as an escape a person can read.

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export const visible = (text: string): string => text.replace(CONTROL, (c) => (c.length > 1 ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
