// The dashboard: plain browser JavaScript, no framework and nothing from a CDN. It speaks GraphQL
// over HTTP for lists and the timeline, and graphql-transport-ws for live stats.
'use strict';

const $ = (selector) => document.querySelector(selector);
const state = {
  key: localStorage.getItem('csg.key') || '',
  after: null,
  socket: null,
  campaignId: null,
  timelineAt: 0,
  timelineTimer: null,
  timelineMode: 'cumulative',
  timelinePoints: [],
  chart: null,
  // the contacts listed under the funnel: the filter, the cursor of this page, and of the next
  audience: null,
};

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (response.status === 401) throw new Error('key refused: paste another one');
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

/** A minimal graphql-transport-ws client: one socket, one subscription. */
function subscribe(query, variables, onData, onStatus) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const socket = new WebSocket(url, 'graphql-transport-ws');
  socket.onopen = () =>
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${state.key}` } }));
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      onStatus('live');
    } else if (message.type === 'next') {
      if (message.payload.data) onData(message.payload.data);
      if (message.payload.errors) onStatus(message.payload.errors[0].message);
    } else if (message.type === 'error') {
      onStatus(message.payload[0] ? message.payload[0].message : 'error');
    } else if (message.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    }
  };
  socket.onclose = (event) =>
    onStatus(event.code === 4403 ? 'forbidden: check the key' : `disconnected (${event.code})`);
  return socket;
}

const CAMPAIGNS = `query($after: String) { campaigns(first: 20, after: $after) {
  edges { cursor node { id name status } } pageInfo { hasNextPage endCursor } } }`;
const STATS = `subscription($id: ID!) { campaignStatsUpdated(campaignId: $id) {
  campaignId name campaignStatus totalContacts sentCount deliveredCount readCount clickedCount failedCount
  repliedCount pendingCount deliveryRate readRate clickRate replyRate failureRate
  failureReasons { code title count } startedAt completedAt updatedAt } }`;
const TIMELINE = `query($id: ID!) { campaignTimeline(campaignId: $id, bucket: MINUTE) { at sent delivered read clicked failed replied } }`;

async function loadCampaigns(reset) {
  if (reset) {
    state.after = null;
    $('#campaigns').textContent = '';
  }
  const data = await graphql(CAMPAIGNS, { after: state.after });
  for (const { node } of data.campaigns.edges) {
    const item = document.createElement('li');
    item.dataset.id = node.id;
    const name = document.createElement('span');
    name.textContent = node.name;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = node.status.toLowerCase();
    item.append(name, badge);
    item.onclick = () => openCampaign(node.id, item);
    $('#campaigns').append(item);
  }
  state.after = data.campaigns.pageInfo.endCursor;
  $('#more').hidden = !data.campaigns.pageInfo.hasNextPage;
  $('#no-campaigns').hidden = $('#campaigns').children.length > 0;
}

/** A funnel bar; its name is a button that lists the contacts behind the count. */
function bar(label, value, total, kind, filter) {
  const row = document.createElement('div');
  row.className = `bar ${kind || ''}`;
  row.dataset.stat = label;
  const name = document.createElement('button');
  name.type = 'button';
  name.className = 'stat';
  name.dataset.filter = filter || label;
  name.title = `list the ${label} contacts`;
  name.setAttribute('aria-pressed', String(Boolean(state.audience) && state.audience.filter === name.dataset.filter));
  name.textContent = label;
  const track = document.createElement('div');
  track.className = 'track';
  const fill = document.createElement('div');
  fill.className = 'fill';
  fill.style.width = `${total ? (100 * value) / total : 0}%`;
  track.append(fill);
  const number = document.createElement('span');
  number.className = 'value';
  number.textContent = String(value);
  row.append(name, track, number);
  return row;
}

const percent = (rate) => `${(rate * 100).toFixed(1)}%`;

function renderStats(s) {
  $('#campaign-name').textContent = s.name;
  $('#campaign-meta').textContent =
    `${s.campaignStatus.toLowerCase()} · ${s.totalContacts} contacts · ${s.pendingCount} pending · updated ${new Date(s.updatedAt).toLocaleTimeString()}`;
  const total = s.totalContacts;
  const bars = [
    ['total', total, '', 'all'],
    ['sent', s.sentCount],
    ['delivered', s.deliveredCount],
    ['read', s.readCount],
    ['clicked', s.clickedCount],
    ['replied', s.repliedCount, 'replied'],
    ['failed', s.failedCount, 'failed'],
    ['pending', s.pendingCount, 'pending'],
  ];
  const funnel = $('#funnel');
  if (funnel.children.length === bars.length) {
    // Updated in place: a bar's button keeps the keyboard focus while the numbers move.
    bars.forEach(([label, value], i) => {
      const row = funnel.children[i];
      row.querySelector('.fill').style.width = `${total ? (100 * value) / total : 0}%`;
      row.querySelector('.value').textContent = String(value);
    });
  } else {
    funnel.replaceChildren(...bars.map(([label, value, kind, filter]) => bar(label, value, total, kind, filter)));
  }
  $('#rates').replaceChildren(
    ...[
      ['delivery', s.deliveryRate],
      ['read', s.readRate],
      ['click', s.clickRate],
      ['reply', s.replyRate],
      ['failure', s.failureRate],
    ].map(([name, rate]) => {
      const cell = document.createElement('div');
      cell.textContent = `${name} ${percent(rate)}`;
      return cell;
    }),
  );
  $('#reasons tbody').replaceChildren(
    ...s.failureReasons.map((r) => {
      const row = document.createElement('tr');
      for (const value of [r.code, r.title, r.count]) {
        const cell = document.createElement('td');
        cell.textContent = String(value);
        row.append(cell);
      }
      return row;
    }),
  );
  refreshTimeline(s.campaignId);
}

/** Re-reads the timeline at most every 2 s, and always once after the last change (a trailing read). */
function refreshTimeline(id) {
  if (state.timelineTimer) return;
  const wait = Math.max(0, state.timelineAt + 2000 - Date.now());
  state.timelineTimer = setTimeout(() => {
    state.timelineTimer = null;
    if (state.campaignId !== id) return;
    state.timelineAt = Date.now();
    graphql(TIMELINE, { id }).then(
      (d) => {
        if (state.campaignId === id) renderTimeline(d.campaignTimeline);
      },
      () => {},
    );
    loadLinks(id);
  }, wait);
}

const SERIES = [
  ['sent', '#2f80ed'],
  ['delivered', '#56ccf2'],
  ['read', '#9b51e0'],
  ['clicked', '#f2994a'],
  ['replied', '#27ae60'],
  ['failed', '#eb5757'],
];
const MINUTE = 60;

/** Every minute from the first point to the last (the server leaves empty ones out), per stage. */
function timelineColumns(points, cumulative) {
  if (points.length === 0) return null;
  const first = Date.parse(points[0].at) / 1000;
  const last = Date.parse(points[points.length - 1].at) / 1000;
  const byTime = new Map(points.map((p) => [Date.parse(p.at) / 1000, p]));
  const xs = [];
  // One minute past the last: a bucket is drawn across its whole minute.
  for (let t = first; t <= last + MINUTE; t += MINUTE) xs.push(t);
  const columns = [xs];
  for (const [key] of SERIES) {
    let sum = 0;
    columns.push(
      xs.map((t) => {
        const value = byTime.has(t) ? byTime.get(t)[key] : 0;
        sum += value;
        return cumulative ? sum : value;
      }),
    );
  }
  return columns;
}

const two = (n) => String(n).padStart(2, '0');
/** Axis labels in the browser's time zone: HH:MM, with the date where it changes. */
function timeLabels(splits) {
  let lastDay = '';
  return splits.map((t) => {
    const d = new Date(t * 1000);
    const day = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
    const label = `${two(d.getHours())}:${two(d.getMinutes())}`;
    if (day === lastDay) return label;
    lastDay = day;
    return `${label}\n${day}`;
  });
}

function renderTimeline(points) {
  state.timelinePoints = points;
  const container = $('#timeline');
  const cumulative = state.timelineMode === 'cumulative';
  const columns = timelineColumns(points, cumulative);
  $('#timeline-empty').hidden = columns !== null;
  container.dataset.mode = state.timelineMode;
  if (state.chart) {
    state.chart.destroy();
    state.chart = null;
  }
  if (!columns) return;
  if (typeof uPlot !== 'function') {
    container.textContent = 'The chart library did not load (uplot missing from node_modules: run npm install).';
    return;
  }
  container.textContent = '';
  const width = Math.max(320, container.clientWidth || 600);
  state.chart = new uPlot(
    {
      width,
      height: 240,
      scales: { x: { time: true } },
      series: [
        { label: 'time', value: (u, t) => (t == null ? '' : new Date(t * 1000).toLocaleString()) },
        ...SERIES.map(([label, stroke]) => ({
          label,
          stroke,
          width: 2,
          points: { show: false },
          ...(cumulative ? {} : { paths: uPlot.paths.stepped({ align: 1 }) }),
        })),
      ],
      axes: [
        {
          values: (u, splits) => {
            const labels = timeLabels(splits);
            container.dataset.xTicks = labels.map((l) => l.split('\n')[0]).join(' ');
            return labels;
          },
          space: 70,
        },
        {
          label: cumulative ? 'contacts so far' : 'contacts per minute',
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6],
          values: (u, splits) => {
            container.dataset.yTicks = splits.join(' ');
            return splits.map(String);
          },
          size: 60,
        },
      ],
    },
    columns,
    container,
  );
}

for (const button of document.querySelectorAll('#timeline-mode button')) {
  button.onclick = () => {
    state.timelineMode = button.dataset.mode;
    for (const b of document.querySelectorAll('#timeline-mode button'))
      b.setAttribute('aria-pressed', String(b === button));
    renderTimeline(state.timelinePoints);
  };
}
window.addEventListener('resize', () => {
  if (state.chart) state.chart.setSize({ width: Math.max(320, $('#timeline').clientWidth), height: 240 });
});

const LINKS = `query($id: ID!) { trackedLinks(campaignId: $id) { id url clicks } }`;

/** The campaign's tracked links with their clicks (re-read with the timeline). */
function loadLinks(id) {
  graphql(LINKS, { id }).then(
    (d) => {
      if (state.campaignId !== id) return;
      $('#links tbody').replaceChildren(
        ...d.trackedLinks.map((link) => {
          const row = document.createElement('tr');
          row.dataset.id = link.id;
          for (const value of [link.url, link.clicks]) {
            const cell = document.createElement('td');
            cell.textContent = String(value);
            row.append(cell);
          }
          return row;
        }),
      );
      $('#no-links').hidden = d.trackedLinks.length > 0;
    },
    () => {},
  );
}

const CONTACTS = `query($id: ID!, $filter: ContactFilter!, $after: String) {
  campaignContacts(campaignId: $id, filter: $filter, first: 50, after: $after) {
    nodes { phone stage sentAt deliveredAt readAt clickedAt repliedAt failedAt failure { code title } }
    pageInfo { hasNextPage endCursor } } }`;
/** The time shown for a filter: when the contact first counted there (for `all`, at its stage). */
const TIME_OF = {
  sent: 'sentAt',
  delivered: 'deliveredAt',
  read: 'readAt',
  clicked: 'clickedAt',
  replied: 'repliedAt',
  failed: 'failedAt',
};
const STAGE_TIME = {
  SENT: 'sentAt',
  DELIVERED: 'deliveredAt',
  READ: 'readAt',
  CLICKED: 'clickedAt',
  REPLIED: 'repliedAt',
  FAILED: 'failedAt',
};

/** One page (50) of the contacts behind a funnel count, by phone; `after` null for the first. */
async function showContacts(filter, after) {
  const id = state.campaignId;
  state.audience = { filter, after, page: after ? state.audience.page + 1 : 1, next: null };
  for (const b of document.querySelectorAll('#funnel button.stat'))
    b.setAttribute('aria-pressed', String(b.dataset.filter === filter));
  $('#audience').hidden = false;
  $('#audience-title').textContent = `Contacts: ${filter}`;
  $('#contacts-time').textContent = filter === 'pending' ? 'Time' : filter === 'all' ? 'Stage time' : `${filter} at`;
  $('#audience-status').textContent = 'loading…';
  try {
    const data = await graphql(CONTACTS, { id, filter: filter.toUpperCase(), after });
    if (state.campaignId !== id || !state.audience || state.audience.filter !== filter) return;
    const { nodes, pageInfo } = data.campaignContacts;
    $('#contacts tbody').replaceChildren(
      ...nodes.map((c) => {
        const row = document.createElement('tr');
        const field = filter === 'all' ? STAGE_TIME[c.stage] : TIME_OF[filter];
        const at = field && c[field] ? new Date(c[field]).toLocaleString() : '—';
        const failure = c.failure ? `${c.failure.code} ${c.failure.title}` : '';
        for (const value of [c.phone, c.stage.toLowerCase(), at, failure]) {
          const cell = document.createElement('td');
          cell.textContent = value;
          row.append(cell);
        }
        return row;
      }),
    );
    state.audience.next = pageInfo.hasNextPage ? pageInfo.endCursor : null;
    $('#contacts-next').hidden = !pageInfo.hasNextPage;
    $('#contacts-first').hidden = !after;
    $('#audience-status').textContent =
      nodes.length === 0 ? 'no contacts' : `page ${state.audience.page}: ${nodes.length} contacts`;
  } catch (error) {
    $('#audience-status').textContent = error.message;
  }
}

/**
 * The CSV of the listed filter. The export needs the key in a header, which a plain link cannot
 * send: fetched with it, then saved from a blob: URL (a download, which the CSP does not govern).
 */
async function downloadCsv() {
  if (!state.audience) return;
  const { filter } = state.audience;
  const id = state.campaignId;
  $('#audience-status').textContent = 'preparing the CSV…';
  try {
    const response = await fetch(`/api/v1/campaigns/${id}/contacts.csv?filter=${encodeURIComponent(filter)}`, {
      headers: { authorization: `Bearer ${state.key}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `export answered ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `campaign-${id}-${filter}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('#audience-status').textContent = 'CSV downloaded';
  } catch (error) {
    $('#audience-status').textContent = error.message;
  }
}

