import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config';
import { problem } from './problem';

/**
 * Who may act. Reading the operations API needs what every HTTP function
 * needs, the function key (checked by the Functions host before any code
 * runs). Acting (retry, pause, resume, run the import) needs the operator role:
 *   - Microsoft Entra: App Service authentication signs the user in and passes
 *     `x-ms-client-principal` (base64 JSON of the token's claims). App Service
 *     removes that header from incoming requests when its authentication is on,
 *     so it is trusted only then (WEBSITE_AUTH_ENABLED, set by the platform);
 *   - or, where there is no Entra sign-in (locally, a script), the operator key
 *     (OPS_OPERATOR_KEY) in `x-operator-key`, with a name for the audit in
 *     `x-operator-name`.
 */
export interface Operator {
  who: string;
  via: 'entra' | 'operator-key';
}

export type OperatorCheck = { ok: true; operator: Operator } | { ok: false; response: HttpResponseInit; who: string; via: Operator['via'] };

interface ClientPrincipal {
  auth_typ?: string;
  name_typ?: string;
  role_typ?: string;
  claims?: { typ: string; val: string }[];
}

const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['preferred_username', 'name', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

/** The signed-in Entra user, when App Service authentication is on and passed one. */
function entraPrincipal(request: HttpRequest, s: Settings): { who: string; roles: string[] } | undefined {
  if (s.WEBSITE_AUTH_ENABLED?.toLowerCase() !== 'true') return undefined;
  const header = request.headers.get('x-ms-client-principal');
  if (!header) return undefined;
  let p: ClientPrincipal;
  try {
    p = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientPrincipal;
  } catch {
    return undefined;
  }
  const claims = p.claims ?? [];
  const of = (types: string[]) => claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
  const roles = of(p.role_typ ? [p.role_typ, ...ROLE_CLAIMS] : ROLE_CLAIMS);
  const who =
    of(p.name_typ ? [p.name_typ, ...NAME_CLAIMS] : NAME_CLAIMS)[0] ?? request.headers.get('x-ms-client-principal-name') ?? 'unknown';
  return { who, roles };
}

/** Compares hashes, so neither the length nor the content of the key leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const h = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(h(given), h(expected));
}

const NAME = /^[\p{L}\p{N} .@_'-]{1,100}$/u;

/** The operator behind a request that wants to act, or the problem to answer (and the name to audit it under). */
export function operatorOf(request: HttpRequest, s: Settings): OperatorCheck {
  const entra = entraPrincipal(request, s);
  if (entra) {
    if (entra.roles.includes(s.OPS_OPERATOR_ROLE)) return { ok: true, operator: { who: entra.who, via: 'entra' } };
    return {
      ok: false,
      who: entra.who,
      via: 'entra',
      response: problem('forbidden', `${entra.who} does not have the app role ${s.OPS_OPERATOR_ROLE}: reading only`, {
        field: 'x-ms-client-principal',
      }),
    };
  }
  const claimed = request.headers.get('x-operator-name')?.trim() ?? '';
  const who = NAME.test(claimed) ? claimed : 'anonymous reader';
  const key = request.headers.get('x-operator-key');
  const refuse = (detail: string, field: string) => ({
    ok: false as const,
    who,
    via: 'operator-key' as const,
    response: problem('forbidden', detail, { field }),
  });
  if (!key)
    return refuse('x-operator-key: this action needs the operator role (Microsoft Entra sign-in or the operator key)', 'x-operator-key');
  if (!s.OPS_OPERATOR_KEY)
    return refuse('x-operator-key: no operator key is configured here (OPS_OPERATOR_KEY); sign in with Microsoft Entra', 'x-operator-key');
  if (!sameSecret(key, s.OPS_OPERATOR_KEY)) return refuse('x-operator-key: is not the operator key', 'x-operator-key');
  if (!NAME.test(claimed)) {
    return refuse("x-operator-name: say who you are (1 to 100 letters, digits, spaces or . @ _ ' -), for the audit", 'x-operator-name');
  }
  return { ok: true, operator: { who: claimed, via: 'operator-key' } };
}
