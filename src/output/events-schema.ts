// The --json output, every line of it, as one JSON Schema: the single source of truth. The TS types the views
// emit (src/output/events.ts) are derived from this object (json-schema-to-ts), and schemas/events.schema.json
// is this object written out (`npm run schema`; a test fails when the committed file differs).
//
// A line is either one document (validate, plan, verify, status, peers, send, tailnet init, keygen: a `format`), or one event of
// up/down/rotate (an `event` and a `time`; the last is a `result`). Objects are closed (additionalProperties
// false) so a field added in code without being added here fails the tests, except $defs/plan: its steps' inputs
// differ per kind (StepInputs in src/plan/step-kinds.ts) and are described loosely there, known fields required, others allowed.

const string = { type: 'string' } as const;
const strings = { type: 'array', items: string } as const;
const time = { type: 'string', format: 'date-time', description: 'when the event was printed (ISO 8601, UTC)' } as const;
const exitCode = { type: 'integer', description: 'the exit code the run ends with (see --help: 0, 1, 2, 3, 130)' } as const;
const ref = <const Name extends string>(name: Name) => ({ $ref: `#/$defs/${name}` }) as const;

/** A closed object: every listed property allowed, `required` ones present, nothing else. */
const closed = <const P extends Record<string, unknown>, const R extends readonly (keyof P & string)[]>(properties: P, required: R) =>
  ({ type: 'object', additionalProperties: false, properties, required }) as const;

const event = <const Name extends string, const P extends Record<string, unknown>, const R extends readonly (keyof P & string)[]>(
  name: Name,
  description: string,
  properties: P,
  required: R,
) =>
  ({
    type: 'object',
    description,
    additionalProperties: false,
    properties: { time, event: { const: name }, ...properties },
    required: ['time', 'event', ...required],
  }) as const;

