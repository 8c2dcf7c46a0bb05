// Verifies, with the real clients, what a TCP probe cannot: NATS has JetStream enabled,
// Redis answers PING, PostgreSQL accepts the DATABASE_URL's user. Exits non-zero with a
// message naming the variable to fix.
const { connect } = require('nats');
const IORedis = require('ioredis');
const { Client } = require('pg');

const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/herald';

/** The services' NATS credentials, when set (a development NATS usually has none). */
function natsAuth() {
  const { NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS } = process.env;
  if (NATS_CREDS) return { authenticator: require('nats').credsAuthenticator(require('node:fs').readFileSync(NATS_CREDS)) };
  if (NATS_TOKEN) return { token: NATS_TOKEN };
  // The inbox prefix of natsInboxPrefix (libs/messaging/src/nats.ts): this runs before the build.
  if (NATS_USER) return { user: NATS_USER, pass: NATS_PASSWORD, inboxPrefix: `_INBOX_${NATS_USER.replace(/[^\w-]/g, '_')}` };
  return {};
}

async function checkNats() {
  let nc;
  try {
    nc = await connect({ servers: NATS_URL.split(','), timeout: 3000, ...natsAuth() });
  } catch (err) {
    if (/authorization violation/i.test(err.message)) {
      throw new Error(`NATS at ${NATS_URL} refuses the credentials (NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS): ${err.message}`);
    }
    throw err;
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout: 3000 });
    await jsm.getAccountInfo();
  } catch (err) {
    throw new Error(`NATS at ${NATS_URL} has no JetStream (start nats-server with -js): ${err.message}`);
  } finally {
    await nc.close();
  }
}

async function checkRedis() {
  const redis = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at REDIS_URL does not answer: ${err.message}`);
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres() {
  const url = new URL(DATABASE_URL);
  url.pathname = '/postgres'; // the database itself may not exist yet: db:migrate creates it
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL (DATABASE_URL) refuses the connection: ${err.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

Promise.all([checkNats(), checkRedis(), checkPostgres()])
  .then(() => console.log('\x1b[1;36m[herald]\x1b[0m NATS (JetStream), Redis and PostgreSQL are ready'))
  .catch((err) => {
    console.error(`\x1b[1;31m[herald]\x1b[0m ${err.message}`);
    process.exit(1);
  });
