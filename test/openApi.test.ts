import { validate } from '@readme/openapi-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import getOpenApi from '../functions/getOpenApi';
import { functionDefinitions } from '../host/catalog';
import type { HttpFunction } from '../shared/hosting/definition';
import { openApiDocument, openApiPath } from '../shared/http/openApi';
import { OPERATIONS } from '../shared/http/operations';
import { proposalWithActuals } from './support/builders';
import { schemaErrors } from './support/jsonSchema';
import { postingFor } from './support/posting';
import { testRuntime } from './support/runtime';
import { callHttp, getActualView, getProposal, post, runImport, sendActual, sendHeader, writeProposal } from './support/story';

type Json = Record<string, any>;
const doc = openApiDocument() as Json;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The schema the document publishes for an operation's answer with this status and media type. */
function documented(path: string, method: string, status: number, media = 'application/json'): Json {
  const schema = doc.paths[path]?.[method]?.responses?.[status]?.content?.[media]?.schema;
  if (!schema) throw new Error(`${method} ${path} documents no ${media} answer for ${status}`);
  return schema;
}

const fits = (body: unknown, path: string, method: string, status: number, media?: string) =>
  schemaErrors(body, documented(path, method, status, media), doc);

describe('the OpenAPI document (shared/http/openApi.ts)', () => {
  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser, against the official schema)', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(doc).toMatchObject({ openapi: '3.1.0', servers: [{ url: '/api' }], info: { title: expect.any(String) } });
  });

  it('describes every HTTP route and method of the catalog with the same path template, and nothing else', () => {
    const http = functionDefinitions.filter((d): d is HttpFunction => d.kind === 'http');
    const catalog = http.flatMap((d) => d.methods.map((m) => `${m.toLowerCase()} ${openApiPath(d.route)} ${d.name}`));
    const described = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
      Object.keys(item as Json)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m} ${path} ${(item as Json)[m].operationId.replace(/(Post|Put|Patch|Delete)$/, '')}`),
    );
    expect(described.sort()).toEqual(catalog.sort());
    // And the table behind it repeats each definition exactly: route, methods and key.
    for (const d of http) {
      const op = OPERATIONS.find((o) => o.function === d.name);
      expect({ route: op?.route, methods: op?.methods, anonymous: op?.anonymous === true }, d.name).toEqual({
        route: d.route,
        methods: d.methods,
        anonymous: d.authLevel === 'anonymous',
      });
    }
  });

  it("names each route schema's parameters in its route template, so none is left undocumented", () => {
    for (const op of OPERATIONS) {
      const inTemplate = [...op.route.matchAll(/\{\*?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
      expect(
        Object.keys(op.params?.shape ?? {}).filter((k) => !inTemplate.includes(k)),
        op.function,
      ).toEqual([]);
    }
  });

  it('turns a catch-all into one path parameter, and drops constraints', () => {
    expect(openApiPath('invoice-proposals/{*path}')).toBe('/invoice-proposals/{path}');
    expect(openApiPath('a/{id:int}/{b?}')).toBe('/a/{id}/{b}');
    const del = doc.paths['/invoice-proposals/{path}'].delete;
    expect(del.parameters).toEqual([expect.objectContaining({ name: 'path', in: 'path', required: true })]);
    expect(Object.keys(del.responses)).toContain('405');
  });

  it('asks for the function key everywhere but on the document itself', () => {
    expect(doc.security).toEqual([{ functionKey: [] }, { functionKeyQuery: [] }]);
    expect(doc.components.securitySchemes.functionKey).toMatchObject({ in: 'header', name: 'x-functions-key' });
    expect(doc.components.securitySchemes.functionKeyQuery).toMatchObject({ in: 'query', name: 'code' });
    expect(doc.paths['/openapi.json'].get.security).toEqual([]);
  });

  it('documents the posting callback: its signature headers, its body, and every answer it gives', () => {
    const op = doc.paths['/invoice-proposals/{legalEntity}/{proposalId}/posted'].post;
    const headers = op.parameters.filter((p: Json) => p.in === 'header');
    expect(headers.map((h: Json) => [h.name, h.required])).toEqual([
      ['webhook-id', true],
      ['webhook-timestamp', true],
      ['webhook-signature', true],
    ]);
    expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Posting' });
    expect(Object.keys(op.responses)).toEqual(['200', '400', '401', '404', '409', '413', '415', '422', '500', '503']);
    expect(op.responses[422].description).toMatch(/lines-mismatch.*webhook-id-reused/);
    expect(op.responses[401].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/ProblemDetails' });
  });

  it('the schema check is not vacuous: a field too many, a wrong type or a missing field fails', () => {
    const schema = { $ref: '#/components/schemas/PostingReceipt' };
    const receipt = {
      legalEntity: 'usmf',
      proposalId: 'P',
      status: 'Posted',
      invoiceType: 'Invoice',
      customerInvoiceId: 'C',
      voucher: 'V',
      accountingDate: '2026-11-21',
      lineCount: 1,
    };
    expect(schemaErrors(receipt, schema, doc)).toEqual([]);
    expect(schemaErrors({ ...receipt, extra: 1 }, schema, doc)).toHaveLength(1);
    expect(schemaErrors({ ...receipt, lineCount: '1' }, schema, doc)).toHaveLength(1);
    expect(schemaErrors({ ...receipt, status: 'Open' }, schema, doc)).toHaveLength(1);
    const { voucher: _, ...noVoucher } = receipt;
    expect(schemaErrors(noVoucher, schema, doc)).toHaveLength(1);
  });
});

describe('the running handlers answer as documented', () => {
  beforeAll(async () => {
    await testRuntime();
  });

  it('a proposal, its actuals and the posting receipt, before and after posting, fit their schemas', async () => {
    const p = proposalWithActuals({ proposalId: 'OAS-1', lines: 3 });
    const proposal = '/invoice-proposals/{legalEntity}/{proposalId}';
    const actual = '/actuals/{legalEntity}/{actualId}';
    await sendHeader(p.invoice);
    expect(fits((await getProposal('usmf', 'OAS-1')).body, proposal, 'get', 200)).toEqual([]);
    expect(fits((await getActualView('usmf', 'NOBODY')).body, actual, 'get', 404, 'application/problem+json')).toEqual([]);
    for (const a of p.actuals) await sendActual(a);
    expect(fits((await getActualView('usmf', p.actuals[0]!.actualId)).body, actual, 'get', 200)).toEqual([]);
    await runImport();

    const posted = await post('usmf', 'OAS-1', postingFor(p.actuals));
    expect(posted.status).toBe(200);
    expect(fits(posted.body, `${proposal}/posted`, 'post', 200)).toEqual([]);
    const view = await getProposal('usmf', 'OAS-1');
    expect(view.body).toMatchObject({ status: 'Posted', lines: [{}, {}, {}] });
    expect(fits(view.body, proposal, 'get', 200)).toEqual([]);
    const onLine = await getActualView('usmf', p.actuals[1]!.actualId);
    expect(onLine.body).toMatchObject({ status: 'Processed', accounting: { voucher: 'VOU-000555' } });
    expect(fits(onLine.body, actual, 'get', 200)).toEqual([]);
  });

  it('problems fit ProblemDetails under the status they are documented at', async () => {
    const unsigned = await post('usmf', 'OAS-1', postingFor([]), { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    expect(fits(unsigned.body, '/invoice-proposals/{legalEntity}/{proposalId}/posted', 'post', 401, 'application/problem+json')).toEqual(
      [],
    );
    const write = await writeProposal('DELETE', 'usmf/OAS-1');
    expect(write.status).toBe(405);
    expect(fits(write.body, '/invoice-proposals/{path}', 'delete', 405, 'application/problem+json')).toEqual([]);
  });

  it('serves the document it builds, as JSON', async () => {
    const served = await callHttp(getOpenApi, { method: 'GET', url: 'http://localhost/api/openapi.json' });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('application/json');
    expect(JSON.parse(JSON.stringify(served.body))).toEqual(openApiDocument());
  });
});
