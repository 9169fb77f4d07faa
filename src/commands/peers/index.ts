// peer-provision peers: each peer pair of peer.yaml and its state as the machines show it, read-only (one observe
// per machine; with --check also verify's agent-card and token probes, never a message). peer-provision keeps no
// record of verify's results, so none is shown: the last line says where to get one.
import { EXIT } from '../../errors.js';
import { observeAll } from '../../observe/index.js';
import { renderTable } from '../../output/table.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';
import { Transport } from '../../transport/remote.js';
import { type CheckResult, observedEndpoints, verify } from '../../verify/index.js';
import { type FriendRow, friendRows, type PairRow, pairRows } from './pairs.js';

interface PeersOptions extends CommonOptions {
  acceptNewHostKeys?: boolean;
  check?: boolean;
}

const NO_RECORD = 'no verify result is recorded (peer-provision keeps none): `peer-provision verify` checks every pair, a message included';

export async function run(options: PeersOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    const observed = await observeAll(spec, transport);
    const checks = options.check ? await verify(spec, observedEndpoints(spec, transport, observed), false) : undefined;
    const pairs = pairRows(spec, observed).map((row) => ({
      ...row,
      ...(checks ? { checks: checks.filter((c) => row.pair.includes(c.from) && row.pair.includes(c.to) && c.from !== c.to) } : {}),
    }));
    const friends = friendRows(spec, observed);
    view.document({ format: 'peer-provision/peers@1', stack: spec.name, pairs, friends, lastVerify: null }, () => render(pairs) + renderFriends(friends));
    const failed = pairs.some((p) => p.state === 'unknown' || p.checks?.some((c) => !c.ok)) || friends.some((f) => f.state === 'unknown');
    return failed ? EXIT.failure : EXIT.ok;
  } finally {
    await transport.close();
  }
}

const yesNo = (value: boolean | null) => (value === null ? '?' : value ? 'yes' : 'no');

function render(pairs: (PairRow & { checks?: CheckResult[] })[]): string {
  if (pairs.length === 0) return `No peer pairs in peer.yaml.\n${NO_RECORD}\n`;
  const table = [['PAIR', 'STATE', 'JOINED', 'A2A ENTRIES', 'TOKENS AGREE', ...(pairs[0]!.checks ? ['CHECKS'] : [])]];
  for (const p of pairs) {
    const [a, b] = p.sides;
    const failed = p.checks?.filter((c) => !c.ok).length ?? 0;
    table.push([
      `${p.pair[0]} <-> ${p.pair[1]}`,
      p.state,
      `${yesNo(a.joined)}/${yesNo(b.joined)}`,
      `${yesNo(a.entry)}/${yesNo(b.entry)}`,
      yesNo(p.tokensAgree),
      ...(p.checks ? [failed ? `${failed} of ${p.checks.length} failed` : `${p.checks.length} ok`] : []),
    ]);
  }
  const details = pairs.flatMap((p) => [
    ...p.problems.map((problem) => `  ${p.pair[0]} <-> ${p.pair[1]}: ${problem}`),
    ...(p.checks ?? []).filter((c) => !c.ok).map((c) => `  ${c.from} -> ${c.to} ${c.check}: ${c.detail}`),
  ]);
  return `${renderTable(table)}${details.length ? `\n${details.join('\n')}\n` : ''}\n(JOINED and A2A ENTRIES: first machine/second machine.) ${NO_RECORD}\n`;
}

function renderFriends(friends: FriendRow[]): string {
  if (friends.length === 0) return '';
  const table = [['FRIEND', 'WITH', 'STATE', 'JOINED', 'A2A ENTRY']];
  for (const f of friends) table.push([`${f.friend} (${f.hostname})`, f.machine, f.state, yesNo(f.joined), yesNo(f.entry)]);
  const details = friends.flatMap((f) => f.problems.map((problem) => `  ${f.friend} <-> ${f.machine}: ${problem}`));
  return `\n${renderTable(table)}${details.length ? `\n${details.join('\n')}\n` : ''}\n(A friend's own side is on their machine and is not read here: \`peer-provision verify\` checks it from yours.)\n`;
}
