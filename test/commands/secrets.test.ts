// Secret flags: environment twins and their precedence, values no header can carry (exit 2 naming the flag or the
// variable, before any request), and credentials inside URLs masked in tables, JSON and errors.
import {expect} from 'chai'
import nock from 'nock'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ConfigStore} from '../../src/lib/core/config.js'
import {assertNockDone, cleanNock} from '../support/fakes.js'
import {PD, webhook} from '../support/fixtures.js'
import {receiver} from '../support/receiver.js'
import {run} from '../support/run.js'

const dir = () => process.env.PDHOOKS_CONFIG_DIR!
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

describe('secret flags', () => {
  afterEach(async () => {
    cleanNock()
    await new ConfigStore(dir()).removeAll()
  })

  describe('environment twins', () => {
    it('PDHOOKS_BASIC_AUTH gives trigger its --basic-auth; the flag wins over the variable', async () => {
      const rx = await receiver({path: '/'})
      try {
        let r = await run(['trigger', 'change.deal', '--to', rx.url, '--json'], {PDHOOKS_BASIC_AUTH: 'hooks:from-env-password'})
        expect(r.exit, r.stdout + r.stderr).to.equal(0)
        expect(rx.received[0].headers.authorization).to.equal(basic('hooks', 'from-env-password'))
        expect(r.stdout).not.to.contain('from-env-password')
        r = await run(['trigger', 'change.deal', '--to', rx.url, '--basic-auth', 'hooks:from-flag-password'], {PDHOOKS_BASIC_AUTH: 'hooks:from-env-password'})
        expect(r.exit).to.equal(0)
        expect(rx.received[1].headers.authorization).to.equal(basic('hooks', 'from-flag-password'))
      } finally {
        await rx.close()
      }
    })

    it('PDHOOKS_ELEMENTS_KEY and PDHOOKS_PIPELINER_KEY sign trigger deliveries', async () => {
      const rx = await receiver({path: '/'})
      try {
        let r = await run(['trigger', 'updated.deal', '--format', 'elements', '--to', rx.url], {PDHOOKS_ELEMENTS_KEY: 'elements-key-from-env'})
        expect(r.exit, r.stderr).to.equal(0)
        expect(rx.received[0].headers['elements-webhook-signature']).to.be.a('string').and.not.equal('')
        r = await run(['trigger', 'Account.Create', '--to', rx.url], {PDHOOKS_PIPELINER_KEY: '01234567-abcd-dcba-ffff-000000000000'})
        expect(r.exit, r.stderr).to.equal(0)
        expect(rx.received[1].headers['webhook-signature']).to.be.a('string').and.not.equal('')
      } finally {
        await rx.close()
      }
    })

    it('PDHOOKS_HTTP_AUTH_PASSWORD gives webhook add its password (sent, never printed)', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: [], success: true})
      let sent: any
      nock(PD).post('/v1/webhooks', b => {
        sent = b
        return true
      }).reply(201, {data: webhook({http_auth_password: 'hook-password-from-env', http_auth_user: 'alice', id: 5}), success: true})
      const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--http-auth-user', 'alice', '--json'], {
        PDHOOKS_HTTP_AUTH_PASSWORD: 'hook-password-from-env', PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-0123456789abcdef',
      })
      expect(r.exit, r.stdout + r.stderr).to.equal(0)
      expect(sent).to.include({http_auth_password: 'hook-password-from-env', http_auth_user: 'alice'})
      expect(r.stdout + r.stderr).not.to.contain('hook-password-from-env')
      assertNockDone()
    })

    it('credentials: a flag on the command line beats the other token in the environment (no oclif exclusivity)', async () => {
      nock(PD, {reqheaders: {authorization: 'Bearer oauth-from-flag-0123456789'}}).get('/v1/webhooks').reply(200, {data: [], success: true})
      const r = await run(['webhook:list', '--pipedrive-access-token', 'oauth-from-flag-0123456789', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'api-token-from-env-0123'})
      expect(r.exit, r.stdout).to.equal(0)
      assertNockDone()
      const login = await run(['auth:login', '--no-verify', '--pipedrive-access-token', 'oauth-from-flag-0123456789', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'api-token-from-env-0123'})
      expect(login.exit, login.stdout).to.equal(0)
      expect(login.json().stored).to.deep.equal(['pipedriveAccessToken'])
      expect(await new ConfigStore(dir()).getProfile('default')).to.deep.equal({pipedriveAccessToken: 'oauth-from-flag-0123456789'})
    })

    it('auth status still says a value comes from the environment', async () => {
      const r = await run(['auth:status', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'api-token-from-env-0123'})
      const pd = r.json().services.find((s: any) => s.service === 'pipedrive')
      expect(pd.settings.find((s: any) => s.key === 'pipedriveToken')).to.include({source: 'env', value: 'api-…'})
    })
  })

  describe('values no HTTP header can carry (exit 2 naming where they came from, no request)', () => {
    const bad: Array<[string, string]> = [
      ['a carriage return (CR)', 'pd-token-0123456789\r'],
      ['a line feed (LF)', 'pd-token-01234\n56789'],
      ['a NUL character', 'pd-token-0123\u000056789'],
      ['an escape character (ESC)', 'pd-token-\u001B[2J0123456789'],
      ['the character U+2019', 'pd-token-0123’456789'],
    ]
    for (const [what, value] of bad) {
      it(`${what} in --pipedrive-token, PDHOOKS_PIPEDRIVE_TOKEN, or a stored token`, async () => {
        let r = await run(['webhook:list', '--pipedrive-token', value])
        expect(r.exit).to.equal(2)
        expect(r.stderr).to.match(new RegExp(`^Error: --pipedrive-token contains ${what.replaceAll(/[$()*+.?[\\\]^{|}]/g, '\\$&')} at character \\d+\\. `))
        expect(r.stderr).not.to.contain('pd-token')
        // an environment variable cannot hold a NUL
        if (!value.includes('\u0000')) {
          r = await run(['webhook:list', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: value})
          expect(r.exit).to.equal(2)
          expect(r.json().error).to.include({code: 'invalid_value'})
          expect(r.json().error.message).to.match(/^PDHOOKS_PIPEDRIVE_TOKEN contains /)
        }

        writeFileSync(join(dir(), 'config.json'), JSON.stringify({profiles: {default: {pipedriveToken: value}}}), {mode: 0o600})
        r = await run(['webhook:list'])
        expect(r.exit).to.equal(2)
        expect(r.stderr).to.contain(`The API token stored in profile "default" (${join(dir(), 'config.json')}) contains`)
        expect(r.stderr).to.contain('pdhooks auth login --profile default --pipedrive-token')
        // nock has no interceptor: a request would have failed with another error
        assertNockDone()
      })
    }

    it('auth login stores nothing from a value with a line break', async () => {
      const r = await run(['auth:login', '--no-verify', '--user-secret', 'user-secret-0123\n', '--org-secret', 'org-secret-0123456'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain('--user-secret contains a line feed (LF)')
      expect(new ConfigStore(dir()).listProfiles()).to.deep.equal([])
    })

    it('secrets that are not headers still refuse CR and LF (--basic-auth, PDHOOKS_SIGNATURE_KEY)', async () => {
      let r = await run(['trigger', 'change.deal', '--to', 'http://127.0.0.1:9/', '--basic-auth', 'hooks:pass\r\n'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain('--basic-auth contains a carriage return (CR) at character 11.')
      r = await run(['instance:create', '--name', 'x', '--events', 'none', '--pipedrive-email', 'a@example.com', '--pipedrive-password', 'pw-0123456789'], {PDHOOKS_SIGNATURE_KEY: 'key\n'})
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain('PDHOOKS_SIGNATURE_KEY contains a line feed (LF)')
    })
  })

  describe('credentials inside URLs', () => {
    it('are masked in tables and JSON', async () => {
      const hook = webhook({id: 9, subscription_url: 'https://alice:url-password-123@hooks.example.com/in'})
      nock(PD).get('/v1/webhooks').times(2).reply(200, {data: [hook], success: true})
      let r = await run(['webhook:list'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-0123456789abcdef'})
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.contain('https://alice:****@hooks.example.com/in').and.not.contain('url-password-123')
      r = await run(['webhook:list', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-0123456789abcdef'})
      expect(r.json().webhooks[0].url).to.equal('https://alice:****@hooks.example.com/in')
      expect(r.stdout).not.to.contain('url-password-123')
    })

    it('are masked in errors', async () => {
      const r = await run(['webhook:add', 'change.deal', '--url', 'ftp://bob:ftp-password-9@files.example.com/x', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-0123456789abcdef'})
      expect(r.exit).to.equal(2)
      expect(r.json().error.message).to.contain('ftp://bob:****@files.example.com/x')
      expect(r.stdout).not.to.contain('ftp-password-9')
    })
  })
})
