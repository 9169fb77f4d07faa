#!/usr/bin/env node
// The real CLI with the engine seam's test implementation installed (test/tailnet/api-engine.ts): for the e2e with
// provider pulumi, where the Pulumi CLI and the tailscale plugin cannot be installed. Everything but the Pulumi part
// is the real code. Runs the same main() as bin/peer-provision.js.
import { main } from '../../src/cli.js';
import { useEngine } from '../../src/tailnet/engine.js';
import { createApiTestEngine } from '../tailnet/api-engine.js';

// `node --test dist/test` executes every .js file under dist/test: only run when started as the CLI.
if (!process.env.NODE_TEST_CONTEXT) {
  useEngine(createApiTestEngine);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
