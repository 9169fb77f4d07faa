// The one digest peer-provision compares things by (configs, tokens, peer files): hex SHA-256 of a string.
import { createHash } from 'node:crypto';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
