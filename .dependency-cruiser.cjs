// Which way imports may point in src/ (dependency-cruiser; `npm run deps`, part of `npm run lint` and `npm test`).
//
// Data flows peer.yaml → Spec → observe → plan → apply → verify, and imports follow it one way:
//   model/, errors.ts        shared leaves: import nothing of src/ (model/) or nothing at all (errors.ts)
//   peer-yaml/               reads peer.yaml into the Spec; imports only itself, model/ and errors.ts
//   observe/                 never imports the later stages (plan, apply, verify) nor the commands
//   plan/                    pure: no I/O, no apply/verify/commands/transport; tailnet/policy/ is pure too
//   apply/ and verify/       never import each other: the commands call one, then the other
//   console/                 the terminal (redacted stdout/stderr, colour, prompts): a leaf over model/ and errors.ts
//   output/                  the presentation (views, the rendered plan, JSON events): used at run time by commands only
//   commands/                imported only by cli.ts, lazily (import()); a command imports the shared
//                            commands/*.ts helpers, not another command
//   cli.ts                   imported by nothing in src/ (bin/peer-provision.js loads it)
// and there is no cycle. The rules are checked on the TypeScript sources, type-only imports included.
//
// KNOWN_VIOLATIONS below are the imports that break a rule today in code being rewritten: each is reported
// with KNOWN_SEVERITY (a warning) instead of failing. Fix one, then delete its line (the architecture test
// fails while a listed import no longer exists, so the list cannot go stale). Set KNOWN_SEVERITY to 'error'
// to make the remaining ones fail too. Any import not listed here that breaks a rule fails `npm test`.

/** @type {'warn' | 'error'} */
const KNOWN_SEVERITY = 'error';

/** @type {{ rule: string, from: string, to: string, fix: string }[]} */
const KNOWN_VIOLATIONS = [];

