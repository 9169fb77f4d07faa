// write-peer-files: each peer's address and token file, and the peer-messaging skill (templates/peer-files.sh).
// Which peers: the plan's (step.input.peers). Their addresses are those of this run: a peer that joined in it has one
// only now (the plan's digest is what the files hash to where every address was known when it was made).
import { layout } from '../../model/openclaw-layout.js';
import { type MachineRun, peerInfos } from '../context.js';
import { type PeerInfo, renderPeerFiles } from '../peer-files.js';
import { stepFailed, stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

export function peerFilesFor(run: MachineRun, peers: PeerInfo[]) {
  const where = layout(run.state.gateway.configPath!, run.private.config, run.private.home);
  return renderPeerFiles(run.spec.name, run.machine.name, peers, where);
}

export const writePeerFiles: Executor<'write-peer-files'> = {
  async run(step, ctx) {
    const run = runOf(step, ctx);
    const machines = peerInfos(ctx.runs, step.input.peers);
    const infos = machines && [...machines, ...(step.input.friends ?? [])];
    if (!infos || !run.state.gateway.configPath) throw stepFailed(run, step.kind, 'a peer has no tailnet address (unreachable, or it failed before joining)');
    const rendered = peerFilesFor(run, infos);
    // a path is one line of the machine's records and a word of every message: no control character in it
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    const bad = rendered.files.find((f) => /[\u0000-\u001f\u007f]/.test(f.path));
    if (bad)
      throw stepFailed(run, step.kind, `${JSON.stringify(bad.path)} holds a control character (the agent workspace in the OpenClaw config?): not written`);
    await stepScript(run, step, {
      STACK: ctx.spec.name,
      FILES: rendered.files.map((f) => `${f.mode} ${base64(f.path)} ${base64(f.content)}`).join('\n'),
      DIGEST: rendered.digest,
    });
    return { written: 'peer-files' };
  },
};
