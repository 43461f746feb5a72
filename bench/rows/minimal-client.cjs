// The floor of a cold TypeScript client on this machine, for the cold row: a minimal client written for the
// purpose, doing what syncmanager/client does to a first result (the handshake both ways, `initialize` and
// `manager/describe`, `object/create`, `object/call` get) with node:net and node:crypto alone, and nothing else:
// no reconnection, no errors beyond a failed key, no values but what JSON gives. Compare it in one run with
//   npm run bench:rows -- --only cold --cold-also minimal=bench/rows/minimal-client.cjs
const net = require('node:net');
const crypto = require('node:crypto');

exports.connect = ({ address, authkey }) =>
  new Promise((resolve, reject) => {
    const colon = address.lastIndexOf(':');
    const key = Buffer.from(authkey);
    const socket = net.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), noDelay: true });
    socket.once('error', reject);
    let buffer = Buffer.alloc(0);
    let onBytes = () => {};
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      onBytes();
    });
    /** The next handshake frame: a 4-byte length, then that many bytes. */
    const frame = () =>
      new Promise((done) => {
        onBytes = () => {
          if (buffer.length < 4 || buffer.length < 4 + buffer.readInt32BE(0)) return;
          const n = buffer.readInt32BE(0);
          const payload = buffer.subarray(4, 4 + n);
          buffer = buffer.subarray(4 + n);
          done(payload);
        };
        onBytes();
      });
    const send = (payload) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(payload.length);
      socket.write(Buffer.concat([length, payload]));
    };
    const pending = new Map();
    let nextId = 0;
    const call = (method, params) =>
      new Promise((done) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method, params });
        pending.set(nextId, done);
        socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
    const readMessages = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.toString('latin1', 0, end))[1]);
        if (buffer.length < end + 4 + length) return;
        const message = JSON.parse(buffer.toString('utf8', end + 4, end + 4 + length));
        buffer = buffer.subarray(end + 4 + length);
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    };
    (async () => {
      await new Promise((done) => socket.once('connect', done));
      const challenge = (await frame()).subarray('#CHALLENGE#'.length);
      const digest = challenge.length === 20 ? 'md5' : /^\{(\w+)\}/.exec(challenge.toString('latin1'))[1];
      const mac = crypto.createHmac(digest, key).update(challenge).digest();
      send(challenge.length === 20 ? mac : Buffer.concat([Buffer.from(`{${digest}}`), mac]));
      if ((await frame()).toString('latin1') !== '#WELCOME#') throw new Error('the manager refused the key');
      const message = Buffer.concat([Buffer.from('{sha256}'), crypto.randomBytes(40)]);
      send(Buffer.concat([Buffer.from('#CHALLENGE#'), message]));
      const answer = await frame();
      if (!crypto.createHmac('sha256', key).update(message).digest().equals(answer.subarray('{sha256}'.length))) throw new Error('the manager does not hold the key');
      send(Buffer.from('#WELCOME#'));
      onBytes = readMessages;
      const initialized = call('initialize', { protocolVersion: '1.3', clientInfo: { name: 'minimal' } });
      await Promise.all([initialized, call('manager/describe', {})]);
      resolve({
        create: async (typeid) => {
          const token = await call('object/create', { typeid, args: [], kwargs: {} });
          return { get: () => call('object/call', { id: token.id, method: 'get', args: [] }) };
        },
      });
    })().catch(reject);
  });
