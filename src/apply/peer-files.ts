// The files that tell one machine's agent about its peers: a peer-config (names, tailnet addresses, A2A endpoints)
// and a skill in the agent's workspace. No secret is in them: the gateway holds each peer's A2A tokens in its config.
// Rendered from data and the templates/ files (read from disk); no remote I/O.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { a2aTarget, a2aUrl } from '../model/gateway-settings.js';
import { sha256 } from '../model/hash.js';
import type { Layout } from '../model/openclaw-layout.js';

const TEMPLATES = new URL('../../../templates/', import.meta.url);
const template = (name: string) => readFileSync(new URL(name, TEMPLATES), 'utf8');
const fill = (text: string, values: Record<string, string>) => text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? '');

export interface PeerInfo {
  name: string;
  hostname: string;
  ip: string;
  port: number;
}

export interface PeerFile {
  path: string;
  mode: '644';
  content: string;
}

export interface PeerFiles {
  files: PeerFile[];
  digest: string;
}

export function renderPeerFiles(stack: string, machine: string, peers: PeerInfo[], where: Layout): PeerFiles {
  const peerConfig = posix.join(where.peerDir, 'peer-config.md');
  const entries = peers
    .map((p) => fill(template('peer-entry.md'), { peer: p.name, target: a2aTarget(p.name), hostname: p.hostname, ip: p.ip, url: a2aUrl(p.ip, p.port) }))
    .join('\n');
  const files: PeerFile[] = [
    { path: peerConfig, mode: '644', content: fill(template('peer-config.md'), { machine, stack, peers: entries }) },
    {
      path: posix.join(where.skillDir, 'SKILL.md'),
      mode: '644',
      content: fill(template('skill/SKILL.md'), { peerNames: peers.map((p) => p.name).join(', '), peerConfig }),
    },
  ];
  const digest = sha256(files.map((f) => `${f.path}\0${f.mode}\0${f.content}`).join('\0'));
  return { files, digest };
}