const defs = {
  problem: closed(
    {
      file: string,
      line: { type: 'integer' },
      col: { type: 'integer' },
      field: { type: 'string', description: 'dotted path, e.g. machines.beta.gateway.port; empty for the whole document' },
      message: string,
      hint: { type: 'string', description: 'what to do about it, when the message alone does not say' },
    },
    ['file', 'field', 'message'],
  ),
  diagnostic: {
    ...closed(
      {
        file: string,
        line: { type: 'integer', description: 'from 1; absent for a problem of the whole file (it cannot be read, it is empty)' },
        column: { type: 'integer', description: 'from 1, where the line has one' },
        field: { type: 'string', description: 'dotted path, e.g. machines.beta.gateway.port; empty for the whole document' },
        message: string,
        hint: { type: 'string', description: 'what to do about it, when the message alone does not say' },
      },
      ['file', 'field', 'message'],
    ),
    description: 'one problem in peer.yaml (or in a secret it references), at its place, in the order of the file',
  },
  blocker: {
    ...closed(
      {
        where: { type: 'string', description: "a machine's name, 'tailnet' (credentials, the Pulumi CLI, the state) or 'peer.yaml' (a secret)" },
        kind: { enum: ['machine', 'secret', 'tool', 'credentials', 'state'] },
        reason: string,
        fix: string,
      },
      ['where', 'kind', 'reason', 'fix'],
    ),
    description: 'something that keeps up (or down) from touching anything, and what to do about it',
  },
  check: closed(
    {
      from: string,
      to: string,
      check: { enum: ['agent-card', 'token-enforced', 'token-accepted', 'message', 'audit'] },
      ok: { type: 'boolean' },
      detail: string,
    },
    ['from', 'to', 'check', 'ok', 'detail'],
  ),
  errorDetail: closed(
    {
      type: { type: 'string', description: 'the error class: InputError, UsageError, BlockedError, StepError, PeerProvisionError, or Error (unexpected)' },
      message: string,
      problems: { type: 'array', items: ref('problem'), description: 'InputError: every problem in the input, each at its position' },
      blockers: { type: 'array', items: ref('blocker'), description: 'BlockedError: every reason the command refused' },
      hint: string,
    },
    ['type', 'message'],
  ),
  transport: {
    type: 'object',
    description: 'per machine: ssh connections opened and commands run',
    additionalProperties: closed({ connections: { type: 'integer' }, commands: { type: 'integer' } }, ['connections', 'commands']),
  },
  action: {
    type: 'object',
    description: 'one step of the plan: what it acts on, as a person reads it, and the typed input its executor takes (src/plan/types.ts)',
    additionalProperties: false,
    properties: {
      id: { type: 'string', description: '"<machine>/<kind>" or "tailnet/<kind>"' },
      kind: { type: 'string', description: 'the executor that runs it (src/apply/executors/); "unknown": shown only, never run' },
      machine: { type: 'string', description: 'the machine it runs on; absent: the tailnet side, from this host' },
      needs: { ...strings, description: 'steps that must succeed first' },
      after: { ...strings, description: 'steps that must have ended first, however they ended' },
      op: { enum: ['add', 'change', 'destroy', 'unknown'] },
      resource: string,
      summary: { type: 'string', description: 'one line a person reads' },
      reason: { type: 'string', description: 'op unknown: why it is not known' },
      changes: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: { field: string, from: {}, to: {}, sensitive: { type: 'boolean', description: 'true: from/to are never shown' } },
          required: ['field'],
        },
      },
      input: { type: 'object', description: "the step's decisions (no secret), by kind: see StepInputs in src/plan/step-kinds.ts" },
    },
    required: ['id', 'kind', 'needs', 'op', 'resource', 'summary', 'input'],
  },
  plan: {
    type: 'object',
    description: 'what up (or down) would change: `plan --json`, `plan --out FILE`, and the first event of up/down/rotate',
    additionalProperties: false,
    properties: {
      format: { const: 'peer-provision/plan@2' },
      command: { enum: ['up', 'down'] },
      stack: string,
      file: string,
      tailnet: {
        type: 'object',
        additionalProperties: false,
        properties: { provider: { enum: ['pulumi', 'provided'] }, actions: { type: 'array', items: ref('action') }, notes: strings },
        required: ['provider', 'actions', 'notes'],
      },
      machines: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            machine: string,
            target: { type: 'string', description: '"local", or the ssh destination with its port when peer.yaml gives one' },
            observed: { enum: ['observed', 'unreachable', 'offline'] },
            reason: string,
            actions: { type: 'array', items: ref('action') },
            blockers: { type: 'array', items: closed({ reason: string, fix: string }, ['reason', 'fix']) },
            notes: strings,
            skipped: string,
          },
          required: ['machine', 'target', 'observed', 'actions'],
        },
      },
      blockers: { type: 'array', items: ref('blocker') },
      summary: closed({ add: { type: 'integer' }, change: { type: 'integer' }, destroy: { type: 'integer' }, unknown: { type: 'integer' } }, [
        'add',
        'change',
        'destroy',
        'unknown',
      ]),
      basis: {
        type: 'object',
        description:
          'what the plan was made from, for the stale-plan check of a saved plan: peer.yaml digest, each machine as observed (no secret), the policy hash',
        additionalProperties: false,
        properties: { specDigest: string, machines: { type: 'object' }, policyHash: string },
        required: ['specDigest', 'machines'],
      },
      targets: { ...strings, description: '--machine: the machines this plan acts on' },
    },
    required: ['format', 'command', 'stack', 'file', 'tailnet', 'machines', 'blockers', 'summary', 'basis'],
  },
} as const;

const nullable = <const T extends string>(type: T) => ({ type: [type, 'null'] }) as const;

