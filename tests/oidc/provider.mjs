// A real OpenID Connect provider for the sign-in tests: panva's certified oidc-provider.
//
// Started by the `oidc_process` fixture (tests/oidc/conftest.py, via tests/oidc/harness.py) as
//   node tests/oidc/provider.mjs
// with OIDC_PORT (the port to listen on, 127.0.0.1) and OIDC_CLIENTS (a JSON list of clients:
// client_id, client_secret, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri).
// It prints "READY <port>" once it listens. PKCE (S256) is required of every client.
//
// No login form: a test signs an account in with
//   GET /interaction/<uid>/test-login?account=<id>&acr=<acr>&amr=<a,b>&hsa_id=..&email=..
// (the interaction's cookie is needed, as for a real form), which finishes the interaction the
// way the provider's own login page would. The account's claims are what that request gave.
//
// Test-only modes (GET /test/mode?set=<mode>) tamper with the ID token the token endpoint
// returns, re-signing it, so that one check of the relying party fails at a time:
//   normal, bad-signature (another key under the same kid), wrong-aud, wrong-iss, wrong-nonce,
//   expired (exp and iat an hour and two in the past), expired-within-skew (exp 20 s ago: the
//   relying party's clock skew allows it), issued-in-future (iat ten minutes ahead).
import { createServer } from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
if (!port) {
  console.error('OIDC_PORT is not set');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris || [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...(c.backchannel_logout_uri
    ? { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: true }
    : {}),
}));

const KID = 'test-signing-key';

async function signingKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: KID, alg: 'RS256', use: 'sig' };
}

const realKey = await signingKey();
const strangerKey = await signingKey(); // same kid, another key: its signatures do not verify
const accounts = new Map();
let mode = 'normal';

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [realKey] },
  cookies: { keys: ['test-cookie-key-1', 'test-cookie-key-2'] },
  pkce: { methods: ['S256'], required: () => true },
  acrValues: [
    'http://id.elegnamnden.se/loa/1.0/loa2',
    'http://id.elegnamnden.se/loa/1.0/loa3',
    'http://id.elegnamnden.se/loa/1.0/loa4',
  ],
  claims: {
    openid: ['sub', 'acr', 'amr', 'hsa_id', 'personnummer'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false, // the scopes' claims go in the ID token itself
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = accounts.get(id);
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  async loadExistingGrant(ctx) {
    // No consent page: the test client is the organisation's own, so its grant is implied.
    const { Grant } = ctx.oidc.provider;
    const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await Grant.find(grantId);
      if (grant) return grant;
    }
    const grant = new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});

async function tamper(idToken) {
  const claims = jose.decodeJwt(idToken);
  let key = realKey;
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'bad-signature') key = strangerKey;
  else if (mode === 'wrong-aud') claims.aud = 'someone-else';
  else if (mode === 'wrong-iss') claims.iss = 'http://127.0.0.1:1/not-the-issuer';
  else if (mode === 'wrong-nonce') claims.nonce = 'not-the-nonce';
  else if (mode === 'expired') Object.assign(claims, { exp: now - 3600, iat: now - 7200 });
  else if (mode === 'expired-within-skew') Object.assign(claims, { exp: now - 20, iat: now - 80 });
  else if (mode === 'issued-in-future') Object.assign(claims, { iat: now + 600, exp: now + 1200 });
  const privateKey = await jose.importJWK(key, 'RS256');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/mode') {
    mode = ctx.query.set || 'normal';
    ctx.body = { mode };
    return;
  }
  const login = ctx.path.match(/^\/interaction\/([^/]+)\/test-login$/);
  if (login) {
    await provider.interactionDetails(ctx.req, ctx.res); // the interaction's cookie must match
    const account = String(ctx.query.account || '');
    const claims = {};
    for (const name of ['hsa_id', 'personnummer', 'email']) {
      if (ctx.query[name]) claims[name] = String(ctx.query[name]);
    }
    if (claims.email) claims.email_verified = ctx.query.email_verified !== 'false';
    accounts.set(account, claims);
    const result = {
      login: {
        accountId: account,
        ...(ctx.query.acr ? { acr: String(ctx.query.acr) } : {}),
        ...(ctx.query.amr ? { amr: String(ctx.query.amr).split(',') } : {}),
      },
    };
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && mode !== 'normal' && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token) };
  }
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
