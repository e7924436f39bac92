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
};

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
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
}

function bar(label, value, total, kind) {
  const row = document.createElement('div');
  row.className = `bar ${kind || ''}`;
  row.dataset.stat = label;
  const name = document.createElement('span');
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
  $('#funnel').replaceChildren(
    bar('total', total, total),
    bar('sent', s.sentCount, total),
    bar('delivered', s.deliveredCount, total),
    bar('read', s.readCount, total),
    bar('clicked', s.clickedCount, total),
    bar('replied', s.repliedCount, total, 'replied'),
    bar('failed', s.failedCount, total, 'failed'),
  );
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
  if (Date.now() - state.timelineAt > 2000) {
    state.timelineAt = Date.now();
    graphql(TIMELINE, { id: s.campaignId }).then(
      (d) => renderTimeline(d.campaignTimeline),
      () => {},
    );
  }
}

function renderTimeline(points) {
  const svg = $('#timeline');
  const series = [
    ['sent', '#2f80ed'],
    ['delivered', '#56ccf2'],
    ['read', '#9b51e0'],
    ['clicked', '#f2994a'],
    ['replied', '#27ae60'],
    ['failed', '#eb5757'],
  ];
  const max = Math.max(1, ...points.flatMap((p) => series.map(([k]) => p[k])));
  const slot = 600 / Math.max(points.length, 1);
  const width = Math.max(slot / (series.length + 1), 1);
  const bars = [];
  points.forEach((p, i) => {
    series.forEach(([key, color], j) => {
      const height = (150 * p[key]) / max;
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      rect.setAttribute('x', String(i * slot + j * width));
      rect.setAttribute('y', String(155 - height));
      rect.setAttribute('width', String(width));
      rect.setAttribute('height', String(height));
      rect.setAttribute('fill', color);
      rect.dataset.series = key;
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = `${new Date(p.at).toLocaleTimeString()} ${key}: ${p[key]}`;
      rect.append(title);
      bars.push(rect);
    });
  });
  svg.replaceChildren(...bars);
}

function openCampaign(id, item) {
  for (const li of document.querySelectorAll('#campaigns li')) li.classList.toggle('active', li === item);
  if (state.socket) state.socket.close(1000);
  state.campaignId = id;
  state.timelineAt = 0;
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

$('#key-form').onsubmit = async (event) => {
  event.preventDefault();
  state.key = $('#api-key').value.trim();
  localStorage.setItem('csg.key', state.key);
  try {
    await loadCampaigns(true);
    $('#key-status').textContent = 'connected';
  } catch (error) {
    $('#key-status').textContent = error.message;
  }
};
$('#more').onclick = () => loadCampaigns(false);
if (state.key) $('#api-key').value = state.key;
