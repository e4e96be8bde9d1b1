import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { readSettings, resetSettings, settingsProblems } from '../shared/config';
import {
  timerScheduleExpression,
  type FunctionDefinition,
  type ServiceBusFunction,
  type TimerFunction,
} from '../shared/hosting/definition';
import { TableOutbound } from '../shared/messaging/accountingUpdates';
import { serviceBusClient } from '../shared/messaging/serviceBus';
import { QUEUES } from '../shared/queues';
import { createRuntime, useRuntime } from '../shared/runtime';
import { developmentStorageEndpoint, ensureTables, tableClient } from '../shared/storage/tables';
import { resolveAppSettingReferences } from './appSettingReferences';
import { isListening, startAzurite, type RunningAzurite } from './azurite';
import { functionDefinitions } from './catalog';
import { enabledFunctions } from './disabledFunctions';
import { createHttpServer } from './httpServer';
import { Invocations, type LogLine } from './invocation';
import { loadLocalEnvironment, readHostJson, readLocalHostSettings } from './localSettings';
import { LocalAccountingQueue, LocalImportRequests } from './accountingQueue';
import { LocalQueues } from './localQueues';
import { QueuePump } from './queuePump';
import { openReceiver, receiveFromServiceBus } from './serviceBusReceiver';
import { TimerScheduler } from './timers';
import { LiveTriggerSwitches, type Switchable } from './triggerSwitches';
import { TriggerSwitchRows } from '../shared/storage/triggerSwitches';

export interface LocalHost {
  url: string;
  port: number;
  azurite: 'embedded' | 'external';
  functions: readonly FunctionDefinition[];
  stop(): Promise<void>;
}

export interface LocalHostOptions {
  /** Folder with host.json and local.settings*.json. */
  root: string;
  env?: NodeJS.ProcessEnv;
  /** Functions beyond the app's own (tests add failing ones). */
  extraFunctions?: FunctionDefinition[];
  log?: LogLine;
}

const defaultLog: LogLine = (level, fn, message) => console.log(`[${new Date().toISOString()}] ${fn} ${level}: ${message}`);

