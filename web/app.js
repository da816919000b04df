// The dashboard: a small client of the GraphQL API (and of the CSV export). It keeps the token in
// localStorage, lists the dashboards and views the token may see, draws each view with Chart.js
// (lines, or a pie), shows backfill progress and incomplete points, and creates line charts with a
// form whose queries are checked by the server's parser as they are typed.
const $ = (selector, root = document) => root.querySelector(selector);
const state = {
  token: localStorage.getItem('code-insights-token') ?? '',
  charts: new Map(),
  shown: null,
  refresh: null,
};

async function graphql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

function say(text) {
  $('#message').textContent = text;
}

// --- signing in --------------------------------------------------------------------------------
function showSignedIn() {
  const signedIn = Boolean(state.token);
  $('#sign-in').hidden = signedIn;
  $('#signed-in').hidden = !signedIn;
  if (signedIn) {
    try {
      const claims = JSON.parse(atob(state.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      $('#who').textContent = `user ${claims.sub}${claims.admin ? ' (admin)' : ''}`;
    } catch {
      $('#who').textContent = 'signed in';
    }
  }
}

function signIn(token) {
  state.token = token;
  if (token) localStorage.setItem('code-insights-token', token);
  else localStorage.removeItem('code-insights-token');
  showSignedIn();
  loadLists().catch((error) => say(error.message));
}

$('#sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('#token').value.trim());
});
$('#sign-out').addEventListener('click', () => signIn(''));
$('#dev-sign-in').addEventListener('click', async () => {
  const response = await fetch('/dev/token');
  if (response.ok) signIn((await response.json()).token);
});
fetch('/dev/token', { method: 'HEAD' }).then(
  (response) => ($('#dev-sign-in').hidden = !response.ok),
  () => {},
);

// --- lists ---------------------------------------------------------------------------------------
const LISTS = `{
  allDashboards(orderBy: ROW_ID_ASC) { nodes { rowId title
    dashboardInsightViewsByDashboardId { nodes { insightViewId } } } }
  allInsightViews(orderBy: ROW_ID_ASC) { nodes { rowId title presentationType } }
}`;

async function loadLists() {
  const data = await graphql(LISTS);
  const dashboards = $('#dashboards');
  dashboards.replaceChildren(
    ...data.allDashboards.nodes.map((dashboard) => {
      const ids = dashboard.dashboardInsightViewsByDashboardId.nodes.map((n) => n.insightViewId);
      return listItem(dashboard.title, `dashboard-${dashboard.rowId}`, () => show(dashboard.title, ids));
    }),
  );
  const views = data.allInsightViews.nodes;
  $('#views').replaceChildren(
    ...views.map((view) => listItem(view.title, `view-${view.rowId}`, () => show(view.title, [view.rowId]))),
  );
  if (!views.length)
    say(
      state.token
        ? 'No views yet: create one with "New insight".'
        : 'Sign in to see your views (only globally shared ones are shown).',
    );
  else say('');
  const current = state.shown?.ids.filter((id) => views.some((view) => view.rowId === id));
  await show(state.shown?.title ?? 'All views', current?.length ? current : views.map((view) => view.rowId));
}

function listItem(text, id, onClick) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = '#';
  link.id = id;
  link.textContent = text;
  link.addEventListener('click', (event) => {
    event.preventDefault();
    for (const active of document.querySelectorAll('nav a.active')) active.classList.remove('active');
    link.classList.add('active');
    onClick();
  });
  item.append(link);
  return item;
}

// --- charts --------------------------------------------------------------------------------------
const VIEW = `query ($id: Int!, $include: String, $exclude: String) { insightViewByRowId(rowId: $id) {
  rowId title presentationType loading
  data(includeRepoRegex: $include, excludeRepoRegex: $exclude) { seriesId label stroke capture times values }
  pie { label value share }
  seriesStatus { label backfillState percentComplete pendingJobs isLoading incompletePoints incompleteReasons } } }`;

const PALETTE = [
  '#2f6fde',
  '#e8590c',
  '#2f8132',
  '#c53030',
  '#7048e8',
  '#0c8599',
  '#d6336c',
  '#5c940d',
  '#862e9c',
  '#495057',
];

async function show(title, ids) {
  state.shown = { title, ids };
  clearTimeout(state.refresh);
  for (const chart of state.charts.values()) chart.destroy();
  state.charts.clear();
  const container = $('#charts');
  container.replaceChildren();
  for (const id of ids) {
    const card = $('#view-card').content.firstElementChild.cloneNode(true);
    card.dataset.viewId = String(id);
    container.append(card);
    $('.filters', card).addEventListener('submit', (event) => {
      event.preventDefault();
      drawView(card, id).catch((error) => ($('.alerts', card).textContent = error.message));
    });
    $('.csv', card).addEventListener('click', () => downloadCsv(id).catch((error) => say(error.message)));
  }
  const loading = await Promise.all(
    ids.map((id) =>
      drawView(container.querySelector(`[data-view-id="${id}"]`), id).catch((error) => say(error.message)),
    ),
  );
  // While a backfill runs, redraw every few seconds.
  if (loading.some(Boolean)) state.refresh = setTimeout(() => show(title, ids), 3000);
}

