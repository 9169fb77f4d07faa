// The command table: every command, option, choice and help text of the CLI (commander), without running
// any command. cli.ts parses argv with it; `completion` generates shell completion scripts from it.
import { readFileSync } from 'node:fs';
import { Argument, Command, Option } from 'commander';

/** What every command's options hold (-f, --json, --no-color): the part cli.ts reads before it runs one. */
export interface CommonOptions {
  file: string;
  json?: boolean;
  color?: boolean;
}

const EXIT_CODES = `
Exit codes:
  0    success (plan --detailed-exitcode: nothing to change)
  1    operational failure: a machine, a step or a remote command failed, a machine is unreachable (plan too),
       or something blocks up (a tool, credentials, a machine precondition; then nothing was touched),
       or the question before up, down or rotate was not answered yes (nothing was touched)
  2    invalid input or usage, a missing secret, or CI with state that would be lost: nothing was touched
  3    plan --detailed-exitcode only: real changes pending
  130  interrupted: running steps finished, nothing new started (Ctrl-C at a question: nothing changed)

Environment:
  CI                                  set (as CI services do): progress as timestamped lines on stderr, and up
                                      refuses the local default Pulumi state (see docs/ci.md)
  NO_COLOR                            any value: no colour (as --no-color)
  PULUMI_CONFIG_PASSPHRASE            the Pulumi secrets passphrase (provider pulumi; else generated once)
  PEER_PROVISION_ALLOW_LOCAL_STATE=1  as --allow-local-state
  PEER_PROVISION_LOG=debug            as --verbose
  the variables peer.yaml references  env:NAME for tokens, auth keys and Tailscale API credentials

Examples:
  peer-provision plan --offline                 what up would do, from peer.yaml alone
  peer-provision plan --detailed-exitcode       drift check: 0 converged, 3 changes pending, 1 unreachable/blocked
  peer-provision plan --json > plan.json        a plan artifact (no secret in it)
  peer-provision plan --out plan.json           save the plan; \`up plan.json\` applies exactly it (refused if stale)
  peer-provision up --yes --json                apply in CI: one JSON event per line, the last a result
  peer-provision up --machine beta              only beta; its pairs with the others are left as they are
  peer-provision rotate --yes                   new gateway tokens, peer files updated on every peer; node keys
                                                expiring within 7d re-keyed (provider pulumi)
  peer-provision plan --for rotate --rekey-within 30d
                                                what rotate would change, re-keying keys that expire within 30d
  peer-provision peers                          each pair: joined, A2A entries on both sides, tokens agreeing
  peer-provision send beta 'hello from alpha'   a real message through the A2A channel (--from alpha if ambiguous)
  printf '%s' "$text" | peer-provision send beta -
                                                the message from stdin (it then appears in no argv)
  peer-provision down --yes

More: README.md, docs/ci.md`;

/** The version in package.json, which every install route ships beside dist/ (dist/src/program.js → ../../). */
const packageVersion = (): string => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