/** The one document of validate, verify, status, tailnet init, and of any of them (or plan) when it fails. */
export const documents = {
  validate: closed(
    {
      format: { const: 'peer-provision/validate@1' },
      valid: { const: true },
      file: string,
      stack: string,
      provider: { enum: ['pulumi', 'provided'] },
      machines: strings,
      peers: { type: 'array', items: { type: 'array', items: string, minItems: 2, maxItems: 2 } },
      friends: {
        type: 'array',
        description: "peer.yaml's friends: each one's name, their machine's hostname, the machines it peers with",
        items: closed({ name: string, hostname: string, with: strings }, ['name', 'hostname', 'with']),
      },
      ready: { type: 'boolean', description: 'false: something this side (a secret, a tool, credentials) would stop up; see blockers' },
      blockers: { type: 'array', items: ref('blocker') },
    },
    ['format', 'valid', 'file', 'stack', 'provider', 'machines', 'peers', 'friends', 'ready', 'blockers'],
  ),
  validateInvalid: {
    ...closed(
      {
        format: { const: 'peer-provision/validate@1' },
        valid: { const: false },
        file: string,
        diagnostics: { type: 'array', items: ref('diagnostic'), minItems: 1 },
        exitCode: { const: 2 },
        error: ref('errorDetail'),
      },
      ['format', 'valid', 'file', 'diagnostics', 'exitCode', 'error'],
    ),
    description:
      'validate of a file that is not valid (exit 2): every problem as a diagnostic; exitCode and error as every failed command has them (error.problems: the same problems)',
  },
  verify: closed({ format: { const: 'peer-provision/verify@1' }, stack: string, ok: { type: 'boolean' }, checks: { type: 'array', items: ref('check') } }, [
    'format',
    'stack',
    'ok',
    'checks',
  ]),
  status: closed(
    {
      format: { const: 'peer-provision/status@1' },
      stack: string,
      machines: {
        type: 'array',
        items: {
          anyOf: [
            closed({ machine: string, reachable: { const: false }, reason: string }, ['machine', 'reachable']),
            closed(
              {
                machine: string,
                reachable: { const: true },
                joined: { type: 'boolean' },
                tailnetIp: nullable('string'),
                gateway: closed(
                  { bind: nullable('string'), port: nullable('integer'), auth: nullable('string'), pid: nullable('integer'), listening: strings },
                  ['bind', 'port', 'auth', 'pid', 'listening'],
                ),
                healthy: { type: 'boolean', description: 'its peers reached its A2A agent card' },
                peers: { type: 'array', items: closed({ peer: string, reachable: { type: 'boolean' } }, ['peer', 'reachable']) },
              },
              ['machine', 'reachable', 'joined', 'tailnetIp', 'gateway', 'healthy', 'peers'],
            ),
          ],
        },
      },
    },
    ['format', 'stack', 'machines'],
  ),
  peers: closed(
    {
      format: { const: 'peer-provision/peers@1' },
      stack: string,
      pairs: {
        type: 'array',
        items: closed(
          {
            pair: { type: 'array', items: string, minItems: 2, maxItems: 2 },
            state: {
              enum: ['peered', 'incomplete', 'not peered', 'unknown'],
              description: 'peered: both joined, each has an A2A entry for the other at its current address, tokens agree; unknown: a machine was not reached',
            },
            sides: {
              type: 'array',
              minItems: 2,
              maxItems: 2,
              items: closed(
                {
                  machine: string,
                  reachable: { type: 'boolean' },
                  reason: { type: 'string', description: 'reachable false: why' },
                  joined: nullable('boolean'),
                  tailnetIp: nullable('string'),
                  entry: { type: ['boolean', 'null'], description: 'its OpenClaw config has channels.a2a.peers.<the other> with both tokens' },
                  urlCurrent: { type: ['boolean', 'null'], description: "that entry's url is the other machine's A2A endpoint at its current tailnet address" },
                },
                ['machine', 'reachable', 'joined', 'tailnetIp', 'entry', 'urlCurrent'],
              ),
            },
            tokensAgree: {
              type: ['boolean', 'null'],
              description: 'what each side presents is what the other accepts (compared, never shown); null: not both there',
            },
            problems: strings,
            checks: { type: 'array', items: ref('check'), description: '--check only: the agent-card and token probes of both directions' },
          },
          ['pair', 'state', 'sides', 'tokensAgree', 'problems'],
        ),
      },
      friends: {
        type: 'array',
        description: "each friend's machine with each of your machines in its `with`: only your side is read",
        items: closed(
          {
            friend: string,
            hostname: string,
            machine: string,
            state: {
              enum: ['peered', 'waiting', 'incomplete', 'unknown'],
              description: "peered: your machine sees the friend's node and its A2A entry for it has both tokens and its current url; waiting: not joined yet",
            },
            joined: nullable('boolean'),
            tailnetIp: nullable('string'),
            entry: nullable('boolean'),
            urlCurrent: nullable('boolean'),
            problems: strings,
          },
          ['friend', 'hostname', 'machine', 'state', 'joined', 'tailnetIp', 'entry', 'urlCurrent', 'problems'],
        ),
      },
      lastVerify: { type: 'null', description: 'peer-provision records no verify result anywhere: always null (run verify)' },
    },
    ['format', 'stack', 'pairs', 'friends', 'lastVerify'],
  ),
  send: closed(
    {
      format: { const: 'peer-provision/send@1' },
      stack: string,
      from: string,
      to: string,
      accepted: { type: 'boolean', description: "the sending machine's gateway took the message for the peer (exit 0); false: exit 1" },
      messageId: { type: 'string', description: 'accepted: the id the gateway gave it (the task on the peer)' },
      answer: { type: 'string', description: "not accepted: the gateway's answer (or why it could not be asked)" },
    },
    ['format', 'stack', 'from', 'to', 'accepted'],
  ),
  tailnetInit: closed(
    {
      format: { const: 'peer-provision/tailnet-init@1' },
      stack: string,
      tagOwners: { type: 'object', additionalProperties: strings, description: 'the tagOwners entries a first run needs' },
      policy: { enum: ['written', 'present', 'not written'] },
      oauthClient: closed({ scopes: strings, tags: strings }, ['scopes', 'tags']),
      next: { ...strings, description: 'the commands to run next' },
    },
    ['format', 'stack', 'tagOwners', 'policy', 'oauthClient', 'next'],
  ),
  tailnetKeys: closed(
    {
      format: { const: 'peer-provision/tailnet-keys@1' },
      stack: string,
      keyTags: { type: 'object', additionalProperties: strings, description: "provider provided: the tags each machine's own auth key must give its node" },
      tagOwners: { type: 'object', additionalProperties: strings, description: 'the tagOwners entries that define those tags' },
      grants: {
        type: 'array',
        items: closed({ src: strings, dst: strings, ip: strings }, ['src', 'dst', 'ip']),
        description: "the grants that let peers reach each other's gateway port",
      },
      next: { ...strings, description: 'the commands to run next' },
    },
    ['format', 'stack', 'keyTags', 'tagOwners', 'grants', 'next'],
  ),
  keygen: closed(
    {
      format: { const: 'peer-provision/keygen@1' },
      publicKey: { type: 'string', description: 'age1...: what the friend sends whoever invites them (not a secret)' },
      file: { type: 'string', description: 'where the private key is (0600)' },
      created: { type: 'boolean', description: 'false: the key was there already and is kept' },
    },
    ['format', 'publicKey', 'file', 'created'],
  ),
  error: closed({ format: { const: 'peer-provision/error@1' }, exitCode, error: ref('errorDetail') }, ['format', 'exitCode', 'error']),
} as const;

