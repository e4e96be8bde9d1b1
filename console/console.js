// The operations console: reads /api/ops/… with the function key the page was opened with (?code=),
// and acts with the operator's name and key from the sign-in box. Every value reaches the page as
// text (textContent, never HTML), and every action ends in a sentence in the outcome area.

const FUNCTION_KEY = new URLSearchParams(location.search).get('code');
const REFRESH_MS = 10_000;
const STATES = [
  { state: 'AwaitingLines', label: 'Awaiting lines', color: '#b26a00' },
  { state: 'Error', label: 'Error', color: '#b3261e' },
  { state: 'LinesCreated', label: 'Lines created', color: '#1f5fa8' },
  { state: 'Posted', label: 'Posted today', color: '#2e7d32', count: 'PostedToday' },
];
const VIEWS = [
  ...STATES.map((s) => ({ id: s.state, label: s.label, path: (t) => `ops/proposals?state=${s.state}${t}`, render: proposalRows })),
  { id: 'out-of-sync', label: 'Out of sync', path: (t) => `ops/out-of-sync?${t.slice(1)}`, render: outOfSyncRows },
  { id: 'quarantined', label: 'Quarantined', path: (t) => `ops/messages?kind=quarantined${t}`, render: messageRows },
  { id: 'dead-lettered', label: 'Dead-lettered', path: (t) => `ops/messages?kind=dead-lettered${t}`, render: messageRows },
  { id: 'audit', label: 'Audit', path: (t) => `ops/audit?${t.slice(1)}`, render: auditRows },
];

const $ = (id) => document.getElementById(id);
let view = VIEWS[1];
let pages = 0;
let nextPageToken = null;
let counts = {};
const selected = new Set();

/** An element with properties, attributes (data-*, aria-*) and children (strings become text nodes). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.includes('-') || k === 'scope' || k === 'for') node.setAttribute(k, String(v));
    else node[k] = v;
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** A table cell: text or a node, with a class when given as [value, className]. */
const cell = (v) => (Array.isArray(v) ? el('td', { className: v[1] }, v[0]) : el('td', {}, v ?? ''));
const tr = (...cells) => el('tr', {}, cells.map(cell));

function operator() {
  try {
    return JSON.parse(sessionStorage.getItem('operator') ?? 'null');
  } catch {
    return null;
  }
}

async function api(path, body) {
  const headers = { accept: 'application/json' };
  if (FUNCTION_KEY) headers['x-functions-key'] = FUNCTION_KEY;
  const op = operator();
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    if (op) Object.assign(headers, { 'x-operator-name': op.name, 'x-operator-key': op.key });
  }
  const init = body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) };
  const res = await fetch(`/api/${path}`, init).catch((e) => {
    throw new Error(`the app did not answer (${e.message})`, { cause: e });
  });
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  // A problem+json answer says what is wrong in its detail; without one, the status has to do.
  const missingKey = res.status === 401 ? ': the function key is missing or wrong' : '';
  const message =
    data?.detail || data?.title ? `${data.detail || data.title} (HTTP ${res.status})` : `the app answered HTTP ${res.status}${missingKey}`;
  throw Object.assign(new Error(message), { status: res.status });
}

/** The outcome of an action (or of a refresh that failed), in words, for the eye and for screen readers. */
function say(text, kind = 'ok') {
  const out = $('outcome');
  out.className = `outcome ${kind}`;
  out.replaceChildren(
    el('strong', {}, kind === 'ok' ? 'Done: ' : 'Not done: '),
    text,
    el('span', { className: 'muted' }, ` (${clock(new Date())})`),
  );
}

const clock = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' }) : '—');
function age(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

/** Asks before an operator action; resolves true when confirmed. Escape or Cancel says no. */
function confirmAction(text, actionLabel) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = actionLabel;
  dialog.returnValue = '';
  dialog.showModal();
  $('confirm-cancel').focus();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}
$('confirm-ok').addEventListener('click', () => $('confirm').close('ok'));
$('confirm-cancel').addEventListener('click', () => $('confirm').close());

