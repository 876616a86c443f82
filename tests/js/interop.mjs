// A matrix-js-sdk client with Element's rust crypto, as an independent second implementation
// for the interop tests (tests/integration/test_js_interop.py).
//
// It logs in, bootstraps cross-signing (password auth), optionally turns on "exclude
// insecure devices" (OnlySignedDevicesIsolationMode, MSC4153), creates an encrypted room,
// invites PEER, sends MESSAGE once PEER has joined, and waits for PEER's encrypted answer.
// Every step is one JSON line on stdout; the last is {"event":"done","ok":...}.
//
// Environment: HOMESERVER, USER_ID, PASSWORD, PEER, MESSAGE, EXPECT (text the answer holds),
// STRICT ("1" for OnlySignedDevicesIsolationMode), TIMEOUT_MS (each setup step, default
// 60000), ANSWER_TIMEOUT_MS (how long to wait for the answer, default 30000).

// matrix-js-sdk 43 declares Node >= 22; this is all it needs from it on Node 20.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// Stdout carries only this script's JSON lines: the SDK's own chatter goes to stderr.
for (const level of ["log", "info", "debug", "trace"]) {
  console[level] = (...args) => console.error(...args);
}

const sdk = await import("matrix-js-sdk");
const { OnlySignedDevicesIsolationMode } = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");

logger.setLevel("warn");

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

const config = {
  homeserver: env("HOMESERVER"),
  userId: env("USER_ID"),
  password: env("PASSWORD"),
  peer: env("PEER"),
  message: env("MESSAGE", "!ping"),
  expect: env("EXPECT", "Pong"),
  strict: env("STRICT", "1") === "1",
  timeoutMs: Number(env("TIMEOUT_MS", "60000")),
  answerMs: Number(env("ANSWER_TIMEOUT_MS", "30000")),
};

const say = (event, fields = {}) => {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, check, timeoutMs = config.timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(200);
  }
}

async function login() {
  const bare = sdk.createClient({ baseUrl: config.homeserver });
  const answer = await bare.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: config.userId },
    password: config.password,
    initial_device_display_name: "js-sdk interop",
  });
  const client = sdk.createClient({
    baseUrl: config.homeserver,
    userId: answer.user_id,
    deviceId: answer.device_id,
    accessToken: answer.access_token,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  return client;
}

async function startSyncing(client) {
  const ready = new Promise((resolve) => {
    client.on(sdk.ClientEvent.Sync, (state) => {
      if (state === "PREPARED" || state === "SYNCING") {
        resolve();
      }
    });
  });
  await client.startClient({ initialSyncLimit: 20 });
  await ready;
}

async function bootstrapCrossSigning(client) {
  const crypto = client.getCrypto();
  await crypto.bootstrapCrossSigning({
    setupNewCrossSigning: true,
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await makeRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: config.userId },
        password: config.password,
      });
    },
  });
  const own = await crypto.getDeviceVerificationStatus(client.getUserId(), client.getDeviceId());
  say("cross_signing", { ready: await crypto.isCrossSigningReady(), own_signed: own?.signedByOwner });
  if (config.strict) {
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  }
  say("isolation", { strict: config.strict });
}

async function encryptedRoomWithPeer(client) {
  const { room_id: roomId } = await client.createRoom({
    invite: [config.peer],
    initial_state: [
      {
        type: "m.room.encryption",
        state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2" },
      },
    ],
  });
  say("room", { room_id: roomId });
  await until("the peer to join", () => {
    const member = client.getRoom(roomId)?.getMember(config.peer);
    return member?.membership === "join";
  });
  await until("encryption in the room", () => client.getCrypto().isEncryptionEnabledInRoom(roomId));
  say("peer_joined");
  return roomId;
}

async function describePeerDevices(client) {
  const crypto = client.getCrypto();
  const devices = await crypto.getUserDeviceInfo([config.peer], true);
  const found = [];
  for (const deviceId of devices.get(config.peer)?.keys() ?? []) {
    const status = await crypto.getDeviceVerificationStatus(config.peer, deviceId);
    found.push({ device_id: deviceId, signed_by_owner: Boolean(status?.signedByOwner) });
  }
  say("peer_devices", { devices: found });
}

function watchAnswers(client, roomId) {
  // event id -> latest outcome: a failure may still turn into a success when a key arrives.
  const answers = new Map();
  const consider = (event) => {
    if (event.getRoomId() !== roomId || event.getSender() !== config.peer) {
      return;
    }
    if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) {
      return; // Decrypted (or failed) fires later.
    }
    const id = event.getId();
    if (answers.get(id)?.ok) {
      return;
    }
    if (event.isDecryptionFailure()) {
      const reason = event.decryptionFailureReason;
      say("undecryptable", { event_id: id, reason });
      answers.set(id, { ok: false, reason });
      return;
    }
    if (event.getType() !== "m.room.message") {
      return;
    }
    const content = event.getContent();
    say("answer", {
      event_id: id,
      encrypted: event.isEncrypted(),
      body: content.body,
      in_reply_to: content["m.relates_to"]?.event_id ?? null,
    });
    answers.set(id, { ok: true, content, encrypted: event.isEncrypted() });
  };
  client.on(sdk.RoomEvent.Timeline, (event) => consider(event));
  client.on(sdk.MatrixEventEvent.Decrypted, (event) => consider(event));
  return answers;
}

async function main() {
  const client = await login();
  say("logged_in", { device_id: client.getDeviceId() });
  await startSyncing(client);
  await bootstrapCrossSigning(client);
  const roomId = await encryptedRoomWithPeer(client);
  await describePeerDevices(client);
  const answers = watchAnswers(client, roomId);
  let sentId = null;
  try {
    const sent = await client.sendTextMessage(roomId, config.message);
    sentId = sent.event_id;
    say("sent", { event_id: sentId });
  } catch (error) {
    // In strict mode an unsigned peer device makes sending fail or skip it; both are results.
    say("send_failed", { error: String(error?.message ?? error) });
  }
  const expected = (a) => a.ok && a.encrypted && (a.content.body ?? "").includes(config.expect);
  let ok = false;
  try {
    await until("the peer's answer", () => [...answers.values()].some(expected), config.answerMs);
    ok = true;
  } catch (error) {
    say("timeout", { error: String(error.message) });
  }
  say("done", { ok, sent_event_id: sentId });
  client.stopClient();
  await client.getCrypto()?.stop?.();
}

try {
  await main();
  process.exit(0);
} catch (error) {
  say("error", { error: String(error?.stack ?? error) });
  process.exit(1);
}
