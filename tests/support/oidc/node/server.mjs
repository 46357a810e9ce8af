// An in-memory OpenID Provider (panva oidc-provider) for hubd's authenticator tests.
//
//   OIDC_PORT=0 HUB_REDIRECT_URI=http://127.0.0.1:8000/hub/oauth_callback node server.mjs DIR
//
// Binds 127.0.0.1 only. Once it answers, DIR/issuer holds the issuer (also printed on stdout) and
// DIR/pid its PID. OIDC_PORT=0 takes any free port: the issuer carries the one bound.
// The README next to this folder lists the knobs, the users and the test hooks.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import Provider from 'oidc-provider';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node server.mjs DIR');
  process.exit(2);
}

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) {
    console.error(`${name} must be a whole number of seconds, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return Number(raw);
}

function envFlag(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== '0' && raw !== '1') {
    console.error(`${name} must be 0 or 1, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return raw === '1';
}

const port = envInt('OIDC_PORT', 0);
const accessTtl = envInt('OIDC_AT_TTL', 60);
const refreshTtl = envInt('OIDC_RT_TTL', 3600);
// The library's default of 15 s would keep an "expired" access token alive that much longer.
const clockTolerance = envInt('OIDC_CLOCK_TOLERANCE', 0);
const preconsent = envFlag('OIDC_PRECONSENT', true);
const rotateRefresh = envFlag('OIDC_RT_ROTATE', false);
const signingAlg = process.env.OIDC_SIGNING_ALG || 'RS256';
if (signingAlg !== 'RS256' && signingAlg !== 'ES256') {
  console.error(`OIDC_SIGNING_ALG must be RS256 or ES256, got ${JSON.stringify(signingAlg)}`);
  process.exit(2);
}
let redirectUris = (process.env.HUB_REDIRECT_URI || 'http://127.0.0.1:8000/hub/oauth_callback')
  .split(',').map((u) => u.trim()).filter(Boolean);

const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];

const users = new Map();
function putUser(name, { password, groups, disabled } = {}) {
  const old = users.get(name) || {
    password: `${name}-pw`, groups: [], disabled: false,
  };
  users.set(name, {
    password: password ?? old.password,
    groups: groups ?? old.groups,
    disabled: disabled ?? old.disabled,
  });
}
putUser('alice', { password: 'alice-pw', groups: ['hub-users', 'hub-admins'] });
putUser('bob', { password: 'bob-pw', groups: ['hub-users'] });

function liveUser(name) {
  const u = users.get(name);
  return u && !u.disabled ? u : undefined;
}

function passwordMatches(expected, given) {
  const a = Buffer.from(String(expected));
  const b = Buffer.from(String(given));
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function newSigningKey() {
  const { privateKey } = signingAlg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    ...jwk, alg: signingAlg, use: 'sig', kid: crypto.randomBytes(12).toString('base64url'),
  };
}

// One store for every provider instance this process makes (a key rotation or a redirect-URI change
// makes a new one), so sessions, grants and tokens outlive the swap. The library's memory adapter
// keeps a store per instance and drops entries beyond 1000.
const store = new Map();
const grantMembers = new Map();
const now = () => Date.now();

function storeSet(key, value, expiresIn) {
  // Kept clockTolerance longer than the TTL: the library itself decides, with the tolerance, when
  // a token has expired.
  const expiresAt = typeof expiresIn === 'number' ? now() + (expiresIn + clockTolerance) * 1000 : Infinity;
  store.set(key, { value, expiresAt });
}

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

class TestAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storeSet(key, payload, expiresIn);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) || []) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// Which grants each user has, so a test hook can revoke them all (the store has no such index).
const grantsByAccount = new Map();

