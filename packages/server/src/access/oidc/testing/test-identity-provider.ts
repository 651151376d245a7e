// Test support: a real OpenID Provider (panva/oidc-provider, certified) on loopback, whose login
// step signs in whichever account the test names, and a cookie-keeping "browser" for the redirects.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  readonly email: string;
  readonly email_verified?: boolean;
  readonly groups?: readonly string[];
}

export interface TestIdentityProvider {
  readonly issuer: string;
  /** The account the next interactive login signs in (its key is the `sub`). */
  signIn(sub: string, account: TestAccount): void;
  close(): Promise<void>;
}

/** Starts an OpenID Provider on 127.0.0.1 with one confidential client (code flow, PKCE required). */
export async function startTestIdentityProvider(client: { clientId: string; clientSecret: string; redirectUri: string }): Promise<TestIdentityProvider> {
  const accounts = new Map<string, TestAccount>();
  let current: string | undefined;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [{ client_id: client.clientId, client_secret: client.clientSecret, redirect_uris: [client.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [{ ...jwk, kid: 'test', use: 'sig', alg: 'RS256' }] as never },
    cookies: { keys: ['test-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['groups'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const a = accounts.get(sub);
      return a ? { accountId: sub, claims: () => ({ sub, ...a }) } : undefined;
    },
    // Consent is out of scope here: the hospital's IdP admin pre-approved the client.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client: c, session } = ctx.oidc;
      if (!c || !session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: c.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      void (async () => {
        await provider.interactionDetails(req, res);
        if (!current) throw new Error('no account signed in');
        await provider.interactionFinished(req, res, { login: { accountId: current } }, { mergeWithLastSubmission: false });
      })().catch(() => {
        res.statusCode = 500;
        res.end();
      });
      return;
    }
    void callback(req, res);
  });
  return {
    issuer,
    signIn(sub, account) {
      accounts.set(sub, account);
      current = sub;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Cookies per origin, enough for the redirect dance (names and values; paths and expiry ignored). */
export class TestBrowser {
  readonly #jar = new Map<string, Map<string, string>>();

  cookieHeader(url: string): string {
    return [...(this.#jar.get(new URL(url).origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  cookie(url: string, name: string): string | undefined {
    return this.#jar.get(new URL(url).origin)?.get(name);
  }

  async get(url: string): Promise<Response> {
    const r = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader(url) } });
    const origin = new URL(url).origin;
    const jar = this.#jar.get(origin) ?? new Map<string, string>();
    this.#jar.set(origin, jar);
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return r;
  }

  /** Follows redirects from `url` until one points under `stopAt`; returns that URL without loading it. */
  async followUntil(url: string, stopAt: string, maxHops = 10): Promise<string> {
    let next = url;
    for (let i = 0; i < maxHops; i++) {
      if (next.startsWith(stopAt)) return next;
      const r = await this.get(next);
      await r.arrayBuffer();
      const location = r.headers.get('location');
      if (r.status < 300 || r.status >= 400 || !location) throw new Error(`${next}: ${r.status} without a redirect`);
      next = new URL(location, next).href;
    }
    throw new Error('too many redirects');
  }
}
