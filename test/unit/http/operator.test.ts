import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../../shared/config';
import { operatorOf } from '../../../shared/http/operator';

const KEY = 'unit-test-operator-key-0123456789';
const principal = (claims: { typ: string; val: string }[], extra: Record<string, string> = {}) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'preferred_username', role_typ: 'roles', claims, ...extra })).toString('base64');
const request = (headers: Record<string, string>) => new HttpRequest({ method: 'POST', url: 'http://localhost/api/ops/import', headers });
const settings = (extra: Record<string, string> = {}) =>
  readSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', OPS_OPERATOR_KEY: KEY, ...extra });

describe('who is an operator (shared/http/operator.ts)', () => {
  it('an Entra user with the operator app role, when App Service authentication is on, named in the audit by their sign-in', () => {
    const p = principal([
      { typ: 'preferred_username', val: 'ana@contoso.com' },
      { typ: 'roles', val: 'Invoice.Reader' },
      { typ: 'roles', val: 'Invoice.Operator' },
    ]);
    const check = operatorOf(request({ 'x-ms-client-principal': p }), settings({ WEBSITE_AUTH_ENABLED: 'True' }));
    expect(check).toEqual({ ok: true, operator: { who: 'ana@contoso.com', via: 'entra' } });
  });

  it('an Entra user without the role may only read (403, naming the role), and a custom role setting is honoured', () => {
    const p = principal([
      { typ: 'preferred_username', val: 'bob@contoso.com' },
      { typ: 'roles', val: 'Invoice.Operator' },
    ]);
    const check = operatorOf(
      request({ 'x-ms-client-principal': p }),
      settings({ WEBSITE_AUTH_ENABLED: 'True', OPS_OPERATOR_ROLE: 'Finance.Ops' }),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.response.status).toBe(403);
    expect(check.who).toBe('bob@contoso.com');
    expect((check.response.jsonBody as { detail: string }).detail).toMatch(/Finance\.Ops/);
  });

  it('ignores x-ms-client-principal when App Service authentication is off: anyone could send it', () => {
    const p = principal([{ typ: 'roles', val: 'Invoice.Operator' }]);
    const check = operatorOf(request({ 'x-ms-client-principal': p }), settings());
    expect(check.ok).toBe(false);
    if (!check.ok) expect((check.response.jsonBody as { field: string }).field).toBe('x-operator-key');
  });

  it('the operator key with a name makes an operator; a wrong key, no name, or no key configured does not', () => {
    expect(operatorOf(request({ 'x-operator-key': KEY, 'x-operator-name': 'Ana' }), settings())).toEqual({
      ok: true,
      operator: { who: 'Ana', via: 'operator-key' },
    });
    const refusals = [
      operatorOf(request({ 'x-operator-key': `${KEY}x`, 'x-operator-name': 'Ana' }), settings()),
      operatorOf(request({ 'x-operator-key': KEY }), settings()),
      operatorOf(request({ 'x-operator-key': KEY, 'x-operator-name': '<script>' }), settings()),
      operatorOf(
        request({ 'x-operator-key': KEY, 'x-operator-name': 'Ana' }),
        readSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }),
      ),
    ];
    expect(refusals.map((r) => (r.ok ? 200 : r.response.status))).toEqual([403, 403, 403, 403]);
    expect(refusals.map((r) => (r.ok ? '' : (r.response.jsonBody as { field: string }).field))).toEqual([
      'x-operator-key',
      'x-operator-name',
      'x-operator-name',
      'x-operator-key',
    ]);
  });
});