/**
 * Runs the app's function definitions the way the Functions host does: HTTP
 * routes, timers on their schedules, Service Bus triggers (a real namespace,
 * or durable local queues fed by the admin call), and embedded Azurite when
 * the storage is development storage and nothing is listening.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? defaultLog;
  const env = loadLocalEnvironment(options.root, options.env ?? process.env);
  for (const [k, v] of Object.entries(env)) if (process.env[k] === undefined && v !== undefined) process.env[k] = v;
  resetSettings();
  const settings = readSettings(env); // storage: everything needs it, so a bad value stops the host
  for (const line of settingsProblems(env)) log('error', 'host', `CONFIGURATION ERROR: ${line}`);
  const local = readLocalHostSettings(env);
  const { maxConcurrentCalls, maxMessageBatchSize, maxAutoLockRenewalMs } = readHostJson(options.root);
  const functions = enabledFunctions([...functionDefinitions, ...(options.extraFunctions ?? [])], env, log);
  const schedule = (def: TimerFunction) => resolveAppSettingReferences(timerScheduleExpression(def), settings);

  let azurite: RunningAzurite | undefined;
  const devEndpoint = developmentStorageEndpoint(settings.AzureWebJobsStorage);
  if (devEndpoint) {
    const port = Number(new URL(devEndpoint).port || 10002);
    if (!(await isListening(port))) {
      azurite = await startAzurite({ port, location: resolvePath(options.root, local.LOCAL_DATA_DIR) });
      log('information', 'host', `started Azurite (Table service) on port ${port}, data in ${local.LOCAL_DATA_DIR}/`);
    }
  }

  const rt = await createRuntime(settings);
  useRuntime(rt);
  const hostTables = {
    messages: tableClient(settings, 'localMessages'),
    deadLetters: tableClient(settings, 'localDeadLetters'),
    timers: tableClient(settings, 'localTimers'),
  };
  await ensureTables(hostTables);

  const invocations = new Invocations(log);
  const queues = new LocalQueues(hostTables.messages, hostTables.deadLetters, {
    maxDeliveryCount: local.LOCAL_MAX_DELIVERY_COUNT,
    lockMs: local.LOCAL_LOCK_DURATION_MS,
    redeliveryDelayMs: local.LOCAL_REDELIVERY_DELAY_MS,
  });
  const busFunctions = functions.filter((d): d is ServiceBusFunction => d.kind === 'serviceBus');
  const pumps = new Map(
    busFunctions.map((d) => [d.name, new QueuePump(d, queues, invocations, { maxConcurrentCalls, maxMessageBatchSize, pollMs: 250, log })]),
  );
  const bus = serviceBusClient(settings);
  const receivers = bus
    ? busFunctions.map((d) =>
        receiveFromServiceBus(openReceiver(bus, d.queueName), d, invocations, {
          maxConcurrentCalls,
          maxMessageBatchSize,
          maxAutoLockRenewalMs,
          log,
        }),
      )
    : [];
  const timers = new TimerScheduler(hostTables.timers, invocations, log);
  /** What AzureWebJobs.<name>.Disabled stops, per function: its local queue pump or Service Bus subscription, or its timer. */
  const switchTargets = () => {
    const targets = new Map<string, Switchable[]>();
    const add = (name: string, t: Switchable) => targets.set(name, [...(targets.get(name) ?? []), t]);
    for (const [name, pump] of pumps) add(name, pump);
    busFunctions.forEach((d, i) => receivers[i] && add(d.name, receivers[i]));
    for (const d of functions)
      if (d.kind === 'timer') add(d.name, { pause: () => timers.pause(d.name), resume: () => void timers.resume(d.name) });
    return targets;
  };
  const switches = new LiveTriggerSwitches(new TriggerSwitchRows(rt.tables.localTriggerSwitches), switchTargets(), log);
  // Before anything receives or runs: a function paused before the host started stays paused.
  await switches.refresh();
  const outbound = rt.sender instanceof TableOutbound ? rt.sender : undefined;
  const writeBack = busFunctions.find((d) => d.queueName === QUEUES.accountingUpdates);
  if (!bus && outbound && writeBack) {
    rt.sender = new LocalAccountingQueue(outbound, queues, writeBack.queueName, () => pumps.get(writeBack.name)?.nudge());
    log(
      'information',
      'host',
      `accounting updates go to ${writeBack.name} through its local queue (and stay readable at /admin/local/outbound)`,
    );
  }
  const importer = busFunctions.find((d) => d.queueName === QUEUES.importRequests);
  if (!bus && importer && settings.IMPORT_FAST_PATH) rt.importRequests = new LocalImportRequests(queues, importer.queueName);

  const server = createHttpServer({
    functions,
    invocations,
    functionKey: local.LOCAL_FUNCTION_KEY,
    admin: {
      invoke: async (def, input) => {
        if (def.kind === 'serviceBus') {
          const messageId = await queues.enqueue(def.queueName, input); // durable before the 202
          pumps.get(def.name)?.nudge();
          return { function: def.name, queue: def.queueName, messageId };
        }
        if (def.kind === 'timer') void timers.run(def, schedule(def));
        return { function: def.name };
      },
      local: async (path, query) => {
        const [what] = path;
        if (what === 'dead-letters') return queues.deadLettered(query.get('queue') ?? undefined);
        if (what === 'queues')
          return Object.fromEntries(
            await Promise.all(busFunctions.map(async (d) => [d.queueName, (await queues.pending(d.queueName)).length])),
          );
        if (what === 'outbound') return outbound ? outbound.read() : { note: `sent to Service Bus queue ${QUEUES.accountingUpdates}` };
        if (what === 'quarantine') return rt.quarantine.list(query.get('source') ?? undefined);
        return undefined;
      },
    },
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(local.PORT, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  for (const p of pumps.values()) p.start();
  switches.start();
  for (const d of functions) {
    if (d.kind !== 'timer') continue;
    // As in Azure, a timer whose schedule is wrong does not run; everything else does.
    try {
      await timers.start(d, schedule(d));
    } catch (e) {
      log('error', d.name, `not scheduled: ${(e as Error).message}`);
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `http://localhost:${port}`,
    port,
    azurite: azurite ? 'embedded' : 'external',
    functions,
    stop: () =>
      (stopping ??= (async () => {
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeIdleConnections();
        });
        await switches.stop();
        await Promise.all([...pumps.values()].map((p) => p.stop()));
        await Promise.all(receivers.map((r) => r.close()));
        await timers.stop();
        await invocations.drain(); // in-flight invocations finish
        await rt.close();
        useRuntime(undefined);
        await azurite?.stop();
      })()),
  };
}
