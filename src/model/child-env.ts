// Which of this process's environment variables the tool hands its children: ssh (whose SendEnv, LC_* in Debian's
// default ssh_config, ships some of them on to every machine) and, with `ssh: local`, the machine's own commands.
// A secret must never live in one of them: peer.yaml's env: references to these names are refused.
/**
 * The environment a child process gets: only what ssh and a local `sh` need to work as the user, never
 * the variables that hold secrets (TS_*, PULUMI_CONFIG_PASSPHRASE, whatever peer.yaml's env: references
 * name). With `ssh: local` the children are the install script, the restart command, the gateway it
 * starts, openclaw and curl; over ssh it is ssh itself (its agent, known_hosts, config, Kerberos ticket).
 */
export const PASSED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'SSH_AUTH_SOCK',
  'KRB5CCNAME',
  'DBUS_SESSION_BUS_ADDRESS', // ssh's agent and Kerberos; systemctl --user's bus
  // the user's network setup, for a local install script's curl (a proxy, a private CA for a mirror)
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  // where OpenClaw keeps its config, for a local machine with no gateway running (observe.sh reads them)
  'OPENCLAW_CONFIG_PATH',
  'OPENCLAW_STATE_DIR',
  'OPENCLAW_HOME',
  'OPENCLAW_PROFILE',
];

/** Whether a child process gets this variable: the list above and the locale's LC_* (ssh sends those on). */
export const passedToChildren = (name: string): boolean => PASSED_ENV.includes(name) || name.startsWith('LC_');
