#!/usr/bin/env node
// azd preprovision hook (azure.yaml): refuses to provision without the posting
// callback's signing secret. infra/main.bicep writes it to Key Vault only when the
// parameter is not empty, and azd does not ask for it (its default is ''), so a first
// `azd up` without it would deploy an app whose posting callback can verify nothing.
//
// azd runs the hook with the azd environment's values (azd env set ...) in process.env.
// Plain Node, no dependencies: it runs before `npm ci` may have happened.

const SETTING = 'POSTING_WEBHOOK_SECRET';
/** Set to "true" when the secret already lives in Key Vault (rotated there) and must be left as it is. */
const KEPT_IN_VAULT = 'POSTING_WEBHOOK_SECRET_IN_KEY_VAULT';

const HOW = `Set it with:
  azd env set ${SETTING} "whsec_$(node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))")"
(several secrets, space-separated, while rotating), or, when the Key Vault of this
environment already holds posting-webhook-secret and you mean to keep it:
  azd env set ${KEPT_IN_VAULT} true`;

/** The same rule as isSigningSecret in shared/config.ts: whsec_ + base64 of at least 24 bytes. */
function isSigningSecret(secret) {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  return !!key && /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24;
}

/** What is wrong with the environment's secret, or undefined. Never repeats the value. */
function postingSecretProblem(env) {
  const value = (env[SETTING] ?? '').trim();
  if (!value) {
    if (env[KEPT_IN_VAULT] === 'true') return undefined;
    return `${SETTING} is not set for this azd environment, so the posting callback could verify no callback.`;
  }
  if (!value.split(/\s+/).every(isSigningSecret)) {
    return `${SETTING}: each space-separated secret must be "whsec_" followed by base64 of at least 24 bytes.`;
  }
  return undefined;
}

const problem = postingSecretProblem(process.env);
if (problem) {
  console.error(`preprovision: ${problem}\n${HOW}`);
  process.exitCode = 1;
} else {
  console.log(`preprovision: ${SETTING} ${process.env[SETTING]?.trim() ? 'is set' : 'is kept as it is in Key Vault'}`);
}