/** Modules without I/O: a pure module imports (at run time) only these, and no I/O library. */
const PURE = [
  '^src/plan/',
  '^src/model/',
  '^src/errors\\.ts$',
  '^src/peer-yaml/(types|duration|token-rule)\\.ts$',
  '^src/observe/(types|parse|tailscale-status)\\.ts$',
  '^src/tailnet/policy/',
  '^src/tailnet/(notes|errors)\\.ts$',
  '^src/transport/result\\.ts$',
];
/** Node built-ins and packages that do I/O (files, processes, network, terminal, Pulumi). */
const IO_LIBRARIES = ['^(node:)?(fs|child_process|net|http|https|http2|dgram|dns|tls|readline|worker_threads|cluster)(/|$)', '^(execa|listr2|@pulumi/)'];

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const RULES = [
  {
    name: 'no-cycle',
    comment:
      'This import closes a cycle: the modules of the cycle can no longer be understood, tested or loaded one without the other. ' +
      'Move what both need into a lower module (model/, peer-yaml/types.ts, a commands/*.ts helper). ' +
      '(Cycles through cli.ts are reported by nothing-imports-cli.)',
    from: {},
    to: { circular: true, viaOnly: { pathNot: '^src/cli\\.ts$' } },
  },
  {
    name: 'nothing-imports-cli',
    comment: 'cli.ts is the entry point: nothing in src/ imports it. The command table and CommonOptions are in program.ts.',
    from: {},
    to: { path: '^src/cli\\.ts$' },
  },
  {
    name: 'only-cli-imports-commands',
    comment: 'src/commands/ is the top layer: only cli.ts loads a command. Move what is needed below into a lower module.',
    from: { pathNot: ['^src/commands/', '^src/cli\\.ts$'] },
    to: { path: '^src/commands/' },
  },
  {
    name: 'cli-loads-commands-lazily',
    comment: "cli.ts loads a command only when it runs, with import('./commands/...'), so --help and validate never load Pulumi.",
    from: { path: '^src/cli\\.ts$' },
    to: { path: '^src/commands/', dependencyTypesNot: ['dynamic-import'] },
  },
  {
    name: 'commands-do-not-import-each-other',
    comment: 'A command imports the shared helpers in src/commands/*.ts, not another command: move what both need there (or lower).',
    from: { path: '^src/commands/([^/]+)/' },
    to: { path: '^src/commands/[^/]+/', pathNot: '^src/commands/$1/' },
  },
  {
    name: 'peer-yaml-imports-only-leaves',
    comment: 'peer-yaml/ (reading peer.yaml into the Spec) comes first: it imports only itself, model/ and errors.ts. Move what it needs into model/.',
    from: { path: '^src/peer-yaml/' },
    to: { path: '^src/', pathNot: ['^src/peer-yaml/', '^src/model/', '^src/errors\\.ts$'] },
  },
  {
    name: 'model-is-a-leaf',
    comment: 'model/ holds shared leaf helpers: it imports nothing else of src/.',
    from: { path: '^src/model/' },
    to: { path: '^src/', pathNot: '^src/model/' },
  },
  {
    name: 'console-is-a-leaf',
    comment:
      'console/ is how text reaches the terminal (stdout and stderr redacted, colour, prompts, control characters made visible), ' +
      'used by every layer: it imports only model/ and errors.ts. The presentation built on the plan and the checks is output/.',
    from: { path: '^src/console/' },
    to: { path: '^src/', pathNot: ['^src/console/', '^src/model/', '^src/errors\\.ts$'] },
  },
  {
    name: 'only-commands-use-output',
    comment:
      'output/ is the presentation (views, the rendered plan, JSON events) on top of the plan and the checks: a lower layer says what happened through an interface it is handed (Events), importing at most its type.',
    from: { path: '^src/(model|peer-yaml|observe|plan|apply|verify|tailnet|transport|console)/' },
    to: { path: '^src/output/', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'observe-does-not-import-later-stages',
    comment: 'observe/ runs before plan, apply and verify and knows nothing of them nor of the commands.',
    from: { path: '^src/observe/' },
    to: { path: ['^src/(plan|apply|verify|commands)/', '^src/(cli|program)\\.ts$'] },
  },
  {
    name: 'plan-does-not-import-io-layers',
    comment: 'The planner is pure: it never imports apply, verify, the commands or transport (not even their types).',
    from: { path: '^src/plan/' },
    to: { path: ['^src/(apply|verify|commands|transport)/', '^src/(cli|program)\\.ts$'] },
  },
  {
    name: 'pure-imports-only-pure',
    comment:
      'A pure module (no I/O: src/plan/, tailnet/policy/, model/, ... see PURE in .dependency-cruiser.cjs) imports at run time only pure modules. ' +
      'Import only a type (import type), or add the module to PURE if it truly does no I/O.',
    from: { path: PURE },
    to: { path: '^src/', pathNot: PURE, dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'pure-does-no-io',
    comment: 'A pure module (see PURE in .dependency-cruiser.cjs) imports no file, process, network, terminal or Pulumi library.',
    from: { path: PURE },
    to: { path: IO_LIBRARIES, dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'verify-does-not-import-apply',
    comment: 'verify checks what apply did without depending on it (the commands call apply, then verify). Shared facts go in model/ or peer-yaml/.',
    from: { path: '^src/verify/' },
    to: { path: '^src/apply/' },
  },
  {
    name: 'apply-does-not-import-verify',
    comment: 'apply does not call verify: the commands call apply, then verify. Shared facts go in model/ or peer-yaml/.',
    from: { path: '^src/apply/' },
    to: { path: '^src/verify/' },
  },
  {
    name: 'src-does-not-import-test',
    comment: 'Nothing in src/ imports test/ (it is not shipped).',
    from: { path: '^src/' },
    to: { path: '^test/' },
  },
  {
    name: 'src-does-not-import-dev-dependencies',
    comment: 'src/ is shipped; devDependencies are not installed for users. Make it a dependency, or import only its types.',
    from: { path: '^src/' },
    to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'resolvable',
    comment: 'An import dependency-cruiser cannot resolve: it would be invisible to every rule above. Fix the path (or the config).',
    from: {},
    to: { couldNotResolve: true },
  },
];

const exact = (path) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
const without = (object, key) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
const list = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A rule as an error, except the listed known violations, each reported with KNOWN_SEVERITY instead. */
function withKnownViolations(rule) {
  const known = KNOWN_VIOLATIONS.filter((k) => k.rule === rule.name);
  if (known.length === 0) return [{ severity: 'error', ...rule }];
  const froms = [...new Set(known.map((k) => k.from))];
  return [
    { severity: 'error', ...rule, from: { ...rule.from, pathNot: [...list(rule.from.pathNot), ...froms.map(exact)] } },
    // the files with a known violation: any other import breaking the rule is still an error
    ...froms.map((from) => ({
      severity: 'error',
      ...rule,
      from: { path: exact(from) },
      to: { ...rule.to, pathNot: [...list(rule.to.pathNot), ...known.filter((k) => k.from === from).map((k) => exact(k.to))] },
    })),
    ...known.map((k) => ({
      ...rule,
      name: `${rule.name} (known violation)`,
      severity: KNOWN_SEVERITY,
      comment: `Listed in KNOWN_VIOLATIONS in .dependency-cruiser.cjs, with its fix: reported as a ${KNOWN_SEVERITY} until fixed. ${rule.comment}`,
      from: { path: exact(k.from) },
      to: { ...without(rule.to, 'pathNot'), path: exact(k.to) },
    })),
  ];
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: RULES.flatMap(withKnownViolations),
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: a layer that needs another's types depends on it
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

// for test/architecture.test.ts (not enumerable: dependency-cruiser validates the configuration's keys)
Object.defineProperty(module.exports, 'KNOWN_VIOLATIONS', { value: KNOWN_VIOLATIONS, enumerable: false });
