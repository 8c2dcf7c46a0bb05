// Herald demo client: dev token → Socket.IO → chat:send, live timeline, streamed answer.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const state = { socket: null, userId: '', conversationId: 'new', runId: null, lastId: '0', bubbles: new Map(), early: [] };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(text, online) {
    $('status').textContent = text;
    $('status').className = online ? 'online' : 'offline';
  }

  function scrollDown(node) {
    node.scrollTop = node.scrollHeight;
  }

  function addMessage(role, text) {
    const bubble = el('div', `msg ${role}`, text);
    $('messages').append(bubble);
    scrollDown($('messages'));
    return bubble;
  }

  function assistantBubble(messageId) {
    let bubble = state.bubbles.get(messageId);
    if (!bubble) {
      bubble = addMessage('assistant', '');
      bubble.classList.add('typing');
      state.bubbles.set(messageId, bubble);
    }
    return bubble;
  }

  function describe(event) {
    const d = event.data || {};
    switch (event.type) {
      case 'run_queued':
        return `waiting behind ${d.position} run(s)`;
      case 'orchestration_started':
        return d.intent ? `intent: ${d.intent}` : '';
      case 'status':
        return d.message;
      case 'agent_started':
        return `${d.agent}${d.description ? ` — ${d.description}` : ''}`;
      case 'agent_thinking':
        return `${d.agent}: ${d.thought}`;
      case 'tool_executing':
        return `${d.agent} → ${d.tool}(${JSON.stringify(d.input).slice(0, 120)})`;
      case 'tool_completed':
        return `${d.tool} ${d.ok ? 'ok' : `failed: ${d.error || ''}`} in ${Math.round(d.durationMs)} ms`;
      case 'agent_completed':
        return `${d.agent} done in ${Math.round(d.durationMs)} ms${d.summary ? ` — ${d.summary}` : ''}`;
      case 'clarification_requested':
        return d.question;
      case 'approval_requested':
        return `${d.action}`;
      case 'message':
        return `${(d.content || '').length} characters`;
      case 'orchestration_completed':
        return `completed in ${Math.round(d.durationMs)} ms`;
      case 'run_cancelled':
        return d.reason;
      case 'error':
        return `${d.code}: ${d.message}`;
      default:
        return '';
    }
  }

  function addToTimeline(event) {
    if (event.type === 'message_delta') return;
    const item = el('li');
    if (['orchestration_completed', 'run_cancelled', 'error'].includes(event.type)) {
      item.classList.add(event.type === 'orchestration_completed' ? 'terminal' : 'failed');
    }
    item.append(el('span', 'id', `#${event.id}`), el('span', 'type', event.type.replace(/_/g, ' ')));
    const detail = describe(event);
    if (detail) item.append(el('div', 'detail', detail));
    if (event.trace && event.trace.latencyMs !== undefined) item.append(el('div', 'detail', `trace: ${JSON.stringify(event.trace)}`));
    $('timeline').append(item);
    scrollDown($('timeline'));
  }

  function onEvent(event) {
    // Ids strictly increase per user: anything not newer was already seen (around a resume).
    if (BigInt(event.id) <= BigInt(state.lastId)) return;
    state.lastId = event.id;
    if (event.runId !== state.runId) {
      // A run's first events can arrive before chat:send's ack tells us its id.
      state.early.push(event);
      if (state.early.length > 500) state.early.shift();
      return;
    }
    render(event);
  }

  function render(event) {
    $('progress').firstElementChild.style.width = `${Math.round(event.progress * 100)}%`;
    addToTimeline(event);
    const d = event.data || {};
    if (event.type === 'message_delta') assistantBubble(d.messageId).textContent += d.delta;
    if (event.type === 'message') {
      const bubble = assistantBubble(d.messageId);
      bubble.textContent = d.content;
      const sources = (d.metadata && d.metadata.sources) || [];
      if (sources.length) bubble.append(el('div', 'sources', `Sources: ${sources.map((s) => s.title).join(' · ')}`));
    }
    if (event.type === 'clarification_requested') answerClarification(event);
    if (event.type === 'approval_requested') answerApproval(event);
    if (['orchestration_completed', 'run_cancelled', 'error'].includes(event.type)) finishRun(event);
  }

  function finishRun(event) {
    for (const bubble of state.bubbles.values()) bubble.classList.remove('typing');
    if (event.type === 'error') addMessage('error', event.data.message);
    if (event.type === 'run_cancelled') addMessage('error', 'Cancelled.');
    state.runId = null;
    $('cancel').disabled = true;
    $('send').disabled = false;
  }

  function answerClarification(event) {
    const answer = window.prompt(event.data.question, (event.data.choices || [])[0] || '');
    if (answer) state.socket.emit('run:respond', { runId: event.runId, requestId: event.data.requestId, response: answer }, logFailure);
  }

  function answerApproval(event) {
    const approved = window.confirm(`Approve: ${event.data.action}?`);
    state.socket.emit('run:respond', { runId: event.runId, requestId: event.data.requestId, response: { approved } }, logFailure);
  }

  function logFailure(ack) {
    if (ack && !ack.ok) addMessage('error', `${ack.error.code}: ${ack.error.message}`);
  }

  function connect(token) {
    const socket = window.io({ auth: { token } });
    state.socket = socket;
    socket.on('connect', () => setStatus('connecting…', false));
    socket.on('session:ready', () => {
      setStatus('online', true);
      // After a reconnect, fetch whatever happened while we were away.
      if (state.lastId !== '0') socket.emit('events:resume', { after: state.lastId }, logFailure);
    });
    socket.on('disconnect', () => setStatus('offline', false));
    socket.on('connect_error', (err) => setStatus(`cannot connect: ${(err.data && err.data.message) || err.message}`, false));
    socket.on('session:expired', () => setStatus('session expired: sign in again', false));
    socket.on('agent:event', onEvent);
  }

  $('login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const userId = $('user').value.trim();
    if (!userId) return;
    const res = await fetch('/v1/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      $('login-error').textContent = (body.error && body.error.message) || `HTTP ${res.status}`;
      $('login-error').classList.remove('hidden');
      return;
    }
    state.userId = userId;
    $('who').textContent = userId;
    $('login').classList.add('hidden');
    $('app').classList.remove('hidden');
    connect(body.token);
    $('content').focus();
  });

  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const content = $('content').value.trim();
    if (!content || !state.socket) return;
    const options = { traceLevel: $('trace').value, stream: $('stream').checked, onBusy: 'enqueue' };
    $('send').disabled = true;
    state.socket.timeout(15000).emit('chat:send', { conversationId: state.conversationId, content, options }, (err, ack) => {
      if (err || !ack.ok) {
        $('send').disabled = false;
        addMessage('error', err ? 'No answer from the server.' : `${ack.error.code}: ${ack.error.message}`);
        return;
      }
      addMessage('user', content);
      $('content').value = '';
      state.conversationId = ack.conversationId;
      state.runId = ack.runId;
      $('timeline').replaceChildren();
      $('progress').firstElementChild.style.width = '0';
      $('cancel').disabled = false;
      const early = state.early.filter((event) => event.runId === ack.runId);
      state.early = [];
      early.forEach(render);
    });
  });

  $('content').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });

  $('cancel').addEventListener('click', () => {
    if (state.runId) state.socket.emit('run:cancel', { runId: state.runId }, logFailure);
  });

  $('new-chat').addEventListener('click', () => {
    state.conversationId = 'new';
    state.bubbles.clear();
    $('messages').replaceChildren();
    $('timeline').replaceChildren();
  });
})();