/** The events of up, down, rotate, invite, unfriend, accept and leave, one a line, in order; the last is always a result. */
export const events = {
  plan: event('plan', 'the plan, before anything is applied', { plan: ref('plan') }, ['plan']),
  step: event(
    'step',
    'one step of the plan started, finished, failed or was skipped (machine "tailnet": a step of the tailnet side)',
    {
      machine: string,
      step: string,
      id: { type: 'string', description: "the plan step's id (absent for verify's steps)" },
      status: { enum: ['start', 'done', 'failed', 'skipped'] },
      error: { type: 'string', description: 'status failed: why' },
      reason: { type: 'string', description: 'status skipped: why' },
    },
    ['machine', 'step', 'status'],
  ),
  check: event('check', 'one verify check from one machine to a peer', defs.check.properties, defs.check.required),
  invite: event(
    'invite',
    "invite: the invite file is written (sealed to the friend's key; it holds the friend's auth key and tokens, never shown); accept: the invite file opened, before its plan",
    {
      friend: string,
      file: { type: 'string', description: 'where the invite file was written (0600)' },
      fingerprint: { type: 'string', pattern: '^[0-9a-f]{4}(-[0-9a-f]{4}){3}$', description: 'read it to the friend: accept shows the same one' },
      expires: { type: 'string', format: 'date-time' },
    },
    ['friend', 'file', 'fingerprint', 'expires'],
  ),
  error: event('error', 'the run failed as a whole (refused, invalid input, usage); a result follows', { error: ref('errorDetail') }, ['error']),
  result: event(
    'result',
    'the last line of every up, down, rotate, invite, unfriend, accept and leave',
    {
      ok: { type: 'boolean' },
      exitCode,
      changed: { type: 'boolean', description: 'whether anything was applied' },
      restarted: { ...strings, description: 'up/rotate: machines whose gateway was restarted' },
      written: { ...strings, description: 'up/rotate: what was written where, e.g. "m1 gateway-config"' },
      problems: { ...strings, description: 'every machine skipped, step failed and check failed, one line each' },
      unreachable: { ...strings, description: 'down with nothing to do: the machines that could not be reached' },
      interrupted: { const: true, description: 'stopped by Ctrl-C or SIGTERM before anything was changed' },
      error: { type: 'string', description: 'after an error event: its message' },
      transport: ref('transport'),
    },
    ['ok', 'exitCode'],
  ),
} as const;