/** Runs an operator action after confirmation, says what happened, and refreshes what it changed. */
async function act(question, actionLabel, run) {
  if (!(await confirmAction(question, actionLabel))) return say(`${actionLabel}: cancelled, nothing was changed.`, 'error');
  try {
    const [text, kind] = await run();
    say(text, kind);
  } catch (e) {
    // Without Microsoft Entra sign-in, the operator key is what grants the operator role.
    const hint = e.status === 403 && !operator() ? ' Sign in with your name and the operator key (top right).' : '';
    say(`${actionLabel}: ${e.message}${hint}`, 'error');
  }
  await refresh();
}

function drawChart(states) {
  const svg = $('chart');
  const ns = 'http://www.w3.org/2000/svg';
  const shape = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const max = Math.max(1, ...STATES.map((s) => states[s.count ?? s.state] ?? 0));
  const rows = STATES.map((s, i) => {
    const n = states[s.count ?? s.state] ?? 0;
    const y = i * 32 + 4;
    return [
      shape('text', { x: 0, y: y + 17, class: 'bar-label' }, s.label),
      shape('rect', { x: 110, y, width: Math.max(2, (n / max) * 200), height: 24, rx: 3, fill: s.color }),
      shape('text', { x: 116 + Math.max(2, (n / max) * 200), y: y + 17, class: 'bar-count' }, String(n)),
    ];
  });
  svg.replaceChildren(
    shape('title', { id: 'chart-title' }, STATES.map((s) => `${s.label}: ${states[s.count ?? s.state] ?? 0}`).join(', ')),
    ...rows.flat(),
  );
}

function fact(term, ...value) {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}
/** A definition list of [term, value] pairs; a missing value shows as a dash. */
const facts = (...pairs) => el('dl', { className: 'facts' }, ...pairs.flatMap(([k, v]) => fact(k, v ?? '—')));

/** A real button; `key` lets a refresh put keyboard focus back on it. */
const button = (label, onclick, key, className) => el('button', { type: 'button', className, 'data-key': key, onclick }, label);
const openProposalButton = (le, id) => button(id, () => openProposal(le, id), `p:${le}/${id}`, 'link');
const openActualButton = (le, id) => button(id, () => openActual(le, id), `a:${id}`, 'link');

/** Dead letters over all queues, where the platform tells (null where it does not). */
function deadLetteredCount(s) {
  const known = (s.queues ?? []).filter((q) => q.deadLettered !== null);
  return known.length ? known.reduce((n, q) => n + q.deadLettered, 0) : null;
}

function renderSummary(s) {
  drawChart(s.states);
  const w = s.oldestWaiting;
  const imp = s.lastImport;
  const queues = s.queues.map((q) =>
    el('div', {}, `${q.queue}: ${q.active ?? '?'} waiting${q.deadLettered ? `, ${q.deadLettered} dead-lettered` : ''}`),
  );
  const deadLettered = deadLetteredCount(s);
  $('facts').replaceChildren(
    ...fact(
      'Oldest waiting',
      w ? openProposalButton(w.legalEntity, w.proposalId) : 'none',
      w ? ` since ${when(w.since)}: ${w.reason ?? ''}` : '',
    ),
    ...fact('Quarantined', String(s.quarantined)),
    ...fact('Dead-lettered', el('span', { className: deadLettered ? 'bad' : '' }, deadLettered ?? 'see the list')),
    ...fact(
      'Last import',
      imp ? `${imp.outcome} at ${when(imp.finishedAt)}, ${imp.durationMs} ms (${imp.trigger}): ${imp.detail}` : 'none yet',
    ),
    ...fact('Queues', queues.length ? queues : '—'),
  );
  $('flows').replaceChildren(
    ...s.flows.map((f) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, f.label),
        cell([f.paused ? `Paused since ${when(f.since)} by ${f.by ?? '?'}` : 'Running', f.paused ? 'bad' : '']),
        // The button says Pause or Resume; its accessible name says what, for a screen reader's list of buttons.
        cell(
          el(
            'button',
            {
              type: 'button',
              'aria-label': `${f.paused ? 'Resume' : 'Pause'} ${f.label}`,
              'data-key': `flow:${f.flow}`,
              onclick: () => toggleFlow(f),
            },
            f.paused ? 'Resume' : 'Pause',
          ),
        ),
      ),
    ),
  );
}

