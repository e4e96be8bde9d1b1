import { z } from 'zod';
import { actualViewSchema, postingReceiptSchema, proposalViewSchema } from '../contracts/answers';
import { postingSchema } from '../contracts/posting';
import { OPERATIONS, type Operation } from './operations';
import { PROBLEM_BASE, PROBLEM_STATUS, PROBLEM_TITLES, problemDetailsSchema, type ProblemType } from './problem';

/**
 * The OpenAPI 3.1 document of the HTTP surface, generated from OPERATIONS and
 * the zod schemas (z.toJSONSchema, draft 2020-12: OpenAPI 3.1's own dialect),
 * so Finance's integrators can generate a client. Served by getOpenApi.
 */

/** The API's version, not the package's: raise it when a route, field or answer changes. */
export const API_VERSION = '1.0.0';

type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';

/**
 * Named schemas, shown once under components and referred to elsewhere. Answers
 * are described as the code builds them (io 'output': no field beyond those
 * listed); requests as the code accepts them (io 'input': before transforms).
 */
const answers = z.registry<{ id: string }>();
answers.add(proposalViewSchema, { id: 'ProposalView' });
answers.add(actualViewSchema, { id: 'ActualView' });
answers.add(postingReceiptSchema, { id: 'PostingReceipt' });
answers.add(problemDetailsSchema, { id: 'ProblemDetails' });
const requests = z.registry<{ id: string }>();
requests.add(postingSchema, { id: 'Posting' });

function components(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Record<string, Json> {
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: (id) => `${SCHEMAS}${id}` });
  // Each would name its dialect; the document names it once (jsonSchemaDialect).
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema as Json]));
}

/** A schema in place: a reference when it is a named component, else its JSON Schema. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const named = (io === 'output' ? answers : requests).get(schema);
  if (named) return { $ref: `${SCHEMAS}${named.id}` };
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return json;
}

/**
 * The Functions route template as an OpenAPI path below the server's /api:
 * constraints and optional marks dropped, and a catch-all `{*path}` kept as
 * `{path}` (OpenAPI has no catch-all; its parameter says it spans segments).
 */
export function openApiPath(route: string): string {
  return `/${route.replace(/\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\??\}/g, '{$1}')}`;
}

function pathParameters(op: Operation): Json[] {
  const shape = op.params?.shape ?? {};
  return [...op.route.matchAll(/\{(\*)?([A-Za-z_][A-Za-z0-9_]*)/g)].map(([, catchAll, name]) => ({
    name,
    in: 'path',
    required: true,
    ...(catchAll ? { description: 'the rest of the path: one or more segments' } : {}),
    schema: shape[name!] ? schemaOf(shape[name!] as z.ZodType, 'input') : { type: 'string' },
  }));
}

function headerParameters(op: Operation): Json[] {
  return Object.entries(op.headers ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: !schema.safeParse(undefined).success,
    description: schema.description,
    schema: schemaOf(schema, 'input'),
  }));
}

function queryParameters(op: Operation): Json[] {
  return Object.entries(op.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    ...((schema as z.ZodType).description ? { description: (schema as z.ZodType).description } : {}),
    schema: schemaOf(schema as z.ZodType, 'input'),
  }));
}

function problemResponse(types: readonly ProblemType[], status: number): Json {
  const described = types.map((t) => `\`${PROBLEM_BASE}${t}\`: ${PROBLEM_TITLES[t]}`);
  return {
    description: described.join('; '),
    content: { 'application/problem+json': { schema: { $ref: `${SCHEMAS}ProblemDetails` } } },
    ...(status === 405 ? { headers: { allow: { description: 'The methods the route allows', schema: { type: 'string' } } } } : {}),
  };
}

function responses(op: Operation): Json {
  // Every HTTP function answers an unexpected failure as a problem (shared/hosting/definition.ts).
  const problems: ProblemType[] = [...op.problems, 'internal-error'];
  const byStatus = new Map<number, ProblemType[]>();
  for (const t of problems) byStatus.set(PROBLEM_STATUS[t], [...(byStatus.get(PROBLEM_STATUS[t]) ?? []), t]);
  const out: Json = {};
  if (op.answer) {
    out[op.answer.status] = {
      description: op.answer.description,
      content: { [op.answer.mediaType ?? 'application/json']: { schema: schemaOf(op.answer.schema, 'output') } },
    };
  }
  for (const [status, types] of [...byStatus].sort(([a], [b]) => a - b)) out[status] = problemResponse(types, status);
  if (!op.anonymous && !byStatus.has(401)) {
    out[401] = { description: 'No valid function key (in Azure the platform answers, without a body)' };
  }
  return out;
}

function operation(op: Operation, method: string): Json {
  return {
    operationId: op.methods.length > 1 ? `${op.function}${method[0]}${method.slice(1).toLowerCase()}` : op.function,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.anonymous ? { security: [] } : {}),
    parameters: [...pathParameters(op), ...queryParameters(op), ...headerParameters(op)],
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } } : {}),
    responses: responses(op),
  };
}

function build(operations: readonly Operation[]): Json {
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const path = (paths[openApiPath(op.route)] ??= {});
    for (const method of op.methods) path[method.toLowerCase()] = operation(op, method);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Project invoice integration',
      version: API_VERSION,
      description:
        'Dynamics 365 Project Operations invoice proposals and actuals as this integration holds them, and the posting callback Finance signs. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: '/api' }],
    // Either one: a function key in the header or in the query.
    security: [{ functionKey: [] }, { functionKeyQuery: [] }],
    paths,
    components: {
      schemas: { ...components(answers, 'output'), ...components(requests, 'input') },
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key', description: 'An Azure Functions function key' },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code', description: 'The same key as a query parameter' },
      },
    },
  };
}

let built: Json | undefined;
/** Built once per process: it depends on nothing but the code. */
export function openApiDocument(): Json {
  return (built ??= build(OPERATIONS));
}
