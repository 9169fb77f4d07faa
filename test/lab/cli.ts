/**
 * peer-provision test lab CLI:
 *   npm run lab -- up [--machines N] [--kind supervisor|systemd|K1,K2,...] [--no-gateway] | down [--force] | status | ssh NAME [CMD...]
 * `up` writes <state>/peer.yaml for the lab machines (fresh lab keys) and prints it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { currentLab, kindsFor, labDown, labStatus, labUp, MACHINE_KINDS, type MachineKind, PREPARE_CMD, STATE_DIR } from './lab.js';

const USAGE = 'usage: npm run lab -- up [--machines N] [--kind supervisor|systemd|K1,K2,...] [--no-gateway] | down [--force] | status | ssh NAME [CMD]';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      let machines = 2;
      let gateway = true;
      let kindArg = 'supervisor';
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i]!;
        if (a === '--machines' || a === '-n') machines = Number(rest[++i]);
        else if (a.startsWith('--machines=')) machines = Number(a.slice(11));
        else if (a === '--kind') kindArg = rest[++i] ?? '';
        else if (a.startsWith('--kind=')) kindArg = a.slice(7);
        else if (a === '--no-gateway') gateway = false;
        else {
          console.error(`lab up: unknown option ${a}\n${USAGE}`);
          return 2;
        }
      }
      // --kind K: every machine; --kind K1,K2,...: one per machine (a mixed lab; its length sets --machines)
      const listed = kindArg.split(',') as MachineKind[];
      const bad = listed.find((k) => !MACHINE_KINDS.includes(k));
      if (bad !== undefined) {
        console.error(`lab up: unknown --kind ${JSON.stringify(bad)} (${MACHINE_KINDS.join(', ')})`);
        return 2;
      }
      if (listed.length > 1) machines = listed.length;
      const kinds = kindsFor(machines, listed.length > 1 ? listed : listed[0]);
      const t0 = Date.now();
      const lab = await labUp({ machines, kinds, gateway, log: (m) => console.error(`${m} (${((Date.now() - t0) / 1000).toFixed(1)} s)`) });
      const path = lab.peerYaml();
      console.log(readFileSync(path, 'utf8'));
      console.error(`peer.yaml: ${path}\nssh_config: ${lab.sshConfigPath}  (ssh -F ${lab.sshConfigPath} lab-m1)`);
      console.error(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s; memory ${lab.memoryMiB()} MiB RSS`);
      return 0;
    }
    case 'down': {
      const t0 = Date.now();
      await labDown({ force: rest.includes('--force') });
      console.error(`lab down in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
      return 0;
    }
    case 'status': {
      const st = labStatus(MACHINE_KINDS, { pulumi: true });
      console.log(st.ok ? 'lab can run here' : `lab cannot run: ${st.reason}`);
      const lab = currentLab();
      if (!lab) {
        console.log(st.up ? 'lab: state present but machines are gone (run `npm run lab -- down`)' : 'lab: down');
        return st.ok ? 0 : 1;
      }
      console.log(`lab: up, state ${STATE_DIR}, ssh_config ${lab.sshConfigPath}, control ${lab.controlUrl}`);
      for (const m of lab.machines) {
        const h = await lab.run(m.name, 'curl -fsS -m 2 http://127.0.0.1:18789/health; echo; ip -4 -br addr show dev tailscale0');
        console.log(
          `  ${m.name}  ${m.kind}  ${m.user}@${m.sshAlias}  ${m.mgmtIp}  gateway pid ${lab.gatewayPid(m.name) ?? '-'}  ${h.stdout.replace(/\n/g, '  ').trim()}  ${lab.memoryMiB(m.name)} MiB`,
        );
      }
      return 0;
    }
    case 'ssh': {
      const lab = currentLab();
      if (!lab) {
        console.error('lab is down: npm run lab -- up');
        return 1;
      }
      const [name, ...cmdArgs] = rest;
      if (!name) {
        console.error('usage: lab ssh NAME [CMD...]');
        return 2;
      }
      const m = lab.machine(name);
      const r = spawnSync('ssh', ['-F', lab.sshConfigPath, ...(cmdArgs.length ? [] : ['-t']), m.sshAlias, ...cmdArgs], { stdio: 'inherit' });
      return r.status ?? 1;
    }
    default:
      console.error(`${USAGE}\nprepare the host first: ${PREPARE_CMD}`);
      return cmd ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (c) => process.exit(c),
  (e) => {
    console.error(String(e instanceof Error ? e.message : e));
    process.exit(1);
  },
);
