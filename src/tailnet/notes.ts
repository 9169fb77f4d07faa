// Said in plan and down with provider: provided (a module of its own so plan --offline loads nothing else).
export const PROVIDED_NOTE =
  'tailnet.provider is "provided": the auth keys are yours, and so are the tailnet policy, key revocation and device removal; peer-provision touches none of them.';