function toggleFlow(f) {
  const question = f.paused
    ? `Resume "${f.label}"? It catches up on everything that waited while it was paused.`
    : `Pause "${f.label}"? Nothing is lost: its messages and staged work wait until it is resumed.`;
  return act(question, `${f.paused ? 'Resume' : 'Pause'} ${f.label}`, async () => {
    const state = await api(`ops/flows/${encodeURIComponent(f.flow)}/${f.paused ? 'resume' : 'pause'}`, {});
    return [`${f.label} is ${state.paused ? 'paused' : 'running again'}.`, 'ok'];
  });
}

function table(headers, rows) {
  if (!rows.length) return el('p', { className: 'muted' }, 'Nothing here.');
  const head = el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)));
  return el('table', {}, el('thead', {}, head), el('tbody', {}, rows));
}

function proposalRows(items) {
  return table(
    ['Proposal', 'Entity', 'Customer', 'Reason', 'Age', 'Total', 'Lines'],
    items.map((p) =>
      tr(
        openProposalButton(p.legalEntity, p.proposalId),
        p.legalEntity,
        p.customerAccount,
        [p.reason ?? '', 'reason'],
        [age(p.ageSeconds), 'num'],
        [`${p.totalAmount} ${p.currency}`, 'num'],
        [`${p.lineCount} of ${p.transactionCount}`, 'num'],
      ),
    ),
  );
}

function outOfSyncRows(items) {
  return table(
    ['Proposal', 'Voucher', 'Posted', 'Actuals whose accounting is not sent'],
    items.map((o) =>
      tr(
        openProposalButton(o.legalEntity, o.proposalId),
        o.voucher ?? o.postingId,
        [when(o.postedAt), 'when'],
        el('span', {}, `${o.actualCount}: `, ...o.actualIds.map((id) => [openActualButton(o.legalEntity, id), ' '])),
      ),
    ),
  );
}

function messageRows(items) {
  const pick = (m) =>
    el('input', {
      type: 'checkbox',
      checked: selected.has(m.id),
      disabled: Boolean(m.retriedAt),
      'aria-label': `Select message ${m.id}`,
      'data-key': `sel:${m.id}`,
      onchange: (e) => (e.target.checked ? selected.add(m.id) : selected.delete(m.id)),
    });
  return table(
    ['Select', 'Received', 'Source', 'Reason', 'Retried', 'Message', 'Action'],
    items.map((m) =>
      tr(
        pick(m),
        [when(m.receivedAt), 'when'],
        m.source,
        [m.reason, 'reason'],
        [m.retriedAt ? `${when(m.retriedAt)} by ${m.retriedBy}` : 'no', 'when'],
        el('code', { className: 'preview', title: m.id }, m.preview),
        button('Retry', () => retry([m.id]), `retry:${m.id}`),
      ),
    ),
  );
}

function auditRows(items) {
  return table(
    ['When', 'Who', 'Action', 'Target', 'Outcome', 'Detail'],
    items.map((a) => tr([when(a.at), 'when'], a.who, a.action, a.target, [a.outcome, a.outcome === 'succeeded' ? '' : 'bad'], a.detail)),
  );
}

function retry(ids) {
  const what = ids.length === 1 ? `message ${ids[0]}` : `${ids.length} messages`;
  return act(`Retry ${what}? Each goes back to its queue once; fix its cause first.`, 'Retry', async () => {
    const { results } = await api('ops/messages/retry', { ids });
    for (const r of results) if (r.outcome === 'retried') selected.delete(r.id);
    const lines = results.map((r) => `${r.id} ${r.outcome.replace('-', ' ')}${r.detail ? `: ${r.detail}` : ''}`);
    return [lines.join('; '), results.every((r) => r.outcome === 'retried') ? 'ok' : 'error'];
  });
}

