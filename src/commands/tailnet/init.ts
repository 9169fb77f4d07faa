// peer-provision tailnet init: what a first run of provider pulumi needs, in order (see src/tailnet/init.ts).

import { EXIT, UsageError } from '../../errors.js';
import { registerSecret } from '../../model/redact.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';

interface InitOptions extends CommonOptions {
  write?: boolean;
}

export async function run(options: InitOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const { initInstructions, providedInstructions, providedKeyTags, writeInitTagOwners, OAUTH_SCOPES } = await import('../../tailnet/init.js');
  const { ownedEntries } = await import('../../tailnet/policy/owned.js');
  if (spec.tailnet.provider === 'provided') {
    if (options.write) throw new UsageError('tailnet init --write is for tailnet.provider: pulumi: with provided keys the policy is yours to write');
    const { grants } = ownedEntries(spec);
    view.document(
      {
        format: 'peer-provision/tailnet-keys@1',
        stack: spec.name,
        keyTags: providedKeyTags(spec),
        tagOwners: Object.fromEntries([...new Set(spec.machines.flatMap((m) => m.tags))].map((t) => [t, ['autogroup:admin']])),
        grants,
        next: [`peer-provision plan -f ${spec.file}`, `peer-provision up -f ${spec.file}`],
      },
      () => providedInstructions(spec),
    );
    return EXIT.ok;
  }
  let wrote: 'written' | 'present' | undefined;
  if (options.write) {
    const apiKey = process.env.TAILSCALE_API_KEY;
    if (!apiKey) throw new UsageError('tailnet init --write needs an admin API key in the environment variable TAILSCALE_API_KEY (used once, never stored)');
    registerSecret(apiKey);
    const { createTailscaleApi } = await import('../../tailnet/devices.js');
    wrote = await writeInitTagOwners(spec, createTailscaleApi({ kind: 'apiKey', apiKey }, spec.tailnet.tailnet));
  }
  view.document(
    {
      format: 'peer-provision/tailnet-init@1',
      stack: spec.name,
      tagOwners: Object.fromEntries(ownedEntries(spec).tagOwners),
      policy: wrote ?? 'not written',
      oauthClient: { scopes: [...OAUTH_SCOPES], tags: [spec.tailnet.ownerTag] },
      next: [`peer-provision plan -f ${spec.file}`, `peer-provision up -f ${spec.file}`],
    },
    () => initInstructions(spec, wrote),
  );
  return EXIT.ok;
}
