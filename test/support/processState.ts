/**
 * The integration files share their worker processes (`isolate: false` in vitest.config.mts): the Azure SDKs, zod
 * and the app's modules load once per worker instead of once per file, about 40 s of CPU less per run on 2 cores.
 * What a file may leave in the process's own state is put back before the next file starts: the environment as
 * the worker began with it, the settings read afresh from it, and no runtime installed (each file installs its own).
 * Module caches built from a runtime or from settings are keyed by them (shared/http/operationsApi.ts), so they
 * follow.
 */
import { resetSettings } from '../../shared/config';
import { useRuntime } from '../../shared/runtime';

const worker = globalThis as { workerEnvironment?: Record<string, string | undefined> };
const original = (worker.workerEnvironment ??= { ...process.env });
for (const name of Object.keys(process.env)) if (!(name in original)) delete process.env[name];
Object.assign(process.env, original);
resetSettings();
useRuntime(undefined);
