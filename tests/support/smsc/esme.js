#!/usr/bin/env node
'use strict';
// A plain SMPP client (ESME) on npm `smpp` for bench/sms-submit: binds as a
// transceiver (as Bridgehead does; receipts are answered at once), submits
// --count short GSM texts keeping at most --window submit_sm outstanding,
// and prints one line with the rate. Only the submits are timed (from the
// first submit_sm to the last submit_sm_resp), the bind is not. Exit 0
// when every submit was answered with status 0.
//
//   node esme.js --port 2775 [--host 127.0.0.1] [--system-id bridgehead]
//                [--password secret] [--count 1000] [--window 10]
//                [--registered-delivery 0]

const smpp = require('smpp');

const o = { host: '127.0.0.1', port: 2775, systemId: 'bridgehead', password: 'secret',
  count: 1000, window: 10, registeredDelivery: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in o) || i + 1 >= argv.length) {
    console.error(`esme: bad option ${argv[i]}`);
    process.exit(2);
  }
  o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
}

const session = smpp.connect({ host: o.host, port: o.port });
session.on('error', (e) => {
  console.error(`esme: ${e.message}`);
  process.exit(1);
});
session.on('connect', () => {
  session.on('deliver_sm', (pdu) => session.send(pdu.response()));
  session.bind_transceiver({ system_id: o.systemId, password: o.password,
    interface_version: 0x34 }, (resp) => {
    if (resp.command_status !== 0) {
      console.error(`esme: bind refused, status ${resp.command_status}`);
      process.exit(1);
    }
    run();
  });
});

function run() {
  let sent = 0;
  let answered = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  const pump = () => {
    while (sent < o.count && sent - answered < o.window) {
      const n = ++sent;
      // Bytes and data_coding 0 given, so node-smpp's GSM detection (which
      // would send data_coding 1) does not apply: what the gateway sends.
      session.submit_sm({
        source_addr_ton: 1, source_addr_npi: 1, source_addr: '4915100000001',
        dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: `49170${String(n).padStart(7, '0')}`,
        registered_delivery: o.registeredDelivery, data_coding: 0,
        short_message: Buffer.from(`Benchmark message ${n}`, 'ascii'),
      }, (resp) => {
        answered++;
        if (resp.command_status !== 0) failed++;
        if (answered === o.count) return done();
        pump();
      });
    }
  };
  const done = () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`esme window=${o.window} submits=${o.count} failed=${failed} ` +
      `seconds=${seconds.toFixed(3)} rate=${(o.count / seconds).toFixed(1)}`);
    session.unbind(() => {
      session.close();
      process.exit(failed ? 3 : 0);
    });
  };
  pump();
}