export const eventsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:peer-provision:events.schema.json',
  $comment: 'Generated from src/output/events-schema.ts by `npm run schema`: edit that file, not this one.',
  title: 'peer-provision --json output',
  description:
    'Every line peer-provision prints on stdout with --json (JSON Lines). validate, plan, verify, status, peers, send, tailnet init and keygen print one document (a `format`); up, down, rotate and invite print events (an `event` and a `time`), the last a `result`. A command that fails prints an error document, or an error event and then a result; validate of an invalid file prints its validate document with valid false and the diagnostics.',
  anyOf: [
    ref('plan'),
    ref('document-validate'),
    ref('document-validateInvalid'),
    ref('document-verify'),
    ref('document-status'),
    ref('document-peers'),
    ref('document-send'),
    ref('document-tailnetInit'),
    ref('document-tailnetKeys'),
    ref('document-keygen'),
    ref('document-error'),
    ref('event-plan'),
    ref('event-step'),
    ref('event-check'),
    ref('event-invite'),
    ref('event-error'),
    ref('event-result'),
  ],
  $defs: {
    ...defs,
    'document-validate': documents.validate,
    'document-validateInvalid': documents.validateInvalid,
    'document-verify': documents.verify,
    'document-status': documents.status,
    'document-peers': documents.peers,
    'document-send': documents.send,
    'document-tailnetInit': documents.tailnetInit,
    'document-tailnetKeys': documents.tailnetKeys,
    'document-keygen': documents.keygen,
    'document-error': documents.error,
    'event-plan': events.plan,
    'event-step': events.step,
    'event-check': events.check,
    'event-invite': events.invite,
    'event-error': events.error,
    'event-result': events.result,
  },
} as const;

/** The file schemas/events.schema.json holds, byte for byte. */
export const eventsSchemaText = () => JSON.stringify(eventsSchema, null, 2) + '\n';
