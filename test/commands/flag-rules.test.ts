// Flags that carry their rules, as the commands see them: a secret flag masks its value in every output as soon as it
// is parsed (from the command line or its environment twin), and an instance id is checked in the parser (exit 2).
import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock} from '../support/fakes.js'
import {PD, pdEnv, webhook} from '../support/fixtures.js'
import {run} from '../support/run.js'

const PASSWORD = 'hook-password-in-path-0123'
const URL = `https://example.com/in/${PASSWORD}`

/** webhook add with the basic-auth password also in the target URL: only the flag's parse registers it for masking. */
function expectCreate(): {body: () => any} {
  let body: any
  nock(PD).get('/v1/webhooks').reply(200, {data: []})
  nock(PD).post('/v1/webhooks', b => {
    body = b
    return true
  }).reply(201, (_uri, b: any) => ({
    data: webhook({
      ...b, event_action: 'change', event_object: 'deal', id: 41,
    }),
  }))
  return {body: () => body}
}

describe('flags that carry their rules', () => {
  afterEach(() => cleanNock())

  for (const source of ['flag', 'variable'] as const) {
    it(`a secret flag given as a ${source} is masked in the output and in --json, and sent as it is`, async () => {
      const given = source === 'flag' ? ['--http-auth-password', PASSWORD] : []
      const env = source === 'flag' ? pdEnv : {...pdEnv, PDHOOKS_HTTP_AUTH_PASSWORD: PASSWORD}
      let sent = expectCreate()
      const r = await run(['webhook:add', 'change.deal', '--url', URL, '--http-auth-user', 'u', ...given], env)
      expect(r.exit, r.stderr).to.equal(0)
      expect(sent.body()).to.include({http_auth_password: PASSWORD, http_auth_user: 'u', subscription_url: URL})
      expect(r.stdout).to.contain('Created webhook 41: change.deal (v2.0) → https://example.com/in/hook…')
      expect(r.stdout + r.stderr).not.to.contain(PASSWORD)
      assertNockDone()

      sent = expectCreate()
      const j = await run(['webhook:add', 'change.deal', '--url', URL, '--http-auth-user', 'u', ...given, '--json'], env)
      expect(j.exit, j.stderr).to.equal(0)
      expect(sent.body()).to.include({http_auth_password: PASSWORD})
      expect(j.json().webhook.url).to.equal('https://example.com/in/hook…')
      expect(j.stdout + j.stderr).not.to.contain(PASSWORD)
    })
  }

  it('a secret flag in a usage error is never printed (--http-auth-password with --generate-auth)', async () => {
    for (const args of [['--http-auth-password', PASSWORD], [`--http-auth-password=${PASSWORD}`]]) {
      const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/h', '--generate-auth', ...args, '--json'], pdEnv)
      expect(r.exit).to.equal(2)
      expect(r.json().error.message).to.equal('--http-auth-password cannot be used with --generate-auth. See "pdhooks webhook add --help".')
      expect(r.stdout + r.stderr).not.to.contain(PASSWORD)
    }
  })

  const INVALID: Array<[string[], string]> = [
    [['instance:get', 'abc'], 'Invalid instance id "abc": instance ids are numbers.'],
    [['instance:get', '0'], 'Invalid instance id "0": instance ids are numbers.'],
    [['instance:delete', '12x', '--yes'], 'Invalid instance id "12x": instance ids are numbers.'],
    [['instance:callback-url', '1.5'], 'Invalid instance id "1.5": instance ids are numbers.'],
    [['webhook:add', '*.deal', '--instance', 'abc'], 'Invalid --instance "abc": instance ids are numbers.'],
    [['webhook:add', '*.deal', '--instance=2O931'], 'Invalid --instance "2O931": instance ids are numbers.'],
    [['webhook:delete', '--all', '--instance', 'abc', '--yes'], 'Invalid --instance "abc": instance ids are numbers.'],
    [['setup', '--instance', 'abc', '--yes'], 'Invalid --instance "abc": instance ids are numbers.'],
  ]
  for (const [args, message] of INVALID) {
    it(`${args.join(' ')}: exit 2, "${message}", nothing sent`, async () => {
      const r = await run(args, {...pdEnv, PDHOOKS_ORG_SECRET: 'org-secret-0123456789', PDHOOKS_USER_SECRET: 'user-secret-0123456789'})
      expect(r.exit, r.stdout + r.stderr).to.equal(2)
      expect(r.stderr.trimEnd()).to.equal(`Error: ${message}`)
      const j = await run([...args, '--json'], pdEnv)
      expect(j.exit).to.equal(2)
      expect(j.json()).to.deep.equal({error: {code: 'usage', message, status: null}})
      expect(nock.pendingMocks()).to.deep.equal([])
    })
  }

  it('an instance id stored in the profile is still checked by instance callback-url', async () => {
    const {mkdtempSync, rmSync, writeFileSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-id-'))
    try {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({profiles: {default: {instance: {id: 'abc'}}}}))
      const r = await run(['instance:callback-url'], {PDHOOKS_CONFIG_DIR: dir})
      expect(r.exit).to.equal(2)
      expect(r.stderr.trimEnd()).to.equal('Error: Invalid instance id "abc": instance ids are numbers.')
      const ok = await run(['instance:callback-url', '20931', '--json'], {PDHOOKS_CONFIG_DIR: dir})
      expect(ok.json()).to.include({encodedId: 'MjA5MzE=', instanceId: '20931'})
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })
})

describe('flags that go together or not: oclif\'s dependsOn / exclusive, in pdhooks\' words (one line, exit 2, nothing sent)', () => {
  afterEach(() => cleanNock())

  const SIG = '01234567-abcd-dcba-ffff-000000000000'
  const cases: Array<[string[], string, Record<string, string>?]> = [
    [['apply', '--detailed-exitcode'], '--detailed-exitcode needs --dry-run. See "pdhooks apply --help".'],
    // the command's own words for a pair (static flagReasons), with its hint or the help line
    [['backfill', '--since', '2h', '--resume', '--restart'], '--resume continues a run, --restart discards it: give one. See "pdhooks backfill --help".'],
    [['backfill', '--since', '2h', '--restart', '--dry-run'], '--dry-run only counts: it neither resumes nor restarts a run. Drop --dry-run, or --restart.'],
    [['setup', '--instance', '5', '--update', '--yes'], '--update goes with --name: an instance given with --instance is used as it is. See "pdhooks setup --help".'],
    [['trigger', 'change.deal', '--sandbox', '--print'], '--print shows a sample without sending it; --sandbox has the sandbox deliver it. Use one of them.'],
    [['trigger', '--from', 'x.json', '--sandbox'], '--sandbox makes a sample change in the sandbox: it does not take --from. Send the file to a receiver with --to instead.'],
    [['trigger', '--from', 'x.json', '--version', '2.0', '--to', 'http://127.0.0.1:9/'], '--from sends the file as it is: --set and --version do not apply. Edit the file instead.'],
    [['pipeliner:webhook:add', '--event', '*', '--url', 'https://example.com/pl', '--sign', '--signature', SIG], '--signature cannot be used with --sign. See "pdhooks pipeliner webhook add --help".'],
    // the environment twin of a secret flag counts too, and is named as such (never its value)
    [['pipeliner:webhook:add', '--event', '*', '--url', 'https://example.com/pl', '--sign'], 'PDHOOKS_SIGNATURE (set in the environment, as --signature) cannot be used with --sign. See "pdhooks pipeliner webhook add --help".', {PDHOOKS_SIGNATURE: SIG}],
    [['pipeliner:webhook:delete', '--url', 'example.com'], '--url needs --all. See "pdhooks pipeliner webhook delete --help".'],
    [['pipeliner:webhook:delete', SIG, '--url', 'example.com', '--yes'], '--url needs --all. See "pdhooks pipeliner webhook delete --help".'],
  ]
  for (const [args, message, env] of cases) {
    it(`${args.join(' ')}${env ? ` (${Object.keys(env).join(', ')})` : ''}`, async () => {
      const r = await run(args, {...pdEnv, ...env})
      expect(r.exit, r.stdout + r.stderr).to.equal(2)
      expect(r.stderr.trimEnd().split('\n')).to.deep.equal([`Error: ${message}`])
      expect(r.stderr).not.to.contain(SIG)
      const j = await run([...args, '--json'], {...pdEnv, ...env})
      expect(j.exit).to.equal(2)
      expect(j.json()).to.deep.equal({error: {code: 'usage', message, status: null}})
      expect(j.stdout).not.to.contain(SIG)
    })
  }

  it('what the relations allow still runs: --from with --print (only --sandbox excludes --print)', async () => {
    const {mkdtempSync, writeFileSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-rel-'))
    const body = join(dir, 'body.json')
    writeFileSync(body, JSON.stringify({current: {id: 1}, meta: {action: 'updated', object: 'deal', v: 1}, previous: {}}))
    const printed = await run(['trigger', '--from', body, '--print'])
    expect(printed.exit, printed.stderr).to.equal(0)
    expect(printed.stdout).to.contain('"action": "updated"')
  })
})