$('#funnel').onclick = (event) => {
  const button = event.target.closest('button.stat');
  if (button) void showContacts(button.dataset.filter, null);
};
$('#contacts-next').onclick = () => {
  if (state.audience && state.audience.next) void showContacts(state.audience.filter, state.audience.next);
};
$('#contacts-first').onclick = () => {
  if (state.audience) void showContacts(state.audience.filter, null);
};
$('#audience-csv').onclick = () => void downloadCsv();
$('#audience-close').onclick = () => closeContacts();

function closeContacts() {
  state.audience = null;
  $('#audience').hidden = true;
  $('#contacts tbody').textContent = '';
  for (const b of document.querySelectorAll('#funnel button.stat')) b.setAttribute('aria-pressed', 'false');
}

function openCampaign(id, item) {
  for (const li of document.querySelectorAll('#campaigns li')) li.classList.toggle('active', li === item);
  if (state.socket) state.socket.close(1000);
  state.campaignId = id;
  state.timelineAt = 0;
  closeContacts();
  $('#funnel').textContent = '';
  $('#links tbody').textContent = '';
  loadLinks(id);
  $('#pick').hidden = true;
  $('#detail').hidden = false;
  state.socket = subscribe(
    STATS,
    { id },
    (data) => renderStats(data.campaignStatsUpdated),
    (status) => {
      $('#live-status').textContent = status;
    },
  );
}

/** Lists the key's campaigns; shows the empty state again when the key is refused. */
async function connect() {
  $('#key-status').textContent = 'connecting…';
  try {
    await loadCampaigns(true);
    $('#key-status').textContent = 'connected';
    $('#empty').hidden = true;
    $('#workspace').hidden = false;
  } catch (error) {
    $('#key-status').textContent = error.message;
    $('#empty').hidden = false;
    $('#workspace').hidden = true;
  }
}

$('#key-form').onsubmit = (event) => {
  event.preventDefault();
  state.key = $('#api-key').value.trim();
  localStorage.setItem('csg.key', state.key);
  return connect();
};
$('#more').onclick = () => loadCampaigns(false);
// A key saved by an earlier visit: connect at once.
if (state.key) {
  $('#api-key').value = state.key;
  void connect();
}
