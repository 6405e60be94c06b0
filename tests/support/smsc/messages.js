'use strict';
// What the test SMSC (smsc.js) reads and writes besides node-smpp's own
// codec: the submit_sm body parsed from the raw PDU (node-smpp decodes the
// text by data_coding and drops the bytes, so the records take them from
// the wire), receipt texts, and incoming SMS (MO) built as bytes with their
// concatenation (UDH 8/16-bit reference, SAR TLVs or message_payload).
//
// Encodings are done here, not by node-smpp: its automatic detection sends
// GSM 03.38 text with data_coding 0x01 (IA5) and turns characters it cannot
// encode into spaces, which a test could not tell from the gateway's bugs.

const smpp = require('smpp');

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table: character -> the septet after ESC (0x1B).
const GSM_EXTENSION = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f,
  '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };
const GSM_EXTENSION_DECODE = Object.fromEntries(
  Object.entries(GSM_EXTENSION).map(([c, v]) => [v, c]));

// GSM 03.38 text as septets, one per octet (unpacked); null when a
// character is in neither table.
function gsmEncode(text) {
  const out = [];
  for (const ch of text) {
    const basic = GSM_BASIC.indexOf(ch);
    if (basic >= 0 && ch !== '\x1b') out.push(basic);
    else if (ch in GSM_EXTENSION) out.push(0x1b, GSM_EXTENSION[ch]);
    else return null;
  }
  return Buffer.from(out);
}

function gsmDecode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] & 0x7f;
    if (b === 0x1b && i + 1 < bytes.length) {
      out += GSM_EXTENSION_DECODE[bytes[++i]] || ' ';
    } else {
      out += GSM_BASIC[b];
    }
  }
  return out;
}

function ucs2Encode(text) {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1], le[i]];
  return le;
}

function ucs2Decode(bytes) {
  const le = Buffer.from(bytes.subarray(0, bytes.length & ~1));
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1], le[i]];
  return le.toString('utf16le');
}

// The text of a short_message as data_coding says (for the records and the
// receipt's text: field; the tests compare bytes, not this).
function decodeText(bytes, dataCoding) {
  switch (dataCoding & 0x0f) {
    case 0x08: return ucs2Decode(bytes);
    case 0x03: return bytes.toString('latin1');
    case 0x01: return bytes.toString('ascii');
    case 0x00: return gsmDecode(bytes);
    default: return bytes.toString('hex');
  }
}

// --------------------------------------------------------------- submit_sm

function cstring(buf, at) {
  let end = at;
  while (end < buf.length && buf[end] !== 0) end++;
  if (end >= buf.length) throw new Error('C-Octet string without its NUL');
  return [buf.toString('latin1', at, end), end + 1];
}

// Every field of a submit_sm from its raw bytes (header included), TLVs
// as { "0x020c": "hex", ... }; throws on a truncated body.
function parseSubmit(raw) {
  const f = {};
  let at = 16;
  const str = (name) => { [f[name], at] = cstring(raw, at); };
  const u8 = (name) => {
    if (at >= raw.length) throw new Error(`submit_sm ends before ${name}`);
    f[name] = raw[at++];
  };
  str('service_type');
  u8('source_addr_ton'); u8('source_addr_npi'); str('source_addr');
  u8('dest_addr_ton'); u8('dest_addr_npi'); str('destination_addr');
  u8('esm_class'); u8('protocol_id'); u8('priority_flag');
  str('schedule_delivery_time'); str('validity_period');
  u8('registered_delivery'); u8('replace_if_present_flag'); u8('data_coding');
  u8('sm_default_msg_id'); u8('sm_length');
  if (at + f.sm_length > raw.length) throw new Error('short_message longer than the PDU');
  const sm = raw.subarray(at, at + f.sm_length);
  at += f.sm_length;
  f.tlvs = {};
  while (at + 4 <= raw.length) {
    const tag = raw.readUInt16BE(at);
    const len = raw.readUInt16BE(at + 2);
    if (at + 4 + len > raw.length) throw new Error(`TLV 0x${tag.toString(16)} truncated`);
    f.tlvs['0x' + tag.toString(16).padStart(4, '0')] = raw.toString('hex', at + 4, at + 4 + len);
    at += 4 + len;
  }
  f.short_message = sm.toString('hex');
  let body = sm;
  f.udh = null;
  if ((f.esm_class & 0x40) && sm.length > 0 && sm[0] + 1 <= sm.length) {
    f.udh = sm.toString('hex', 0, sm[0] + 1);
    body = sm.subarray(sm[0] + 1);
  }
  const payload = f.tlvs['0x0424'];
  if (sm.length === 0 && payload !== undefined) body = Buffer.from(payload, 'hex');
  f.text = decodeText(body, f.data_coding);
  return f;
}

// ------------------------------------------------------------------ receipts

const STATES = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6,
  UNKNOWN: 7, REJECTD: 8 };

function smppDate(date) {
  const p = (n) => String(n).padStart(2, '0');
  return p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) +
    p(date.getUTCHours()) + p(date.getUTCMinutes());
}