function showDetail(title, ...content) {
  $('detail-title').textContent = title;
  $('detail').replaceChildren(...content);
  $('detail-close').hidden = false;
  $('detail-title').focus();
}

async function openProposal(legalEntity, proposalId) {
  try {
    const p = await api(`invoice-proposals/${encodeURIComponent(legalEntity)}/${encodeURIComponent(proposalId)}`);
    const lines = table(
      ['#', 'Actual', 'Type', 'Project', 'Qty', 'Price', 'Amount'],
      p.lines.map((l) =>
        tr(
          l.lineNumber,
          openActualButton(p.legalEntity, l.actualId),
          l.transactionClassification,
          l.projectId,
          l.quantity,
          l.price,
          l.amount,
        ),
      ),
    );
    const posting = p.posting ? facts(...Object.entries(p.posting)) : el('p', { className: 'muted' }, 'Not posted yet.');
    showDetail(
      `Proposal ${p.proposalId} (${p.legalEntity})`,
      el('p', { className: `status s-${p.status}` }, el('strong', {}, p.status), p.reason ? `: ${p.reason}` : ''),
      ...p.warnings.map((w) => el('p', { className: 'bad' }, w)),
      facts(
        ['Customer', p.customerAccount],
        ['Contract', p.contractId],
        ['Invoice date', p.invoiceDate],
        ['Detail amount', `${p.detailAmount} ${p.currency}`],
        ['Tax', `${p.totalTax} ${p.currency}`],
        ['Total', `${p.totalAmount} ${p.currency} (${p.invoiceType})`],
        ['Lines expected', p.transactionCount],
      ),
      el('h3', {}, `Lines (${p.lines.length})`),
      lines,
      el('h3', {}, 'Posting'),
      posting,
    );
  } catch (e) {
    say(`could not open proposal ${proposalId}: ${e.message}`, 'error');
  }
}

async function openActual(legalEntity, actualId) {
  try {
    const a = await api(`actuals/${encodeURIComponent(legalEntity)}/${encodeURIComponent(actualId)}`);
    const accounting = a.accounting ? Object.entries(a.accounting) : [['Accounting', 'not posted yet']];
    showDetail(
      `Actual ${a.actualId}`,
      el('p', { className: 'status' }, el('strong', {}, a.status), a.reason ? `: ${a.reason}` : ''),
      facts(
        ['Proposal', a.proposalId ? openProposalButton(a.legalEntity, a.proposalId) : null],
        ['Type', a.transactionType],
        ['Amount', a.amount],
        ['Line', a.lineNumber],
        ['Billing status', a.billingStatus],
        ...accounting,
      ),
    );
  } catch (e) {
    say(`could not open actual ${actualId}: ${e.message}`, 'error');
  }
}

async function loadList(append) {
  const shown = view;
  const token = append && nextPageToken ? `&pageToken=${encodeURIComponent(nextPageToken)}` : '';
  const page = await api(shown.path(token));
  // The operator chose another list while this one loaded (a slow refresh): its answer is no longer wanted.
  if (shown !== view) return;
  nextPageToken = page.nextPageToken ?? null;
  pages = append ? pages + 1 : 1;
  const rendered = shown.render(page.items);
  if (append && rendered.tagName === 'TABLE')
    $('list')
      .querySelector('tbody')
      ?.append(...rendered.querySelector('tbody').children);
  else $('list').replaceChildren(rendered);
  $('more').hidden = !nextPageToken;
  $('retry-selected').hidden = !view.id.match(/quarantined|dead-lettered/);
}

