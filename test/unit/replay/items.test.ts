import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../../shared/queues';
import { contractProblem } from '../../../shared/operations/retryable';
import { executionContext, messageText, XRM_GUID } from '../../support/dataverseMessages';

describe('replay: the contract check before a message goes back', () => {
  it('names the field when an own-contract message would be refused again', () => {
    expect(contractProblem(QUEUES.actuals, JSON.stringify({ actualId: 'a-1' }))).toMatch(/legalEntity/);
    expect(contractProblem(QUEUES.actuals, '{')).toBe('body: is not valid JSON');
  });

  it("lets Dataverse's own message through: only the function, with its lookups, can turn it into the contract", () => {
    const id = XRM_GUID(1);
    const native = executionContext({ message: 'Create', entity: 'msdyn_actual', id, target: { msdyn_actualid: id } });
    expect(contractProblem(QUEUES.actuals, messageText(native))).toBeUndefined();
  });
});
