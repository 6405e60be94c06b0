#!/usr/bin/env node
'use strict';
// A deterministic SMSC for Bridgehead's SMS tests and benchmark, on npm
// `smpp` (node-smpp 0.5.1) as the SMPP server. README.md beside this file
// lists the options and the control commands.
//
// It checks system_id/password, answers enquire_link and unbind, gives
// submit_sm increasing message ids (decimal or hex), records every PDU of
// interest as a JSON line (submit_sm with its fields decoded from the wire),
// sends delivery receipts by destination number, can refuse the first N
// submits with ESME_RTHROTTLED, and takes commands on a line-based TCP
// control port: send an incoming SMS or a receipt, restart, change rules.
// Receipts and incoming SMS that find no bound receiver wait for the next
// bind, as an SMSC keeps them; one the ESME answers with a transient error
// (or not at all) is sent again, up to 5 times.

const fs = require('fs');
const net = require('net');
const smpp = require('smpp');
const msg = require('./messages');

// ------------------------------------------------------------------ options

function parseArgs(argv) {
  const o = {
    host: '127.0.0.1', port: Number(process.env.SMSC_PORT || 0), controlPort: 0,
    systemId: 'bridgehead', password: 'secret', tlsKey: '', tlsCert: '', records: '',
    ids: 'dec', receiptIds: '', idStart: 1, throttle: 0, throttleStatus: 0x58,
    receiptDefault: 'DELIVRD', receipts: {}, reject: {}, receiptDelay: 0, receiptTlvs: true,
    respondDelay: 0,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 2) {
    const a = argv[i];
    const v = need(i);
    switch (a) {
      case '--host': o.host = v; break;
      case '--port': o.port = Number(v); break;
      case '--control-port': o.controlPort = Number(v); break;
      case '--system-id': o.systemId = v; break;
      case '--password': o.password = v; break;
      case '--tls-key': o.tlsKey = v; break;
      case '--tls-cert': o.tlsCert = v; break;
      case '--records': o.records = v; break;
      case '--ids': o.ids = v; break;
      case '--receipt-ids': o.receiptIds = v; break;
      case '--id-start': o.idStart = Number(v); break;
      case '--throttle': o.throttle = Number(v); break;
      case '--throttle-status': o.throttleStatus = Number(v); break;
      case '--receipt-default': o.receiptDefault = v; break;
      case '--receipt': { const [n, s] = v.split('='); o.receipts[n.replace(/^\+/, '')] = s; break; }
      case '--reject': { const [n, s] = v.split('='); o.reject[n.replace(/^\+/, '')] = Number(s); break; }
      case '--receipt-delay': o.receiptDelay = Number(v); break;
      case '--receipt-tlvs': o.receiptTlvs = v !== 'no'; break;
      case '--respond-delay': o.respondDelay = Number(v); break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  if (!['dec', 'hex'].includes(o.ids)) throw new Error('--ids is dec or hex');
  o.receiptIds = o.receiptIds || o.ids;
  if (!['dec', 'hex'].includes(o.receiptIds)) throw new Error('--receipt-ids is dec or hex');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const out = opt.records ? fs.createWriteStream(opt.records, { flags: 'a' }) : null;
const t0 = Date.now();
function record(event, fields) {
  if (out) out.write(JSON.stringify({ t: Date.now() - t0, event, ...fields }) + '\n');
}

// node-smpp decodes short_message and keeps no bytes: keep the raw PDU
// (not enumerable, so that nothing re-encodes it).
const fromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, 'raw', { value: Buffer.from(buffer), enumerable: false });
  return fromBuffer.call(this, buffer);
};

// ------------------------------------------------------------------- state

let nextId = opt.idStart;
let throttleLeft = opt.throttle;
let sessionNo = 0;
let submits = 0;
let server = null;
const sessions = new Set();
const queued = []; // deliver_sm bodies waiting for a bound receiver
const submitted = new Map(); // message id -> { sub, at, session }

const formatId = (n, base) => (base === 'hex' ? n.toString(16).toUpperCase().padStart(8, '0') : String(n));
const canReceive = (s) => s.bound && s.bound !== 'bind_transmitter' && !s.closed;
const receivers = () => [...sessions].filter(canReceive);

// ------------------------------------------------------------ deliver_sm out

// Sends one deliver_sm (kind "receipt" or "mo") to `prefer` when it can
// receive, else to the first receiver, else keeps it for the next bind.
// done(status) gets the first answer (null: none within 10 s, or queued).
function deliver(item, prefer, done) {
  const target = prefer && canReceive(prefer) ? prefer : receivers()[0];
  if (!target) {
    queued.push(item);
    record('deliver_sm_queued', { kind: item.kind, message_id: item.messageId });
    if (done) done(null);
    return;
  }
  item.attempts = (item.attempts || 0) + 1;
  const pdu = new smpp.PDU('deliver_sm', { ...item.pdu });
  let answered = false;
  const timer = setTimeout(() => {
    if (answered) return;
    answered = true;
    target.inflight.delete(pdu.sequence_number);
    record('deliver_sm_timeout', { session: target.no, seq: pdu.sequence_number, kind: item.kind });
    retry(item);
    if (done) done(null);
  }, 10000);
  target.session.send(pdu, (resp) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    target.inflight.delete(pdu.sequence_number);
    record('deliver_sm_resp', { session: target.no, seq: pdu.sequence_number, kind: item.kind,
      message_id: item.messageId, status: resp.command_status, attempt: item.attempts });
    // ESME_RX_T_APPN (0x64) and ESME_RMSGQFUL (0x14) ask for it again later.
    if (resp.command_status === 0x64 || resp.command_status === 0x14) retry(item);
    if (done) done(resp.command_status);
  });
  // The session closing first: sent again at the next bind, no answer now.
  const lost = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    queued.push(item);
    record('deliver_sm_queued', { kind: item.kind, message_id: item.messageId, lost: true });
    if (done) done(null);
  };
  target.inflight.set(pdu.sequence_number, lost);
  record('deliver_sm', { session: target.no, seq: pdu.sequence_number, kind: item.kind,
    message_id: item.messageId, source_addr: item.pdu.source_addr,
    destination_addr: item.pdu.destination_addr, esm_class: item.pdu.esm_class,
    data_coding: item.pdu.data_coding, short_message: item.pdu.short_message.toString('hex'),
    attempt: item.attempts });
}

