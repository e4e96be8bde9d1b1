import { app, type HttpHandler, type HttpMethod, type ServiceBusQueueHandler, type TimerHandler } from '@azure/functions';
import { settingsProblems, type Settings } from '../config';
import { problem } from '../http/problem';

/**
 * One definition per function: the Azure registration (app.serviceBusQueue,
 * app.timer, app.http) and the local host (host/) both read it, so a route,
 * queue or schedule is written down exactly once.
 */
export type ServiceBusFunction = {
  kind: 'serviceBus';
  name: string;
  queueName: string;
  /** App setting prefix of the Service Bus connection. */
  connection: string;
  /** 'many': each invocation gets an array of messages (up to host.json's maxMessageBatchSize), to work on them together. */
  cardinality?: 'one' | 'many';
  handler: ServiceBusQueueHandler;
};

export type TimerFunction = {
  kind: 'timer';
  name: string;
  /** App setting that holds the NCRONTAB schedule (six fields, seconds first). */
  scheduleSetting: keyof Settings & `${string}_SCHEDULE`;
  handler: TimerHandler;
};

export type HttpFunction = {
  kind: 'http';
  name: string;
  /** Route below /api, in the Functions host's template syntax (`a/{b}/c`). */
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function';
  handler: HttpHandler;
};

export type FunctionDefinition = ServiceBusFunction | TimerFunction | HttpFunction;

/**
 * The timer's schedule as a binding expression (`%IMPORT_SCHEDULE%`): the host
 * reads the app setting itself, so registering a timer reads no settings and a
 * bad schedule stops that timer alone. The local host resolves it the same way.
 */
export function timerScheduleExpression(def: TimerFunction): string {
  return `%${def.scheduleSetting}%`;
}

function runningInFunctionsHost(): boolean {
  // Same probe as @azure/functions: the worker provides this module, nothing else does.
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a probe for the worker's module, not a dependency
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}

let settingsReported = false;
/** Once per worker, loudly: what is wrong with the settings, and which functions it fails. */
function reportSettingsAtStart(): void {
  if (settingsReported) return;
  settingsReported = true;
  for (const line of settingsProblems()) console.error(`CONFIGURATION ERROR: ${line}`);
}

function registerWithFunctionsHost(def: FunctionDefinition): void {
  reportSettingsAtStart();
  switch (def.kind) {
    case 'serviceBus':
      app.serviceBusQueue(def.name, {
        queueName: def.queueName,
        connection: def.connection,
        ...(def.cardinality ? { cardinality: def.cardinality } : {}),
        handler: def.handler,
      });
      return;
    case 'timer':
      app.timer(def.name, { schedule: timerScheduleExpression(def), handler: def.handler });
      return;
    case 'http':
      app.http(def.name, { route: def.route, methods: def.methods, authLevel: def.authLevel, handler: def.handler });
      return;
  }
}

/**
 * An unexpected failure still answers problem+json, never a stack trace or an
 * empty 500; the error itself goes to the log with the invocation.
 */
function answerFailuresAsProblems(handler: HttpHandler): HttpHandler {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (e) {
      context.error(`${context.functionName} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return problem('internal-error', `The request could not be completed (invocation ${context.invocationId}); it is safe to retry.`);
    }
  };
}

/** Declares a function; inside the Azure Functions host it is also registered there. */
export function defineFunction<T extends FunctionDefinition>(def: T): T {
  const declared = def.kind === 'http' ? { ...def, handler: answerFailuresAsProblems(def.handler) } : def;
  if (runningInFunctionsHost()) registerWithFunctionsHost(declared);
  return declared;
}
