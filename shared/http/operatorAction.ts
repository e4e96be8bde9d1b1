import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config';
import type { AuditEntry } from '../contracts/operations';
import type { Logger, Runtime } from '../runtime';
import { operatorOf, type Operator } from './operator';
import { problem } from './problem';

/** What an action did: the answer to send and the audit's outcome and detail. */
export interface ActionResult {
  response: HttpResponseInit;
  outcome: AuditEntry['outcome'];
  detail: string;
}

/**
 * Runs an operator action: checks the operator role, runs it, and writes the
 * audit row whatever happens (refused for want of the role, refused by the
 * rules, failed, or done). The answer waits for the audit row: an action that
 * was done but could not be audited answers 500, so it is not taken as clean.
 */
export async function operatorAction(
  request: HttpRequest,
  rt: Runtime,
  s: Settings,
  log: Logger,
  what: { action: string; target: string },
  run: (operator: Operator) => Promise<ActionResult>,
): Promise<HttpResponseInit> {
  const check = operatorOf(request, s);
  const audit = (who: string, via: Operator['via'], outcome: AuditEntry['outcome'], detail: string) =>
    rt.operatorActions.record({ at: rt.now().toISOString(), who, via, ...what, outcome, detail });
  if (!check.ok) {
    const detail = String((check.response.jsonBody as { detail?: string }).detail ?? 'refused');
    await audit(check.who, check.via, 'refused', detail);
    return check.response;
  }
  let result: ActionResult;
  try {
    result = await run(check.operator);
  } catch (e) {
    const detail = `${what.action} ${what.target} failed: ${(e as Error).message}`;
    log.error(detail);
    await audit(check.operator.who, check.operator.via, 'failed', detail);
    return problem('internal-error', `${what.action} failed; it may have been partly done, see the audit and the logs`);
  }
  await audit(check.operator.who, check.operator.via, result.outcome, result.detail);
  return result.response;
}