function retry(item) {
  if (item.attempts >= 5) {
    record('deliver_sm_given_up', { kind: item.kind, message_id: item.messageId });
    return;
  }
  setTimeout(() => deliver(item, null, null), 1000);
}

function flushQueued() {
  while (queued.length && receivers().length) deliver(queued.shift(), null, null);
}

function receiptFor(id, stat, err, tlvs) {
  const s = submitted.get(id);
  if (!s) throw new Error(`no submit with message id ${id}`);
  const receiptId = formatId(s.n, opt.receiptIds);
  const { pdu, text } = msg.receiptPdu({ id: receiptId, stat, err, sub: s.sub,
    tlvs: tlvs === undefined ? opt.receiptTlvs : tlvs, submitted: new Date(s.at),
    done: new Date() });
  return { item: { kind: 'receipt', messageId: receiptId, pdu }, text, session: s.session };
}

// ------------------------------------------------------------- SMPP server

const BIND_STATUS = { ESME_RINVBNDSTS: 0x04, ESME_RALYBND: 0x05, ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f, ESME_RINVCMDID: 0x03 };

function onSession(session) {
  const s = { no: ++sessionNo, session, bound: null, closed: false, inflight: new Map() };
  sessions.add(s);
  record('connect', { session: s.no, remote: session.socket.remotePort });
  session.on('error', (e) => record('error', { session: s.no, error: String(e.message || e) }));
  session.socket.on('close', () => {
    s.closed = true;
    sessions.delete(s);
    record('close', { session: s.no });
    // What the ESME never answered is sent again on the next bind.
    for (const lost of s.inflight.values()) lost();
    s.inflight.clear();
  });
  const answer = (pdu, fields) => {
    const send = () => !s.closed && session.send(pdu.response(fields));
    if (opt.respondDelay) setTimeout(send, opt.respondDelay); else send();
  };

  for (const mode of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(mode, (pdu) => {
      let status = 0;
      if (s.bound) status = BIND_STATUS.ESME_RALYBND;
      else if (pdu.system_id !== opt.systemId) status = BIND_STATUS.ESME_RINVSYSID;
      else if (pdu.password !== opt.password) status = BIND_STATUS.ESME_RINVPASWD;
      record('bind', { session: s.no, command: mode, system_id: pdu.system_id,
        system_type: pdu.system_type, interface_version: pdu.interface_version, status });
      session.send(pdu.response(status ? { command_status: status } : { system_id: 'testsmsc' }));
      if (!status) {
        s.bound = mode;
        flushQueued();
      }
    });
  }
  session.on('enquire_link', (pdu) => {
    record('enquire_link', { session: s.no });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    record('unbind', { session: s.no });
    session.send(pdu.response(), () => session.close());
  });
  session.on('submit_sm', (pdu) => onSubmit(s, pdu, answer));
  session.on('pdu', (pdu) => {
    const handled = ['bind_transceiver', 'bind_transmitter', 'bind_receiver', 'enquire_link',
      'unbind', 'submit_sm'];
    if (pdu.isResponse() || handled.includes(pdu.command)) return;
    record('unsupported', { session: s.no, command: pdu.command, command_id: pdu.command_id });
    session.send(pdu.command === 'unknown' ? pdu.response()
      : pdu.response({ command_status: BIND_STATUS.ESME_RINVCMDID }));
  });
}

