// Test OpenID Connect provider built on panva/oidc-provider (v9).
//
//   node provider.mjs PORT REDIRECT_URI [MORE_REDIRECT_URIS...]
//
// PORT may be 0 (an ephemeral port is chosen; the "listening on" line tells which). After it,
// stdout has a line "refreshed ACCOUNT" for each refresh grant honoured, "refresh-refused
// ACCOUNT" for each refused.
// Env:
//   USERS_FILE        users JSON (default: users.json next to this script); re-read on every lookup
//   CLIENT_ID         default "personal-tokens"
//   CLIENT_SECRET     default "test-secret"
//   POST_LOGOUT_REDIRECT_URIS  comma separated, optional
//   SSO_SESSIONS=1    keep normal SSO behaviour (an existing provider session skips the login form).
//                     Default: every /auth request shows the login form and each login starts a
//                     fresh provider session (deterministic for tests, switching users is safe).
//   STRICT_OFFLINE_ACCESS=1   spec behaviour: offline_access (=> refresh token) only honoured when the
//                     request carries prompt=consent. Default: GET /auth requests asking for
//                     offline_access get "consent" appended to prompt (no consent page is ever shown).
//   ROTATE_REFRESH_TOKENS=1   issue a new refresh token on each refresh grant (old one is consumed).
//                     Default: no rotation, the same refresh token value is returned again.
//   ACCESS_TOKEN_TTL, ID_TOKEN_TTL, REFRESH_TOKEN_TTL, SESSION_TTL   seconds (defaults 3600/3600/14d/14d)
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { interactionPolicy } from 'oidc-provider';

const [portArg, ...redirectUris] = process.argv.slice(2);
if (portArg === undefined || redirectUris.length === 0) {
  console.error('usage: node provider.mjs PORT REDIRECT_URI [REDIRECT_URI...]');
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const USERS_FILE = path.resolve(process.env.USERS_FILE || path.join(here, 'users.json'));
const CLIENT_ID = process.env.CLIENT_ID || 'personal-tokens';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'test-secret';
const SSO_SESSIONS = process.env.SSO_SESSIONS === '1';
const ROTATE = process.env.ROTATE_REFRESH_TOKENS === '1';
const STRICT_OFFLINE_ACCESS = process.env.STRICT_OFFLINE_ACCESS === '1';
const ttlEnv = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt);

// ---- users ---------------------------------------------------------------
function readUsers() {
  try {
    return JSON.parse(fs.readFileSync(USERS_FILE, 'utf8'));
  } catch (err) {
    console.error(`cannot read USERS_FILE ${USERS_FILE}: ${err.message}`);
    return {};
  }
}

// Returns the user record or undefined when unknown or disabled.
function activeUser(id) {
  const users = readUsers();
  if (!Object.prototype.hasOwnProperty.call(users, id)) return undefined;
  const u = users[id];
  if (!u || u.disabled === true) return undefined;
  return u;
}

async function findAccount(ctx, id /* , token */) {
  const u = activeUser(id);
  if (!u) return undefined; // => invalid_grant at the token endpoint, invalid_token at userinfo
  return {
    accountId: id,
    async claims(/* use, scope, claims, rejected */) {
      // the provider keeps only the claims allowed by the granted scopes (see `claims` below)
      const fresh = activeUser(id) || u;
      return {
        sub: id,
        email: fresh.email,
        email_verified: fresh.email_verified ?? true,
        name: fresh.name,
        groups: Array.isArray(fresh.groups) ? fresh.groups : [],
      };
    },
  };
}

// ---- interaction policy ----------------------------------------------------
const policy = interactionPolicy.base();
// prompt=consent never shows a consent page (consent is automatic, see loadExistingGrant).
policy.get('consent').checks.remove('consent_prompt');
if (!SSO_SESSIONS) {
  // Always ask for the login form unless this very authorization request just completed it.
  policy.get('login').checks.add(new interactionPolicy.Check(
    'always_login',
    'test provider requires a login on every authorization request',
    'login_required',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT),
  ));
}

// ---- signing key (fresh per process) ----------------------------------------
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

// ---- HTTP server: own interaction routes, everything else -> oidc-provider ---
let provider;
const server = http.createServer((req, res) => {
  if (!provider) { res.statusCode = 503; res.end('starting'); return; }
  const url = new URL(req.url, 'http://x');
  if (!STRICT_OFFLINE_ACCESS && req.method === 'GET' && url.pathname === '/auth') {
    // OIDC Core 11 (and oidc-provider) ignore offline_access unless prompt contains "consent".
    // Real IdPs (Keycloak, Entra, ...) don't require that, so add it for the app transparently.
    const q = url.searchParams;
    const scopes = (q.get('scope') || '').split(' ');
    const prompts = (q.get('prompt') || '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
      q.set('prompt', [...prompts, 'consent'].join(' '));
      req.url = `${url.pathname}?${q}`;
    }
  }
  if (url.pathname.startsWith('/interaction/')) {
    handleInteraction(req, res, url).catch((err) => {
      console.error('interaction error:', err);
      if (!res.headersSent) {
        res.statusCode = err.statusCode || 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      }
      res.end(`${err.name}: ${err.error_description || err.message}`);
    });
    return;
  }
  provider.callback()(req, res);
});

