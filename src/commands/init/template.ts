// The peer.yaml that init writes: the answers, with comments that say what each field does and what comes next.

export interface MachineAnswer {
  name: string;
  /** local, user@host[:port] or an ssh alias */
  target: string;
}

export interface InitAnswers {
  name: string;
  provider: 'pulumi' | 'provided';
  machines: MachineAnswer[];
}

export const authKeyVar = (machine: string) => `TS_AUTHKEY_${machine.toUpperCase().replace(/-/g, '_')}`;

/** Plain when it cannot be read as anything else; otherwise double-quoted (a JSON string is a valid YAML one). */
const scalar = (value: string) => (/^[A-Za-z0-9_][A-Za-z0-9@._:-]*$/.test(value) ? value : JSON.stringify(value));

export function peerYamlText(a: InitAnswers): string {
  const lines = [
    '# peer.yaml (written by `peer-provision init`): OpenClaw agents that become peers over Tailscale.',
    '# Check it:   peer-provision validate      (also lists the secrets and tools still missing)',
    '# Preview:    peer-provision plan          (read-only; --offline opens no connection)',
    '# Apply:      peer-provision up            (down undoes it)',
    '# Reference:  README.md, "peer.yaml reference"; in CI: docs/ci.md',
    'version: 1',
    `name: ${a.name}                 # names the Pulumi stack and the tags; lowercase letters, digits, dashes`,
    'tailnet:',
    `  provider: ${a.provider}`,
  ];
  if (a.provider === 'pulumi') {
    lines.push(
      '  credentials:                  # an OAuth client (scopes auth_keys, devices:core, policy_file); references, never the values',
      '    oauthClientId: env:TS_OAUTH_CLIENT_ID',
      '    oauthClientSecret: env:TS_OAUTH_CLIENT_SECRET',
      '  keys:',
      '    expiry: 1h                  # s, m, h, d (at most 90d)',
      "  acl: merge                    # merge: add only this stack's policy entries | skip: leave the policy alone",
      `  # backend: s3://my-bucket/peer-provision   # where the Pulumi state lives; default stacks/${a.name}/ beside this file (in CI use a persistent one)`,
    );
  } else {
    lines.push('  # provided: each machine joins with its own auth key (below); the tailnet policy, key revocation and devices are yours');
  }
  lines.push('machines:');
  for (const m of a.machines) {
    lines.push(
      `  ${m.name}:`,
      `    ssh: ${scalar(m.target)}${m.target === 'local' ? '            # the machine that runs peer-provision' : '   # user@host[:port] or an alias from ~/.ssh/config'}`,
    );
    if (a.provider === 'provided') lines.push('    tailscale:', `      authKey: env:${authKeyVar(m.name)}`);
    lines.push(
      '    # tailscale: {hostname: NAME}          # default: the machine name',
      "    # gateway: {port: 18789, token: generate}   # token: generate keeps the gateway's own, or env:NAME / file:PATH",
    );
  }
  lines.push('# peers: [[a, b]]                # default: every pair of machines', '');
  return lines.join('\n');
}
