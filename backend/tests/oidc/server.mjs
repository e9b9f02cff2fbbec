// A real OpenID Connect provider (the oidc-provider package) for Hotline's SSO tests.
// Usage: node server.mjs <port> <redirect_uri> <client_id> <client_secret>
// Its development login pages accept any login; the login is used as the e-mail claim.
import Provider from 'oidc-provider';

const [port, redirectUri, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: `SSO ${id}` };
      },
    };
  },
  pkce: { required: () => true },
  cookies: { keys: ['hotline-test-only'] },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
