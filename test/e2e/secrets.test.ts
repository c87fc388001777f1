// e2e: no secret is ever printed in full (SPEC §2), including debug logs and errors. Every pdhooks() call of the suite
// also checks its output against the known secrets (helpers.ts); this test goes through the riskiest outputs on purpose.
import {expect} from 'chai'

import {
  CREDENTIALS, explain, HOOK_PASSWORD, masked, PD_LOGIN, PD_PASSWORD, SECRETS, SIGNATURE_KEY, useSandbox,
} from './helpers.js'

describe('e2e: secrets', () => {
  const e2e = useSandbox()
  const debug = {DEBUG: 'pdhooks*'}

  it('shows tokens, secrets, passwords and signature keys only masked: tables, JSON, debug logs, errors', async function () {
    this.timeout(40_000)
    const outputs: string[] = []
    const run = async (args: string[], env: Record<string, string | undefined> = {}, code = 0) => {
      const r = await e2e.run(args, {env})
      expect(r.code, explain(r)).to.equal(code)
      outputs.push(r.stdout + r.stderr)
      return r
    }

    await run(['auth',
      'login',
      '--pipedrive-token',
      CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN,
      '--user-secret',
      CREDENTIALS.PDHOOKS_USER_SECRET,
      '--org-secret',
      CREDENTIALS.PDHOOKS_ORG_SECRET,
      '--pipeliner-url',
      e2e.env.PDHOOKS_PIPELINER_URL,
      '--pipeliner-username',
      'e2e-api-key',
      '--pipeliner-password',
      CREDENTIALS.PDHOOKS_PIPELINER_PASSWORD,
      '--json'], debug)
    const status = await run(['auth', 'status'])
    expect(status.stdout).to.include(masked(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN))
    await run(['auth', 'status', '--verify', '--json'], debug)
    const setup = await run(['setup',
      '--name',
      's',
      '--callback-url',
      'https://app.example.com/ce',
      '--signature-key',
      SIGNATURE_KEY,
      ...PD_LOGIN,
      '--event',
      '*.deal',
      '--http-auth-user',
      'hooks',
      '--http-auth-password',
      HOOK_PASSWORD,
      '--yes',
      '--json'], debug)
    const id = String(setup.json().instance.id)
    const get = await run(['instance', 'get', id, '--json'], debug)
    const {configuration} = get.json().instance
    expect(configuration['event.notification.signature.key']).not.to.equal(SIGNATURE_KEY)
    expect(configuration['pipedrive.password']).not.to.equal(PD_PASSWORD)
    await run(['instance', 'get', id])
    await run(['instance', 'list', '--json'])
    const list = await run(['webhook', 'list', '--json'], debug)
    expect(list.json().webhooks[0].httpAuthPassword).to.equal(masked(HOOK_PASSWORD))
    await run(['webhook', 'list'])
    await run(['pipeliner', 'webhook', 'list'], debug)
    // failures, with DEBUG on (stack traces allowed, secrets not)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 401, body: {success: false, error: 'unauthorized access', errorCode: 401},
    })
    await run(['webhook', 'list'], debug, 3)
    await e2e.fault({
      method: 'POST', path: '/elements/api-v2/instances', status: 400, body: {message: 'bad', requestId: 'x'},
    })
    await run(['instance',
      'create',
      '--name',
      'x',
      '--callback-url',
      'https://app.example.com/ce',
      ...PD_LOGIN,
      '--signature-key',
      SIGNATURE_KEY,
      '--json'], debug, 2)
    await run(['webhook',
      'add',
      'change.deal',
      '--url',
      'https://app.example.com/x',
      '--http-auth-user',
      'u',
      '--http-auth-password',
      HOOK_PASSWORD,
      '--pipedrive-url',
      'http://example.com/v1'], debug, 2) // plain http to a non-loopback host is refused

    const all = outputs.join('\n')
    expect(all).to.include('pdhooks:http') // the debug log was on
    for (const s of SECRETS) expect(all, masked(s)).not.to.include(s)
  })

  it("DEBUG=* (oclif's own debug output) shows no secret flag value, from the command line or its variable", async function () {
    this.timeout(40_000)
    const all = {DEBUG: '*'}
    const runs = [
      await e2e.run(['auth',
        'login',
        '--no-verify',
        '--pipedrive-token',
        CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN,
        '--user-secret',
        CREDENTIALS.PDHOOKS_USER_SECRET,
        '--org-secret',
        CREDENTIALS.PDHOOKS_ORG_SECRET], {env: all}),
      await e2e.run(
        ['webhook', 'add', 'change.deal', '--url', 'https://hooks:' + HOOK_PASSWORD + '@app.example.com/x', '--http-auth-user', 'u', '--json'],
        {env: {...all, PDHOOKS_HTTP_AUTH_PASSWORD: HOOK_PASSWORD}},
      ),
      await e2e.run(['trigger', 'change.deal', '--to', 'http://127.0.0.1:9/', '--basic-auth', `hooks:${HOOK_PASSWORD}`], {env: all}),
      await e2e.run(
        ['instance', 'create', '--name', 'x', '--events', 'none', '--pipedrive-email', 'ops@example.com', '--pipedrive-password=' + PD_PASSWORD, '--json'],
        {env: {...all, PDHOOKS_SIGNATURE_KEY: SIGNATURE_KEY}},
      ),
      // a parse error quoting the command line
      await e2e.run(['webhook', 'list', '--pipedrive-token', CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN, '--nope'], {env: all}),
    ]
    expect(runs.map(r => r.code)).to.deep.equal([0, 0, 6, 0, 2])
    const out = runs.map(r => r.stdout + r.stderr).join('\n')
    expect(out).to.include('oclif:main process.argv') // oclif's debug output was on
    expect(out).to.include(masked(HOOK_PASSWORD))
    expect(out).to.include('https://hooks:****@app.example.com/x')
  })

  // a child process per command: in-process, oclif's help leaves the shared Config unable to find that command again
  it("--help shows each secret flag's environment twin", async function () {
    this.timeout(30_000)
    for (const [id, envs] of [
      [['listen'], ['PDHOOKS_BASIC_AUTH', 'PDHOOKS_ELEMENTS_KEY', 'PDHOOKS_PIPELINER_KEY']],
      [['webhook', 'add'], ['PDHOOKS_HTTP_AUTH_PASSWORD', 'PDHOOKS_PIPEDRIVE_TOKEN', 'PDHOOKS_PIPEDRIVE_ACCESS_TOKEN']],
      [['instance', 'create'], ['PDHOOKS_SIGNATURE_KEY', 'PDHOOKS_PIPEDRIVE_PASSWORD', 'PDHOOKS_USER_SECRET', 'PDHOOKS_ORG_SECRET']],
      [['pipeliner', 'webhook', 'add'], ['PDHOOKS_SIGNATURE', 'PDHOOKS_PIPELINER_PASSWORD']],
    ] as Array<[string[], string[]]>) {
      const r = await e2e.run([...id, '--help'])
      expect(r.code, explain(r)).to.equal(0)
      for (const env of envs) expect(r.stdout, `${id.join(' ')} ${env}`).to.contain(`[env: ${env}]`)
    }
  })
})