/** The lists, each with its count from the last summary. */
function renderViews(s) {
  counts = s ?? counts;
  const count = { ...counts.states, Posted: counts.states?.PostedToday, quarantined: counts.quarantined };
  count['dead-lettered'] = deadLetteredCount(counts);
  const label = (v) => (count[v.id] === undefined || count[v.id] === null ? v.label : `${v.label} (${count[v.id]})`);
  $('views').replaceChildren(
    ...VIEWS.map((v) =>
      el(
        'button',
        { type: 'button', 'aria-pressed': String(v === view), 'data-key': `view:${v.id}`, onclick: () => showView(v) },
        label(v),
      ),
    ),
  );
  $('list-title').textContent = view.label;
}

async function showView(v) {
  view = v;
  selected.clear();
  renderViews();
  try {
    await loadList(false);
  } catch (e) {
    say(`could not load ${v.label}: ${e.message}`, 'error');
  }
}

/** Everything again; keyboard focus stays on the control it was on. */
async function refresh() {
  const focused = document.activeElement?.getAttribute('data-key');
  // A list the operator paged through stays as it is until they ask again.
  const [summary, list] = await Promise.allSettled([api('ops/summary'), pages <= 1 ? loadList(false) : undefined]);
  if (summary.status === 'fulfilled') [renderSummary, renderViews].forEach((render) => render(summary.value));
  const failed = [summary, list].find((r) => r.status === 'rejected');
  $('updated').textContent = failed
    ? `Refresh failed at ${clock(new Date())}: ${failed.reason.message}`
    : `Updated at ${clock(new Date(summary.value.generatedAt))}`;
  $('updated').classList.toggle('bad', Boolean(failed));
  if (focused) document.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function showOperator() {
  const op = operator();
  $('signed-in').hidden = !op;
  $('signin-fields').hidden = Boolean(op);
  $('operator-name').textContent = op?.name ?? '';
}

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('op-name').value.trim();
  const key = $('op-key').value;
  if (!name || !key) return say('enter your name and the operator key to sign in.', 'error');
  sessionStorage.setItem('operator', JSON.stringify({ name, key }));
  $('op-key').value = '';
  showOperator();
  say(`signed in as ${name}. The key is checked on your first action and kept in this tab only.`);
});
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem('operator');
  showOperator();
  say('signed out.');
  $('op-name').focus();
});
$('refresh-now').addEventListener('click', () => refresh());
$('more').addEventListener('click', () => loadList(true).catch((e) => say(`could not load more: ${e.message}`, 'error')));
$('retry-selected').addEventListener('click', () =>
  selected.size ? retry([...selected]) : say('select one or more messages to retry first.', 'error'),
);
$('detail-close').addEventListener('click', () => {
  showDetail('Details', el('p', { className: 'muted' }, 'Open a proposal or an actual from a list.'));
  $('detail-close').hidden = true;
});
$('run-import').addEventListener('click', () =>
  act('Run the import now? Staged actuals become proposal lines where a proposal is complete.', 'Run the import', async () => {
    const r = await api('ops/import', {});
    return [`the import ran in ${r.run.durationMs} ms: ${r.run.detail}`, 'ok'];
  }),
);

let timer;
function schedule() {
  clearInterval(timer);
  if ($('auto-refresh').checked) timer = setInterval(refresh, REFRESH_MS);
}
$('auto-refresh').addEventListener('change', schedule);

/** With App Service authentication (Microsoft Entra) on, who is signed in: the app role then decides, no key is needed. */
async function showEntraUser() {
  const me = await fetch('/.auth/me').catch(() => null);
  if (!me || (me.status !== 200 && me.status !== 401)) return; // not on here (locally: 404)
  const user = me.status === 200 ? (await me.json())[0]?.user_id : undefined;
  const back = encodeURIComponent(location.pathname + location.search);
  $('entra').replaceChildren(
    user
      ? `Signed in with Microsoft as ${user}`
      : el('a', { href: `/.auth/login/aad?post_login_redirect_uri=${back}` }, 'Sign in with Microsoft'),
  );
  $('entra').hidden = false;
}

showOperator();
void showEntraUser();
renderViews();
schedule();
void refresh();