function onSubmit(s, pdu, answer) {
  submits++;
  let fields;
  try {
    fields = msg.parseSubmit(pdu.raw);
  } catch (e) {
    record('submit_sm', { session: s.no, seq: pdu.sequence_number, status: 0x01, error: e.message });
    return answer(pdu, { command_status: 0x01 }); // ESME_RINVMSGLEN
  }
  const rec = { session: s.no, seq: pdu.sequence_number, ...fields };
  const dest = fields.destination_addr;
  let status = 0;
  if (s.bound !== 'bind_transceiver' && s.bound !== 'bind_transmitter') {
    status = BIND_STATUS.ESME_RINVBNDSTS;
  } else if (throttleLeft > 0) {
    throttleLeft--;
    status = opt.throttleStatus;
  } else if (opt.reject[dest] !== undefined) {
    status = opt.reject[dest];
  }
  if (status) {
    record('submit_sm', { ...rec, status, message_id: null });
    return answer(pdu, { command_status: status });
  }
  const n = nextId++;
  const id = formatId(n, opt.ids);
  submitted.set(id, { n, sub: fields, at: Date.now(), session: s });
  record('submit_sm', { ...rec, status: 0, message_id: id });
  answer(pdu, { message_id: id });

  const rule = opt.receipts[dest] || opt.receiptDefault;
  const [stat, err] = rule.split(':');
  const wanted = fields.registered_delivery & 0x03;
  if (stat === 'none' || !wanted || (wanted === 2 && stat === 'DELIVRD')) return;
  setTimeout(() => {
    const r = receiptFor(id, stat, err);
    deliver(r.item, r.session, null);
  }, opt.receiptDelay);
}

function listen(cb) {
  const tls = opt.tlsKey ? { key: fs.readFileSync(opt.tlsKey), cert: fs.readFileSync(opt.tlsCert) } : {};
  server = smpp.createServer(tls, onSession);
  server.on('error', (e) => {
    console.error(`smsc: ${e.message}`);
    process.exit(1);
  });
  server.listen(opt.port, opt.host, () => {
    opt.port = server.address().port;
    record('listening', { port: opt.port, tls: !!opt.tlsKey });
    cb();
  });
}