// The deliver_sm of a receipt (spec Appendix B text, and the TLVs unless
// tlvs is false) for the submit `sub` (parseSubmit's fields).
function receiptPdu({ id, stat, err, sub, tlvs, submitted, done }) {
  const state = STATES[stat];
  if (!state) throw new Error(`unknown stat ${stat}`);
  const error = err || (stat === 'DELIVRD' ? '000' : '001');
  // The first 20 characters of the message, kept to what reads the same in
  // ASCII and GSM 03.38 (the receipt goes out with data_coding 0).
  const text = (sub.text || '').slice(0, 20).replace(/[^A-Za-z0-9 .,:;!?()+\-/']/g, '.');
  const body = `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} ` +
    `submit date:${smppDate(submitted)} done date:${smppDate(done)} stat:${stat} ` +
    `err:${error} text:${text}`;
  const pdu = {
    source_addr_ton: sub.dest_addr_ton, source_addr_npi: sub.dest_addr_npi,
    source_addr: sub.destination_addr, dest_addr_ton: sub.source_addr_ton,
    dest_addr_npi: sub.source_addr_npi, destination_addr: sub.source_addr,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT, data_coding: 0,
    short_message: Buffer.from(body, 'ascii'),
  };
  if (tlvs !== false) {
    pdu.receipted_message_id = id;
    pdu.message_state = state;
    if (stat !== 'DELIVRD') {
      // network_error_code: type 3 (GSM), then the error as a 16-bit code.
      const code = parseInt(error, 10) || 0;
      pdu.network_error_code = Buffer.from([3, code >> 8, code & 0xff]);
    }
  }
  return { pdu, text: body };
}

// -------------------------------------------------------------- incoming SMS

// Splits `units` (an array of encoded characters, each a Buffer) into parts
// of at most `room` octets without splitting a character.
function splitUnits(units, room) {
  const parts = [];
  let cur = [];
  let size = 0;
  for (const u of units) {
    if (size + u.length > room && cur.length) {
      parts.push(Buffer.concat(cur));
      cur = [];
      size = 0;
    }
    cur.push(u);
    size += u.length;
  }
  if (cur.length || !parts.length) parts.push(Buffer.concat(cur));
  return parts;
}

// The encoded characters of text: GSM septets (an extension character is
// ESC + septet, never split), UCS-2 code units (a surrogate pair stays one
// unit), Latin-1 octets.
function encodeUnits(text, coding) {
  const units = [];
  for (const ch of text) {
    let b;
    if (coding === 'gsm') b = gsmEncode(ch);
    else if (coding === 'ucs2') b = ucs2Encode(ch);
    else if (coding === 'latin1' || coding === 'ascii') {
      b = Buffer.from(ch, 'latin1');
      if (b.toString('latin1') !== ch) b = null;
    } else throw new Error(`unknown coding ${coding}`);
    if (!b) throw new Error(`${JSON.stringify(ch)} cannot be written in ${coding}`);
    units.push(b);
  }
  return units;
}

const DATA_CODING = { gsm: 0x00, ascii: 0x01, latin1: 0x03, ucs2: 0x08 };

// The deliver_sm bodies of one incoming SMS. o: source, destination, text,
// coding (gsm|ucs2|latin1|ascii), concat (none|udh8|udh16|sar|payload),
// ref (the concatenation reference), parts (force this many parts: the text
// is cut evenly), source_ton/npi (default 1/1; an alphanumeric source: 5/0).
function moPdus(o) {
  const coding = o.coding || 'gsm';
  const units = encodeUnits(o.text || '', coding);
  const concat = o.concat || 'none';
  const ref = o.ref === undefined ? 0x42 : o.ref;
  const base = {
    source_addr_ton: o.source_ton === undefined ? 1 : o.source_ton,
    source_addr_npi: o.source_npi === undefined ? 1 : o.source_npi,
    source_addr: String(o.source || '').replace(/^\+/, ''),
    dest_addr_ton: 1, dest_addr_npi: 1,
    destination_addr: String(o.destination || '').replace(/^\+/, ''),
    esm_class: 0, data_coding: o.data_coding === undefined ? DATA_CODING[coding] : o.data_coding,
  };
  if (concat === 'payload') {
    return [{ ...base, short_message: Buffer.alloc(0), message_payload: Buffer.concat(units) }];
  }
  // What one SMS holds after the concatenation header: 140 octets, i.e. 160
  // septets, which SMPP carries one an octet (the 6- or 7-octet UDH costs 7 or
  // 8 septets); a SAR part is cut as the handset will get it, with a UDH.
  const room = coding === 'gsm'
    ? { none: 160, udh8: 153, udh16: 152, sar: 153 }[concat]
    : { none: 140, udh8: 134, udh16: 133, sar: 134 }[concat];
  if (room === undefined) throw new Error(`unknown concat ${concat}`);
  let bodies;
  if (o.parts) {
    const per = Math.ceil(units.length / o.parts);
    bodies = [];
    for (let i = 0; i < o.parts; i++) bodies.push(Buffer.concat(units.slice(i * per, (i + 1) * per)));
  } else {
    bodies = splitUnits(units, room);
  }
  if (concat === 'none') {
    if (bodies.length !== 1) throw new Error('text too long for one SMS without concat');
    return [{ ...base, short_message: bodies[0] }];
  }
  const total = bodies.length;
  return bodies.map((body, i) => {
    const seq = i + 1;
    if (concat === 'sar') {
      return { ...base, short_message: body, sar_msg_ref_num: ref & 0xffff,
        sar_total_segments: total, sar_segment_seqnum: seq };
    }
    const udh = concat === 'udh8'
      ? Buffer.from([5, 0x00, 3, ref & 0xff, total, seq])
      : Buffer.from([6, 0x08, 4, (ref >> 8) & 0xff, ref & 0xff, total, seq]);
    return { ...base, esm_class: 0x40, short_message: Buffer.concat([udh, body]) };
  });
}

module.exports = { gsmEncode, gsmDecode, ucs2Encode, ucs2Decode, decodeText, parseSubmit,
  receiptPdu, moPdus, STATES };