server.listen(Number(portArg), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: (process.env.POST_LOGOUT_REDIRECT_URIS || '').split(',').filter(Boolean),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // client_secret_post is accepted too: oidc-provider treats basic/post as interchangeable
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    findAccount,
    responseTypes: ['code'],
    jwks: { keys: [signingJwk] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
      groups: ['groups'],
    },
    // put the scope claims (email, name, groups) into the id_token too, not only into userinfo
    conformIdTokenClaims: false,
    pkce: { required: () => true }, // only S256 is supported by oidc-provider v9
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: {
      policy,
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // auto-consent: always grant every requested OIDC scope/claim, so no consent page appears
    async loadExistingGrant(ctx) {
      const { client, session, account } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!grant || grant.accountId !== account.accountId) {
        grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: account.accountId });
      }
      const scope = ctx.oidc.params.scope; // already filtered (e.g. offline_access rules) by the provider
      if (scope) grant.addOIDCScope(scope);
      const claims = [...ctx.oidc.requestParamClaims]; // from the optional `claims` request parameter
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    rotateRefreshToken: () => ROTATE,
    ttl: {
      AccessToken: ttlEnv('ACCESS_TOKEN_TTL', 3600),
      AuthorizationCode: 60,
      IdToken: ttlEnv('ID_TOKEN_TTL', 3600),
      RefreshToken: ttlEnv('REFRESH_TOKEN_TTL', 14 * 24 * 3600),
      Interaction: 3600,
      Session: ttlEnv('SESSION_TTL', 14 * 24 * 3600),
      Grant: ttlEnv('REFRESH_TOKEN_TTL', 14 * 24 * 3600),
    },
    cookies: {
      keys: ['oidc-test-cookie-key-1'],
      // Cookies do not isolate by port: prefix names so they cannot clash with the app's cookies
      // when both run on 127.0.0.1 and share one cookie jar.
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    },
    renderError(ctx, out, error) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>oidc error</title><h1>${esc(out.error)}</h1><p>${esc(out.error_description)}</p>`;
      console.error('renderError:', out, error?.error_detail || '');
    },
  });

  // Log reasons (error_detail) that are not sent to the client, to ease debugging tests.
  for (const ev of ['grant.error', 'authorization.error', 'userinfo.error', 'introspection.error',
    'revocation.error', 'server_error', 'end_session.error']) {
    provider.on(ev, (ctx, err) => {
      console.error(`${ev}: ${err.error || err.name}: ${err.error_description || err.message}`
        + `${err.error_detail ? ` (${err.error_detail})` : ''}`);
    });
  }

  // One line per refresh grant, honoured or refused, so a test can count how often the app asked.
  const refreshOf = (ctx) => ctx.oidc.account?.accountId || ctx.oidc.entities?.RefreshToken?.accountId || '';
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type !== 'refresh_token') return;
    console.log(`refreshed ${refreshOf(ctx)}`);
  });
  provider.on('grant.error', (ctx) => {
    if (ctx.oidc?.params?.grant_type !== 'refresh_token') return;
    console.log(`refresh-refused ${refreshOf(ctx)}`);
  });

  console.log(`listening on ${issuer}`);
});

// ---- interactions ---------------------------------------------------------
function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; if (body.length > 1e6) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

// Auto-grant everything that a consent prompt asks for (normally unreachable thanks to loadExistingGrant).
async function finishConsent(req, res, details) {
  const { prompt: { details: missing }, params, session, grantId } = details;
  let grant = grantId ? await provider.Grant.find(grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
  }
  const id = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
}

async function handleInteraction(req, res, url) {
  const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?\/?$/);
  if (!m) { res.statusCode = 404; res.end('not found'); return; }
  const [, uid, action] = m;
  res.setHeader('Cache-Control', 'no-store');

  // Needs the op_interaction cookie set by /auth; throws SessionNotFound (400) without it.
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) { res.statusCode = 400; res.end('interaction uid mismatch'); return; }

  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (details.prompt.name === 'consent') { await finishConsent(req, res, details); return; }

  if (req.method === 'GET' && !action) {
    const hint = details.params.login_hint || '';
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html>
<html><head><title>Sign-in</title></head><body>
<h1>Test OP sign-in</h1>
<form id="login" method="post" action="/interaction/${esc(uid)}/login">
  <label>Username <input name="login" value="${esc(hint)}" autofocus></label>
  <button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${esc(uid)}/abort">Cancel</a></p>
</body></html>`);
    return;
  }

  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = (form.get('login') || '').trim();
    if (!activeUser(login)) {
      // Unknown or disabled user: the RP receives ?error=access_denied&state=...&iss=...
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'unknown or disabled user',
      }, { mergeWithLastSubmission: false });
      return;
    }
    // Start a fresh provider session for every login so that switching users never triggers
    // oidc-provider's "different account -> auto-submitting logout form" path.
    if (details.session) {
      if (details.session.cookie) {
        const old = await provider.Session.find(details.session.cookie);
        if (old) await old.destroy();
      }
      details.session = undefined;
      details.grantId = undefined;
      await details.persist();
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: login, remember: true },
    }, { mergeWithLastSubmission: false });
    return;
  }

  res.statusCode = 405;
  res.end('method not allowed');
}

// ---- shutdown -------------------------------------------------------------
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
