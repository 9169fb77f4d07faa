// Content digests shared by every stage (observe hashes what it reads, plan records what it saw).
import { createHash } from 'node:crypto';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