// The cookie keys outlive a key rotation, so sessions and interactions in flight stay valid.
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function makeProvider(issuer, signingKey) {
  const provider = new Provider(issuer, {
    adapter: TestAdapter,
    clients: [{
      client_id: 'hub-client',
      client_secret: 'hub-secret',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signingAlg,
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Put the user claims into the id_token too (the default keeps them to userinfo), as Keycloak
    // and Glewlwyd do: an authenticator reads the username and groups from it.
    conformIdTokenClaims: false,
    clockTolerance,
    async findAccount(_ctx, sub) {
      // A disabled or deleted user makes the next refresh fail with invalid_grant.
      const user = liveUser(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: sub.charAt(0).toUpperCase() + sub.slice(1),
            preferred_username: sub,
            email: `${sub}@example.test`,
            email_verified: true,
            groups: [...user.groups],
          };
        },
      };
    },
    // Every code grant gets a refresh token, without offline_access or a consent prompt for it.
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    rotateRefreshToken: () => rotateRefresh,
    // Tokens live by their TTLs, not by the provider's browser session.
    expiresWithSession: async () => false,
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      if (!preconsent) return undefined;
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    pkce: { required: () => false },
    ttl: {
      AccessToken: accessTtl,
      IdToken: accessTtl,
      RefreshToken: refreshTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 86400,
      Grant: Math.max(refreshTtl, 86400),
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  provider.on('grant.saved', (grant) => {
    if (!grantsByAccount.has(grant.accountId)) grantsByAccount.set(grant.accountId, new Set());
    grantsByAccount.get(grant.accountId).add(grant.jti);
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  // The answers say only "grant request is invalid"; the reason goes to the log for whoever debugs.
  for (const event of ['grant.error', 'authorization.error', 'userinfo.error', 'revocation.error']) {
    provider.on(event, (_ctx, err) => console.error(`${event}: ${err.error} (${err.error_detail || err.error_description})`));
  }
  return provider;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>`
    + `<body><h1>${esc(title)}</h1>${body}</body></html>`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(html),
  });
  res.end(html);
}

function loginForm(res, status, uid, message) {
  page(res, status, 'Sign in', `${message ? `<p class="error">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Login <input name="login" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`);
}

function consentForm(res, uid, details) {
  const scopes = details.prompt.details.missingOIDCScope || [];
  page(res, 200, 'Authorize', `<p>${esc(details.params.client_id)} asks for: ${esc(scopes.join(' '))}</p>
<form method="post" action="/interaction/${esc(uid)}/confirm">
<button type="submit" name="confirm" value="yes">Allow</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<button type="submit">Deny</button>
</form>`);
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const MAX_BODY = 64 * 1024;
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let provider;
let handle;
let signingKey;
let issuer;

function useProvider(p) {
  provider = p;
  handle = p.callback();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    json(res, 400, { status: 400, message: 'interaction does not match the cookie' });
    return;
  }
  const prompt = details.prompt.name;
  if (req.method === 'GET' && !action) {
    if (prompt === 'login') loginForm(res, 200, uid);
    else consentForm(res, uid, details);
    return;
  }
  if (req.method !== 'POST') {
    json(res, 405, { status: 405, message: 'method not allowed' });
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  if (action === 'login' && prompt === 'login') {
    const name = form.get('login') || '';
    const user = liveUser(name);
    if (!user || !passwordMatches(user.password, form.get('password') || '')) {
      loginForm(res, 401, uid, 'Invalid login or password.');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: name } }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm' && prompt === 'consent') {
    const { grantId, session, params } = details;
    const promptDetails = details.prompt.details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const saved = await grant.save();
    const consent = grantId ? {} : { grantId: saved };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the user denied access',
    }, { mergeWithLastSubmission: false });
    return;
  }
  json(res, 400, { status: 400, message: `no ${action} step in the ${prompt} prompt` });
}

async function testHook(req, res, rest) {
  if (req.method !== 'POST') {
    json(res, 405, { status: 405, message: 'test hooks take POST' });
    return;
  }
  const body = await readBody(req);
  if (rest === 'rotate_keys') {
    // A fresh provider with only the new key: the old kid leaves the JWKS at once. Grants, sessions
    // and tokens carry over in the shared store.
    signingKey = newSigningKey();
    useProvider(makeProvider(issuer, signingKey));
    json(res, 200, { kid: signingKey.kid });
    return;
  }
  if (rest === 'client') {
    let change;
    try {
      change = JSON.parse(body);
    } catch {
      json(res, 400, { status: 400, message: 'the body is not JSON' });
      return;
    }
    const uris = change?.redirect_uris;
    if (!Array.isArray(uris) || !uris.length || !uris.every((u) => typeof u === 'string')) {
      json(res, 400, { status: 400, message: 'redirect_uris must be a non-empty list of strings' });
      return;
    }
    // The client is static configuration: a new provider instance takes the new list.
    redirectUris = uris;
    useProvider(makeProvider(issuer, signingKey));
    json(res, 200, { redirect_uris: redirectUris });
    return;
  }
  const revoke = /^users\/([A-Za-z0-9._-]{1,64})\/revoke_tokens$/.exec(rest);
  if (revoke) {
    // Dropping the grant kills its refresh and access tokens: the next refresh is invalid_grant.
    const ids = grantsByAccount.get(revoke[1]) || new Set();
    const adapter = new TestAdapter('Grant');
    for (const id of ids) {
      await adapter.revokeByGrantId(id);
      await adapter.destroy(id);
    }
    grantsByAccount.delete(revoke[1]);
    json(res, 200, { name: revoke[1], revoked_grants: ids.size });
    return;
  }
  const m = /^users\/([A-Za-z0-9._-]{1,64})$/.exec(rest);
  if (!m) {
    json(res, 404, { status: 404, message: `no test hook ${rest}` });
    return;
  }
  let change;
  try {
    change = body ? JSON.parse(body) : {};
  } catch {
    json(res, 400, { status: 400, message: 'the body is not JSON' });
    return;
  }
  const known = new Set(['groups', 'disabled', 'password']);
  const unknown = Object.keys(change).filter((k) => !known.has(k));
  if (unknown.length) {
    json(res, 400, { status: 400, message: `unknown keys: ${unknown.join(', ')}` });
    return;
  }
  if (change.groups !== undefined && !(Array.isArray(change.groups) && change.groups.every((g) => typeof g === 'string'))) {
    json(res, 400, { status: 400, message: 'groups must be a list of strings' });
    return;
  }
  if (change.disabled !== undefined && typeof change.disabled !== 'boolean') {
    json(res, 400, { status: 400, message: 'disabled must be true or false' });
    return;
  }
  if (change.password !== undefined && typeof change.password !== 'string') {
    json(res, 400, { status: 400, message: 'password must be a string' });
    return;
  }
  putUser(m[1], change);
  const u = users.get(m[1]);
  json(res, 200, { name: m[1], groups: u.groups, disabled: u.disabled });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const im = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/.exec(url.pathname);
    if (im) {
      await interaction(req, res, im[1], im[2]);
      return;
    }
    if (url.pathname.startsWith('/_test/')) {
      await testHook(req, res, url.pathname.slice('/_test/'.length));
      return;
    }
    handle(req, res);
  } catch (err) {
    const status = err.status || err.statusCode || 500;
    if (!res.headersSent) json(res, status, { status, message: err.error_description || err.message });
    else res.destroy();
  }
});
server.requestTimeout = 30000;
server.headersTimeout = 10000;

server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  signingKey = newSigningKey();
  useProvider(makeProvider(issuer, signingKey));
  fs.writeFileSync(path.join(dir, 'pid'), `${process.pid}\n`);
  fs.writeFileSync(path.join(dir, 'issuer.tmp'), `${issuer}\n`);
  // Renamed into place so a reader never sees half a line.
  fs.renameSync(path.join(dir, 'issuer.tmp'), path.join(dir, 'issuer'));
  console.log(issuer);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