export function program(run: (name: string, options: CommonOptions & Record<string, unknown>) => void): Command {
  const cli = new Command('peer-provision')
    .description('Peer OpenClaw gateways on several machines privately over Tailscale, from one peer.yaml.')
    .version(packageVersion(), '-V, --version')
    .addHelpText('after', EXIT_CODES)
    .showSuggestionAfterError()
    .exitOverride();
  const DOCUMENT = 'print one JSON document on stdout (implies non-interactive)';
  const EVENTS = 'print one JSON event per line on stdout, the last a result (implies non-interactive)';
  const command = (name: string, description: string, json = DOCUMENT) =>
    cli
      .command(name)
      .description(description)
      .option('-f, --file <path>', 'the peer.yaml to read', 'peer.yaml')
      .option('--json', json)
      .option('--no-color', 'no colour (also: NO_COLOR set)')
      .exitOverride();
  const localState = (c: Command) =>
    // Not commander's .env(): for a flag it counts a variable that is merely present, and =0 must not allow this.
    c.option(
      '--allow-local-state',
      'with CI set: keep the Pulumi state in the local default backend on purpose (also PEER_PROVISION_ALLOW_LOCAL_STATE=1; see docs/ci.md)',
    );
  const VERBOSE = 'show each remote command (its template and variables, secrets hidden) and what it answered, redacted, on stderr';
  const machines = (c: Command) =>
    c
      .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
      .option('-v, --verbose', VERBOSE)
      .option('-m, --machine <name>', 'act on this machine only (repeat for more); pairs with machines outside the set are left as they are', collect, []);
  const asks = (c: Command) => c.option('-y, --yes', 'apply without asking (required without a terminal)');

  command('validate', 'check peer.yaml (schema and rules); touches nothing').action((o) => run('validate', o));
  localState(machines(command('plan', 'show what `up` (or `down`) would change, observing the machines read-only')))
    .option('--offline', 'compute from peer.yaml alone: open no connection to anything')
    .option('--detailed-exitcode', 'exit 3 when changes are pending, 0 when there are none (1 when a machine is unreachable or something blocks)')
    .addOption(
      new Option('--for <command>', 'plan for up, down or rotate (new A2A tokens and node re-keys: what rotate would change)')
        .choices(['up', 'down', 'rotate'])
        .default('up'),
    )
    .option('--rekey-within <duration>', 'with --for rotate: re-key nodes whose key expires within this (90s, 15m, 36h, 7d; default 7d)')
    .option('--out <file>', 'also save the plan (no secret in it) for `up FILE` / `down FILE` to apply exactly')
    .action((o) => run('plan', o));
  const savedPlan = (c: Command, made: string) =>
    c.argument('[plan]', `a plan saved by \`${made}\`: the fresh plan is applied, without asking, when it is still the saved one; refused when anything moved`);
  savedPlan(
    localState(asks(machines(command('up', 'apply: keys, install, join, patch and restart gateways, peer files, verify', EVENTS)))),
    'plan --out FILE',
  ).action((planFile, o) => run('up', { ...o, planFile }));
  machines(command('verify', "from each machine to each peer over A2A: agent card, tokens refused and accepted, a message sent by the machine's gateway"))
    .option('--no-message', 'skip the message delivery check (agent card and token checks only)')
    .action((o) => run('verify', o));
  machines(command('status', 'per machine: joined, tailnet IP, gateway bind/auth, healthy, peers reachable')).action((o) => run('status', o));
  command('peers', "per peer pair in peer.yaml: both machines joined, each one's A2A entry for the other, their tokens agreeing (read-only)")
    .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
    .option('-v, --verbose', VERBOSE)
    .option('--check', 'also probe each direction over the tailnet as verify does (agent card, tokens refused and accepted), without a message')
    .action((o) => run('peers', o));
  command('send', "send PEER a message through OpenClaw's A2A channel, from a machine paired with it (its gateway delivers it, as its agent would)")
    .argument('<peer>', 'the machine to send to (a machine name in peer.yaml)')
    .argument('<message>', 'the text; - reads it from stdin (a text that starts with - goes after --)')
    .option('--from <machine>', 'the sending machine (default: the only machine paired with PEER, else the local one when paired with it)')
    .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
    .option('-v, --verbose', VERBOSE)
    .action((peer, message, o) => run('send', { ...o, peer, message }));
  // no --machine: a pair's tokens are in both of its configs, so a rotation always reaches every peer
  localState(
    asks(
      command(
        'rotate',
        "new A2A tokens for every pair of peers (both sides in one run) and, with provider pulumi, new node keys for nodes whose key expires soon: shown as a plan, then applied like up: re-key (tailscale up --force-reauth), patch each config (OpenClaw reloads it; a restart only where gateway.reload.mode is off), verify; the owner's gateway token is not rotated",
        EVENTS,
      ),
    ),
  )
    .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
    .option('-v, --verbose', VERBOSE)
    .option(
      '--rekey-within <duration>',
      're-key nodes whose Tailscale node key expires within this (90s, 15m, 36h, 7d; default 7d); an expired key is always re-keyed',
    )
    .addOption(new Option('--only <what>', 'only new A2A peer tokens, or only node re-keys').choices(['tokens', 'keys']))
    .action((o) => run('rotate', o));
  savedPlan(
    asks(machines(command('down', 'leave the tailnet, restore each gateway config, remove peer files, revoke keys', EVENTS))),
    'plan --for down --out FILE',
  ).action((planFile, o) => run('down', { ...o, planFile }));
  // tailnet init: what the tailnet needs before a first up (pulumi: tagOwners, then the OAuth client; provided: the keys)
  cli
    .command('tailnet')
    .description('tailnet setup before a first up (see docs/tailnet.md)')
    .exitOverride()
    .command('init')
    .description(
      "print what a first up needs: provider pulumi, the tagOwners entries and the OAuth client to create; provider provided, the tags each machine's key must carry and the policy entries",
    )
    .option('-f, --file <path>', 'the peer.yaml to read', 'peer.yaml')
    .option('--json', DOCUMENT)
    .option('--no-color', 'no colour (also: NO_COLOR set)')
    .option('--write', 'write the tagOwners entries into the tailnet policy (If-Match) with an admin API key in TAILSCALE_API_KEY')
    .exitOverride()
    .action((o) => run('tailnet init', o));
  // the friend flow, the friend's side (docs/friend.md): reads no peer.yaml
  cli
    .command('keygen')
    .description("make your key for receiving a friend's invites (once; run again, it shows the same key): prints the public key to send them")
    .option('--json', DOCUMENT)
    .option('--no-color', 'no colour (also: NO_COLOR set)')
    .exitOverride()
    .action((o) => run('keygen', o));
  // the friend flow, the inviter's side: an up that also mints the friend's key and seals the invite
  localState(
    asks(
      command(
        'invite',
        'invite FRIEND (friends: in peer.yaml) to peer a machine of theirs with yours: an up that also mints their key and writes your side of each pair, then seals the invite file to their public key (they run `peer-provision accept FILE`)',
        EVENTS,
      ),
    ),
  )
    .argument('<friend>', 'the friend, by their name under friends: in peer.yaml')
    .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
    .option('-v, --verbose', VERBOSE)
    .option('-o, --out <file>', 'where the invite file goes (0600; default ./FRIEND.invite)')
    .option('--expires <duration>', 'how long the invite and its key are valid: 30m, 24h, 7d (default 24h, at most 90d)')
    .option('--auth-key <ref>', "provider provided: the friend's auth key, env:NAME or file:PATH (single use, pre-authorized, with the friend's tags)")
    .action((friend, o) => run('invite', { ...o, friend }));
  localState(
    asks(
      command(
        'unfriend',
        "end FRIEND's peering: an up without them (an invite they have not accepted has its key revoked, their A2A entries on your machines and their grants go, then their device), and friends.FRIEND taken out of peer.yaml once you confirm",
        EVENTS,
      ),
    ),
  )
    .argument('<friend>', 'the friend, by their name under friends: in peer.yaml')
    .option('--accept-new-host-keys', 'accept and remember host keys ssh has not seen (otherwise known_hosts must have them)')
    .option('-v, --verbose', VERBOSE)
    .action((friend, o) => run('unfriend', { ...o, friend }));
  // the friend flow, the friend's side, on their own machine: no peer.yaml
  asks(
    cli
      .command('accept')
      .description(
        "on your machine: open an invite sealed to your key, show its fingerprint and what will change, then join the inviter's tailnet and peer your gateway with their machines over A2A (a local up); leave undoes it",
      )
      .argument('<invite>', 'the invite file the inviter sent you')
      .option('--json', EVENTS)
      .option('--no-color', 'no colour (also: NO_COLOR set)')
      .option('-v, --verbose', VERBOSE)
      .option('--install-url <url>', "Tailscale's Linux install script, when Tailscale is missing: a mirror (https; default tailscale.com's)")
      .option('--take-over', "this node is logged in to another tailnet: log it out of that one and join the inviter's (otherwise refused)")
      .option('--guard', "let in only your gateway's port on the tailnet interface (nftables), whatever the inviter's policy allows; leave removes it")
      .exitOverride(),
  ).action((invite, o) => run('accept', { ...o, invite }));
  asks(
    cli
      .command('leave')
      .description(
        "on your machine: undo what accept did (your gateway's config back, the peer files removed, the inviter's tailnet left); the invite is then spent",
      )
      .argument('[stack]', "the inviter's stack, when you accepted more than one invite")
      .option('--json', EVENTS)
      .option('--no-color', 'no colour (also: NO_COLOR set)')
      .option('-v, --verbose', VERBOSE)
      .exitOverride(),
  ).action((stack, o) => run('leave', { ...o, stack }));
  // what the completion scripts call for machine names: prints them from peer.yaml, one a line, and nothing on any error
  cli.command(COMPLETE_MACHINES, { hidden: true }).option('-f, --file <path>', 'the peer.yaml to read', 'peer.yaml');
  cli
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', COMPLETION_INSTALL)
    .exitOverride()
    .action((shell) => run('completion', { shell } as never));
  cli
    .command('init')
    .description('write a commented peer.yaml from --machine flags (or ask on a terminal, checking each answer as it is typed); never overwrites one')
    .option('-f, --file <path>', 'the peer.yaml to write', 'peer.yaml')
    .option('-m, --machine <name=target>', 'a machine and how to reach it: NAME=local or NAME=user@host[:port] (repeat, at least two)', collect, [])
    .addOption(new Option('--provider <provider>', 'how machines get Tailscale auth keys').choices(['pulumi', 'provided']).default('pulumi'))
    .option('--name <stack>', 'the stack name (default: the folder name)')
    .addHelpText('after', '\nExample:\n  peer-provision init --machine laptop=local --machine server=me@host:2222 --provider pulumi')
    .exitOverride()
    .action((o) => run('init', { ...o, creates: true }));
  return cli;
}

const COMPLETION_INSTALL =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's ${fpath[1]}, printed as is
  '\nInstall:\n  bash: peer-provision completion bash > ~/.local/share/bash-completion/completions/peer-provision\n  zsh:  peer-provision completion zsh > "${fpath[1]}/_peer-provision"\n  fish: peer-provision completion fish > ~/.config/fish/completions/peer-provision.fish';

/** The hidden command the completion scripts run (cli.ts answers it before parsing anything else). */
export const COMPLETE_MACHINES = '__complete-machines';

const collect = (value: string, previous: string[]) => [...previous, value];