// Drops every session (without unbind, as a crashed SMSC does), closes the
// listener and listens again on the same port after downMs.
function restart(downMs, cb) {
  record('restart', { down_ms: downMs });
  for (const s of sessions) s.session.socket.destroy();
  server.close(() => setTimeout(() => listen(cb), downMs));
}

// ------------------------------------------------------------ control port

const commands = {
  ping: (c, reply) => reply({ port: opt.port }),
  stats: (c, reply) => reply({ submits, sessions: sessions.size,
    bound: [...sessions].filter((s) => s.bound).map((s) => s.bound), queued: queued.length,
    next_id: nextId, throttle_left: throttleLeft }),
  // Waits until `count` sessions are bound (default 1), at most timeout_ms.
  wait_bound: (c, reply) => {
    const want = c.count || 1;
    const until = Date.now() + (c.timeout_ms || 10000);
    const poll = () => {
      const n = [...sessions].filter((s) => s.bound && !s.closed).length;
      if (n >= want) return reply({ bound: n });
      if (Date.now() > until) return reply({ ok: false, error: `${n} of ${want} bound`, bound: n });
      setTimeout(poll, 20);
    };
    poll();
  },
  set: (c, reply) => {
    if (c.throttle !== undefined) throttleLeft = c.throttle;
    if (c.receipt_default !== undefined) opt.receiptDefault = c.receipt_default;
    if (c.receipt_delay !== undefined) opt.receiptDelay = c.receipt_delay;
    for (const [n, st] of Object.entries(c.receipts || {})) opt.receipts[n.replace(/^\+/, '')] = st;
    for (const [n, st] of Object.entries(c.reject || {})) opt.reject[n.replace(/^\+/, '')] = st;
    reply({});
  },
  // An incoming SMS (messages.js moPdus); `order` (1-based) sends the parts
  // in that order, leaving out those not named. Replies with each part's
  // deliver_sm_resp status (null: queued or unanswered).
  mo: (c, reply) => {
    const pdus = msg.moPdus(c);
    const order = c.order || pdus.map((_, i) => i + 1);
    const statuses = [];
    const next = (k) => {
      if (k >= order.length) return reply({ parts: pdus.length, statuses });
      deliver({ kind: 'mo', pdu: pdus[order[k] - 1] }, null, (st) => {
        statuses.push(st);
        next(k + 1);
      });
    };
    next(0);
  },
  // A receipt now for the submit with message id `id` (as submit_sm_resp
  // gave it): stat, err, tlvs (false: text only).
  receipt: (c, reply) => {
    const r = receiptFor(String(c.id), c.stat || 'DELIVRD', c.err, c.tlvs);
    deliver(r.item, r.session, (st) => reply({ status: st, text: r.text }));
  },
  restart: (c, reply) => restart(c.down_ms || 0, () => reply({ port: opt.port })),
  // Asks every bound ESME to unbind (an SMSC going down gracefully).
  unbind: (c, reply) => {
    for (const s of sessions) if (s.bound) s.session.unbind();
    reply({});
  },
  stop: (c, reply) => {
    reply({});
    setTimeout(() => process.exit(0), 50);
  },
};

function control(cb) {
  const srv = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const reply = (r) => sock.write(JSON.stringify({ ok: true, ...r }) + '\n');
        try {
          const c = JSON.parse(line);
          const fn = commands[c.cmd];
          if (!fn) throw new Error(`unknown command ${c.cmd}`);
          fn(c, reply);
        } catch (e) {
          sock.write(JSON.stringify({ ok: false, error: e.message }) + '\n');
        }
      }
    });
  });
  srv.listen(opt.controlPort, '127.0.0.1', () => cb(srv.address().port));
}

listen(() => control((controlPort) => {
  // The test reads this line to learn the ports (0 = any free one).
  process.stdout.write(`ready port=${opt.port} control=${controlPort} tls=${opt.tlsKey ? 1 : 0}\n`);
}));
process.on('SIGTERM', () => {
  if (out) out.end(() => process.exit(0)); else process.exit(0);
});
