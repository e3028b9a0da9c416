// Live progress over server-sent events: state changes, install progress and stage output, without reload.
'use strict';

const shortTime = (iso) => (typeof iso === 'string' && iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '');

function setState(span, state) {
  if (!span || !state || span.textContent === state) return false;
  span.textContent = state;
  span.className = `state state-${state}`;
  return true;
}

function setText(cell, value) {
  if (cell) cell.textContent = value ?? '';
}

function flashRow(row) {
  row.classList.remove('updated');
  void row.offsetWidth;
  row.classList.add('updated');
}

function onNodesPage(event) {
  const row = document.getElementById(`node-${event.nodeId}`);
  if (!row) {
    if (event.kind === 'transition' && event.fromState === null) document.getElementById('new-nodes').hidden = false;
    return;
  }
  if (event.kind === 'forget') {
    row.classList.add('gone');
    return;
  }
  const node = event.node;
  setState(row.querySelector('.c-state .state'), node ? node.state : event.toState);
  if (node) {
    setText(row.querySelector('.c-hostname'), node.hostname);
    setText(row.querySelector('.c-address'), node.address);
    setText(row.querySelector('.c-roles'), node.roles.join(', '));
    setText(row.querySelector('.c-profile'), node.profile);
    setText(row.querySelector('.c-power'), node.powerState);
    row.querySelector('.c-state .state').title = node.failedReason ?? '';
  }
  setText(row.querySelector('.c-last'), shortTime(event.at));
  flashRow(row);
}

function onNodePage(event, nodeId) {
  if (event.nodeId !== nodeId) return;
  const log = document.querySelector('#event-log tbody');
  if (log) {
    const row = log.insertRow(0);
    const states = event.toState ? `${event.fromState ? `${event.fromState} → ` : ''}${event.toState}` : '';
    for (const value of [shortTime(event.at), event.kind, states, event.message, event.actor ?? '']) row.insertCell().textContent = value;
    row.cells[0].className = 'mono';
    flashRow(row);
  }
  const state = event.node ? event.node.state : event.toState;
  if (setState(document.getElementById('node-state'), state)) {
    document.getElementById('state-changed').hidden = false;
    setText(document.getElementById('state-since'), shortTime(event.at));
  }
  const power = document.getElementById('node-power');
  if (power && event.node && event.node.powerState) setText(power, event.node.powerState);
}

function onStageOutput(output) {
  const pre = document.querySelector(`pre.log[data-run-id="${output.runId}"]`);
  if (!pre) {
    const hint = document.getElementById('state-changed');
    if (hint) hint.hidden = false;
    return;
  }
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(document.createTextNode(output.text));
  pre.closest('details').open = true;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

document.addEventListener('DOMContentLoaded', () => {
  const status = document.getElementById('live-status');
  const page = document.body.dataset.page;
  const nodeId = document.body.dataset.nodeId ? Number(document.body.dataset.nodeId) : null;
  const source = new EventSource(nodeId !== null && page === 'node' ? `/events/stream?node=${nodeId}` : '/events/stream');
  const show = (state, label) => {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = label;
  };
  source.addEventListener('open', () => show('live', 'live'));
  source.addEventListener('error', () => show('down', 'reconnecting…'));
  source.addEventListener('node-event', (message) => {
    const event = JSON.parse(message.data);
    if (page === 'nodes') onNodesPage(event);
    if (page === 'node') onNodePage(event, nodeId);
  });
  source.addEventListener('stage-output', (message) => {
    const output = JSON.parse(message.data);
    if (page === 'node' && output.nodeId === nodeId) onStageOutput(output);
  });
  window.addEventListener('pagehide', () => source.close());
});
