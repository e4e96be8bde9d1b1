import type { TestProject } from 'vitest/node';
import { startAzurite } from '../../host/azurite';

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/** One in-memory Azurite for the whole run; each test file isolates itself with a table prefix. */
export default async function setup(project: TestProject) {
  const azurite = await startAzurite();
  project.provide('azuriteConnectionString', azurite.connectionString);
  return () => azurite.stop();
}
