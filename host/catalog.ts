import dispatchAccountingUpdates from '../functions/dispatchAccountingUpdates';
import getActual from '../functions/getActual';
import getConsole from '../functions/getConsole';
import getInvoiceProposal from '../functions/getInvoiceProposal';
import getOpenApi from '../functions/getOpenApi';
import importFromStaging from '../functions/importFromStaging';
import opsSummary from '../functions/opsSummary';
import proposalsByState from '../functions/proposalsByState';
import outOfSyncPostings from '../functions/outOfSyncPostings';
import operatorAudit from '../functions/operatorAudit';
import runImportNow from '../functions/runImportNow';
import retryableMessages from '../functions/retryableMessages';
import retryMessages from '../functions/retryMessages';
import operationFlows from '../functions/operationFlows';
import pauseFlow from '../functions/pauseFlow';
import resumeFlow from '../functions/resumeFlow';
import importProposal from '../functions/importProposal';
import recordPosting from '../functions/recordPosting';
import rejectProposalWrites from '../functions/rejectProposalWrites';
import syncActuals from '../functions/syncActuals';
import syncInvoiceProposal from '../functions/syncInvoiceProposal';
import writeBackAccounting from '../functions/writeBackAccounting';
import type { FunctionDefinition } from '../shared/hosting/definition';

/**
 * Every function of the app, as the local host runs it. In Azure the host
 * finds the same definitions through package.json "main" (dist/functions/*.js).
 */
export const functionDefinitions: readonly FunctionDefinition[] = [
  syncInvoiceProposal,
  syncActuals,
  importFromStaging,
  importProposal,
  dispatchAccountingUpdates,
  writeBackAccounting,
  recordPosting,
  getInvoiceProposal,
  getActual,
  rejectProposalWrites,
  getOpenApi,
  opsSummary,
  proposalsByState,
  outOfSyncPostings,
  operatorAudit,
  runImportNow,
  retryableMessages,
  retryMessages,
  operationFlows,
  pauseFlow,
  resumeFlow,
  getConsole,
];