async function drawView(card, id) {
  const include = $('.include', card).value.trim() || null;
  const exclude = $('.exclude', card).value.trim() || null;
  const { insightViewByRowId: view } = await graphql(VIEW, { id, include, exclude });
  if (!view) {
    card.remove();
    return false;
  }
  $('.title', card).textContent = view.title;
  const statuses = view.seriesStatus;
  const progress = statuses.length ? Math.min(...statuses.map((s) => s.percentComplete ?? 0)) : 100;
  $('.status', card).textContent = view.loading ? `backfilling… ${progress.toFixed(0)}%` : 'up to date';
  const incomplete = statuses.filter((s) => s.incompletePoints > 0);
  $('.alerts', card).textContent = incomplete
    .map((s) => `${s.label}: ${s.incompletePoints} incomplete point(s) (${s.incompleteReasons.join(', ')})`)
    .join('; ');
  $('.filters', card).hidden = view.presentationType === 'PIE';
  const canvas = $('canvas', card);
  state.charts.get(id)?.destroy();
  const chart = view.presentationType === 'PIE' ? pieChart(canvas, view.pie) : lineChart(canvas, view.data);
  state.charts.set(id, chart);
  canvas.dataset.points = String(view.data.reduce((n, line) => n + line.values.length, 0));
  return view.loading;
}

function lineChart(canvas, lines) {
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: lines.map((line, i) => ({
        label: line.label,
        data: line.times.map((time, j) => ({ x: Date.parse(time), y: line.values[j] })),
        borderColor: line.stroke ?? PALETTE[i % PALETTE.length],
        backgroundColor: line.stroke ?? PALETTE[i % PALETTE.length],
        tension: 0.2,
        pointRadius: 2,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: {
          type: 'linear',
          ticks: { callback: (value) => new Date(value).toISOString().slice(0, 10), maxTicksLimit: 6 },
        },
        y: { beginAtZero: true },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: { callbacks: { title: (items) => new Date(items[0].parsed.x).toISOString().slice(0, 10) } },
      },
    },
  });
}

function pieChart(canvas, slices) {
  return new Chart(canvas, {
    type: 'pie',
    data: {
      labels: slices.map((slice) => slice.label),
      datasets: [
        {
          data: slices.map((slice) => slice.value),
          backgroundColor: slices.map((_, i) => PALETTE[i % PALETTE.length]),
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        legend: { position: 'right' },
        tooltip: {
          callbacks: { label: (item) => `${item.label}: ${(slices[item.dataIndex].share * 100).toFixed(1)}%` },
        },
      },
    },
  });
}

async function downloadCsv(id) {
  const response = await fetch(`/export/views/${id}.csv`, {
    headers: state.token ? { authorization: `Bearer ${state.token}` } : {},
  });
  if (!response.ok) throw new Error(await response.text());
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = `insight-view-${id}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

// --- creating an insight -------------------------------------------------------------------------
function addSeriesRow() {
  const row = $('#series-row').content.firstElementChild.cloneNode(true);
  const query = $('.query', row);
  const capture = $('.capture-toggle', row);
  const check = $('.check', row);
  let timer;
  // The parser's own verdict as you type: the message says where and, when it can, how to write it.
  const validate = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!query.value.trim()) return void (check.textContent = '');
      const { checkQuery: result } = await graphql(
        'query ($q: String!, $c: Boolean) { checkQuery(query: $q, capture: $c) { ok message captureGroups } }',
        { q: query.value, c: capture.checked },
      );
      check.className = `check ${result.ok ? 'ok' : 'bad'}`;
      check.textContent = result.ok
        ? capture.checked
          ? 'valid: one line per captured value'
          : 'valid'
        : result.message;
      query.setCustomValidity(result.ok ? '' : result.message);
    }, 250);
  };
  query.addEventListener('input', validate);
  capture.addEventListener('change', validate);
  $('#series-list').append(row);
}

$('#new-insight').addEventListener('click', () => {
  $('#create').hidden = false;
  if (!document.querySelector('.series-row')) addSeriesRow();
});
$('#add-series').addEventListener('click', addSeriesRow);
$('#cancel-create').addEventListener('click', () => ($('#create').hidden = true));

const CREATE = `mutation ($input: CreateLineChartInsightInput!) { createLineChartInsight(input: $input) { result { rowId title } } }`;

$('#create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = $('#create-error');
  error.textContent = '';
  const unit = form.interval.value;
  const samples = Number(form.samples.value);
  const step = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30.44 * 86_400_000 }[unit];
  const series = [...document.querySelectorAll('.series-row')]
    .filter((row) => $('.query', row).value.trim())
    .map((row) => ({
      query: $('.query', row).value.trim(),
      label: $('.label', row).value.trim() || undefined,
      capture_groups: $('.capture-toggle', row).checked,
    }));
  const repositories = form.repositories.value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  try {
    const data = await graphql(CREATE, {
      input: {
        title: form.title.value.trim(),
        series,
        repositories: repositories.length ? repositories : null,
        intervalUnit: unit,
        intervalValue: 1,
        oldestHistoricalAt: new Date(Date.now() - (samples + 0.5) * step).toISOString(),
      },
    });
    form.hidden = true;
    form.reset();
    for (const row of document.querySelectorAll('.series-row')) row.remove();
    state.shown = { title: data.createLineChartInsight.result.title, ids: [data.createLineChartInsight.result.rowId] };
    await loadLists();
  } catch (failure) {
    error.textContent = failure.message;
  }
});

showSignedIn();
loadLists().catch((error) => say(error.message));
