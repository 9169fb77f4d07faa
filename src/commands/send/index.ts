// peer-provision send PEER MESSAGE [--from MACHINE]: one real message through the path the agents use: the sending
// machine's own gateway sends it on OpenClaw's A2A channel (templates/send.sh), with the url and token its config
// holds for PEER. The message reaches the machine inside the script on ssh's stdin (base64) and node on its stdin:
// it is never in an argv there, nor in a shell-quoted string. MESSAGE "-" reads it from stdin here, so it is in no
// argv at all. Exit 0 when the gateway accepted it, 1 with its answer when not, 2 when refused before anything.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stderr } from '../../console/io.js';
import { EXIT, PeerProvisionError, UsageError } from '../../errors.js';
import { observeMachine } from '../../observe/index.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';
import { lastLines, Transport } from '../../transport/remote.js';
import { parseResult } from '../../transport/result.js';
import { runScript } from '../../transport/run-script.js';
import { sender } from './sender.js';

interface SendOptions extends CommonOptions {
  peer: string;
  message: string;
  from?: string;
  acceptNewHostKeys?: boolean;
}

/** The most a message may hold (it travels inside one script on ssh's stdin). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

function messageText(given: string): string {
  const text = given === '-' ? readFileSync(0, 'utf8') : given;
  if (text.trim() === '') throw new UsageError(given === '-' ? 'the message read from stdin is empty' : 'the message is empty');
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES)
    throw new UsageError(`the message is ${Buffer.byteLength(text)} bytes: at most ${MAX_MESSAGE_BYTES} are sent`);
  return text;
}

export async function run(options: SendOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const from = sender(spec, options.peer, options.from);
  const peer = options.peer;
  const message = messageText(options.message);
  const machine = spec.machines.find((m) => m.name === from)!;
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    const observed = await observeMachine(spec, machine, transport);
    if (observed.observation.status !== 'observed')
      throw new PeerProvisionError(
        `${from} (the sending machine) is unreachable: ${observed.observation.status === 'unreachable' ? observed.observation.reason : 'not observed'}; nothing was sent`,
      );
    const gateway = observed.observation.state.gateway;
    const entry = gateway.a2a.peers[peer];
    if (gateway.a2a.enabled === false || !entry?.url || !entry.outboundToken)
      throw new PeerProvisionError(
        `${from}'s OpenClaw config${gateway.configPath ? ` (${gateway.configPath})` : ''} has no A2A channel entry for ${peer} (channels.a2a.peers.${peer} with its url and outboundToken${gateway.a2a.enabled === false ? '; the channel is disabled' : ''}): nothing was sent`,
        'run `peer-provision up` to peer them',
      );
    const out = await runScript(transport.for(machine), 'send', {
      PEER: peer,
      MESSAGE_B64: Buffer.from(message).toString('base64'),
      CONFIG: gateway.configPath ?? '',
      KEY: `pp-send-${randomBytes(8).toString('hex')}`,
    });
    if (out.exitCode !== 0) throw new PeerProvisionError(`send on ${from} failed: ${lastLines(out.stderr)}`);
    const values = parseResult(out.stdout, 'send.sh').values;
    const messageId = values.message_id;
    const accepted = Boolean(messageId);
    const answer = accepted ? undefined : (values.answer ?? 'no answer');
    view.document({ format: 'peer-provision/send@1', stack: spec.name, from, to: peer, accepted, ...(accepted ? { messageId } : { answer }) }, () =>
      accepted ? `sent: ${from} -> ${peer} through ${from}'s gateway on the A2A channel (message ${messageId})\n` : '',
    );
    if (!accepted) stderr(`${from}'s gateway did not send the message to ${peer}: ${answer}\n`);
    return accepted ? EXIT.ok : EXIT.failure;
  } finally {
    await transport.close();
  }
}
