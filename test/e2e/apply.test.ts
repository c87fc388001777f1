/* eslint-disable no-template-curly-in-string */
// e2e: apply -f converging on the sandbox; a second run changes nothing.
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PL_HOOKS} from '../support/fixtures.js'
import {waitFor} from '../support/wait.js'
import {
  explain, HOOK_PASSWORD, PD_LOGIN, PD_PASSWORD, SIGNATURE_KEY, startCli, useSandbox,
} from './helpers.js'

const FILE = `instances:
  - name: crm-events
    events: webhook
    callbackUrl: https://app.example.com/ce
    signatureKey: \${CE_SIGNATURE_KEY}
    login: {email: ops@example.com, password: \${PIPEDRIVE_PASSWORD}}
    tags: [prod]
    webhooks: ['*.deal', added.person]
  - name: pdhooks-poller
    events: polling
    callbackUrl: https://app.example.com/ce-poll
    login: {email: ops@example.com, password: \${PIPEDRIVE_PASSWORD}}
    poll: [accounts, contacts]
    pollInterval: 5
pipedrive:
  webhooks:
    - event: change.deal
      url: https://app.example.com/pd
      auth: {user: hooks, password: \${PD_HOOK_PASSWORD}}
pipeliner:
  webhooks:
    - events: [Account.Create, Opportunity.*]
      url: https://app.example.com/pl
      options: {skip_keys: [my-integration], chunk_size: 50}
`

describe('e2e: apply', () => {
  const e2e = useSandbox()
  const vars = {CE_SIGNATURE_KEY: SIGNATURE_KEY, PD_HOOK_PASSWORD: HOOK_PASSWORD, PIPEDRIVE_PASSWORD: PD_PASSWORD}
  const file = () => {
    const f = join(e2e.configDir, 'pdhooks.yaml')
    writeFileSync(f, FILE)
    return f
  }

  const writes = async () => (await e2e.requests()).filter(r => r.method !== 'GET').map(r => `${r.method} ${r.path}`)

  it('plans (exit 7), converges with --yes, and a second run sends no write', async function () {
    this.timeout(40_000)
    const f = file()
    const plan = await e2e.run(['apply', '-f', f, '--dry-run', '--detailed-exitcode'], {env: vars})
    expect(plan.code, explain(plan)).to.equal(7)
    expect(plan.stdout).to.include('create')
    expect(await writes()).to.deep.equal([])

    const refused = await e2e.run(['apply', '-f', f], {env: vars})
    expect(refused.code, explain(refused)).to.equal(2)
    expect(await writes()).to.deep.equal([])

    const first = await e2e.run(['apply', '-f', f, '--yes', '--json'], {env: vars})
    expect(first.code, explain(first)).to.equal(0)
    const state = await e2e.state()
    expect(state.elements.instances.map((i: any) => [i.name, i.configuration['event.vendor.type']])).to.deep.equal([
      ['crm-events', 'webhook'],
      ['pdhooks-poller', 'polling'],
    ])
    const ce = `${e2e.url}/elements/api-v2/events/pipedrive/${Buffer.from(String(state.elements.instances[0].id)).toString('base64')}`
    expect(state.pipedrive.webhooks.map((w: any) => [w.event_action, w.event_object, w.version, w.subscription_url]).sort()).to.deep.equal([
      ['*', 'deal', '1.0', ce],
      ['added', 'person', '1.0', ce],
      ['change', 'deal', '2.0', 'https://app.example.com/pd'],
    ].sort())
    expect(state.pipedrive.webhooks.find((w: any) => w.event_action === 'change').http_auth_password).to.equal(HOOK_PASSWORD)
    expect(state.pipeliner.webhooks.map((w: any) => [w.url, w.events])).to.deep.equal([['https://app.example.com/pl', ['Account.Create', 'Opportunity.*']]])

    await e2e.api('DELETE', '/sandbox/requests')
    const second = await e2e.run(['apply', '-f', f, '--yes', '--json'], {env: vars})
    expect(second.code, explain(second)).to.equal(0)
    const doc = second.json()
    expect(doc.changes).to.equal(0)
    expect(doc.profiles[0].plan.every((p: any) => p.verb === 'keep')).to.equal(true)
    expect(await writes()).to.deep.equal([])

    const converged = await e2e.run(['apply', '-f', f, '--dry-run', '--detailed-exitcode'], {env: vars})
    expect(converged.code, explain(converged)).to.equal(0)
    expect(await writes()).to.deep.equal([])
  })

  it('an unset environment variable in the file is exit 2 naming the file, line and field, before any request', async function () {
    this.timeout(20_000)
    const f = file()
    const r = await e2e.run(['apply', '-f', f, '--yes', '--json'], {env: {...vars, PD_HOOK_PASSWORD: undefined}})
    expect(r.code, explain(r)).to.equal(2)
    expect(r.json().error.message).to.match(/pdhooks\.yaml:19 \(pipedrive\.webhooks\[0\]\.auth\.password\).*PD_HOOK_PASSWORD/)
    expect(await e2e.requests()).to.deep.equal([])
  })
})

const named = (state: any) => state.pipedrive.webhooks.map((w: any) => w.name).sort()

describe('e2e: apply under faults, interruptions and hostile input', () => {
  const e2e = useSandbox()
  const vars = {CE_SIGNATURE_KEY: SIGNATURE_KEY, PD_HOOK_PASSWORD: HOOK_PASSWORD, PIPEDRIVE_PASSWORD: PD_PASSWORD}
  const write = (text: string, name = 'pdhooks.yaml') => {
    const f = join(e2e.configDir, name)
    writeFileSync(f, text)
    return f
  }

  const posts = async (prefix: string) => (await e2e.requests(prefix)).filter(r => r.method === 'POST' && r.path === prefix).length

  it('creates the service applied but answered 503 / 429 are looked up, never sent twice', async function () {
    this.timeout(40_000)
    await e2e.fault([
      {apply: true, method: 'POST', path: '/elements/api-v2/instances'},
      {apply: true, method: 'POST', path: '/v1/webhooks'},
      {
        apply: true, headers: {'retry-after': '0'}, method: 'POST', path: PL_HOOKS, status: 429,
      },
    ])
    const r = await e2e.run(['apply', '-f', write(`stack: s1\n${FILE}`), '--yes', '--json'], {env: vars})
    expect(r.code, explain(r)).to.equal(0)
    expect(r.json().profiles[0].results.map((x: any) => x.status)).to.deep.equal(Array.from({length: 6}, () => 'done'))
    const state = await e2e.state()
    expect(state.elements.instances).to.have.length(2)
    expect(state.pipedrive.webhooks).to.have.length(3)
    expect(state.pipeliner.webhooks).to.have.length(1)
    expect(await posts('/elements/api-v2/instances')).to.equal(2)
    expect(await posts('/v1/webhooks')).to.equal(3)
    expect(await posts(PL_HOOKS)).to.equal(1)
  })

  it('when the lookup fails too, the result says the object may exist (outcome unknown); the next apply converges without a duplicate', async function () {
    this.timeout(40_000)
    const f = write('stack: s1\npipeliner:\n  webhooks:\n    - {events: [Account.Create], url: "https://app.example.com/pl"}\n')
    await e2e.fault({
      apply: true, delay: 1500, method: 'POST', path: PL_HOOKS,
    })
    const run = startCli(['apply', '-f', f, '--yes', '--json'], e2e.env)
    await waitFor('the create to arrive', async () => (await posts(PL_HOOKS)) === 1, 15_000)
    await e2e.fault({method: 'GET', path: PL_HOOKS, status: 500})
    const r = await run.done
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(6)
    const [result] = JSON.parse(r.stdout).profiles[0].results
    expect(result.status).to.equal('failed')
    expect(result.error).to.deep.include({code: 'outcome_unknown', outcome: 'unknown'})
    expect(result.error.message).to.contain('it is unknown whether the Pipeliner webhook was created').and.contain('pdhooks pipeliner webhook list')
    expect((await e2e.state()).pipeliner.webhooks).to.have.length(1)

    const again = await e2e.run(['apply', '-f', f, '--yes', '--json'])
    expect(again.code, explain(again)).to.equal(0)
    expect(again.json().changes).to.equal(0)
    expect((await e2e.state()).pipeliner.webhooks).to.have.length(1)
    expect(await posts(PL_HOOKS)).to.equal(1)
  })

  it('two stacks on one account prune only their own objects, from a fresh config folder; nothing made by webhook add, setup or by hand is touched', async function () {
    this.timeout(60_000)
    const alpha = `stack: alpha
instances:
  - name: alpha-events
    callbackUrl: https://app.example.com/ce
    login: {email: ops@example.com, password: \${PIPEDRIVE_PASSWORD}}
    webhooks: ['*.deal']
pipedrive:
  webhooks:
    - {event: change.deal, url: "https://app.example.com/a1"}
    - {event: change.person, url: "https://app.example.com/a2"}
pipeliner:
  webhooks:
    - {events: [Account.Create], url: "https://app.example.com/pl-a"}
`
    const beta = 'stack: beta\npipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/b1"}\npipeliner:\n  webhooks:\n    - {events: [Contact.Create], url: "https://app.example.com/pl-b"}\n'
    for (const [text, name] of [[alpha, 'alpha.yaml'], [beta, 'beta.yaml']]) {
      const r = await e2e.run(['apply', '-f', write(text, name), '--yes'], {env: vars})
      expect(r.code, explain(r)).to.equal(0)
    }

    // objects nobody's stack made
    expect((await e2e.run(['webhook', 'add', 'change.deal', '--url', 'https://app.example.com/by-add'])).code).to.equal(0)
    const setup = await e2e.run(['setup', '--name', 'by-setup', '--callback-url', 'https://app.example.com/ce', ...PD_LOGIN, '--event', '*.person', '--yes'])
    expect(setup.code, explain(setup)).to.equal(0)
    await e2e.seedPipedrive(1, () => ({name: 'by hand'}))
    await e2e.seedPipeliner(1)
    const before = await e2e.state()
    expect(named(before)).to.deep.equal([
      'by hand', 'pdhooks *.person', 'pdhooks change.deal', 'pdhooks:alpha *.deal', 'pdhooks:alpha change.deal', 'pdhooks:alpha change.person', 'pdhooks:beta change.deal',
    ])
    expect(before.elements.instances.map((i: any) => [i.name, i.tags])).to.deep.equal([['alpha-events', ['pdhooks-stack:alpha']], ['by-setup', []]])
    expect(before.pipeliner.webhooks.map((w: any) => w.options?.skip_keys ?? null)).to.deep.equal([['pdhooks-stack:alpha'], ['pdhooks-stack:beta'], null])

    // alpha, on a machine with an empty config (credentials from the environment): drops its instance, a2 and its Pipeliner webhook
    const fresh = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-fresh-'))
    try {
      const shrunk = 'stack: alpha\ninstances: []\npipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/a1"}\npipeliner:\n  webhooks: []\n'
      const plan = await e2e.run(['apply', '-f', write(shrunk, 'alpha2.yaml'), '--prune', '--dry-run', '--json'], {env: {PDHOOKS_CONFIG_DIR: fresh}})
      expect(plan.code, explain(plan)).to.equal(0)
      expect(plan.json().profiles[0].plan.map((p: any) => `${p.verb} ${p.kind} ${p.owner}`)).to.deep.equal([
        'keep pipedrive-webhook alpha',
        'delete pipedrive-webhook alpha',
        'delete pipedrive-webhook alpha',
        'delete instance alpha',
        'delete pipeliner-webhook alpha',
      ])
      const pruned = await e2e.run(['apply', '-f', write(shrunk, 'alpha2.yaml'), '--prune', '--yes'], {env: {PDHOOKS_CONFIG_DIR: fresh}})
      expect(pruned.code, explain(pruned)).to.equal(0)
    } finally {
      rmSync(fresh, {force: true, recursive: true})
    }

    const after = await e2e.state()
    expect(named(after)).to.deep.equal(['by hand', 'pdhooks *.person', 'pdhooks change.deal', 'pdhooks:alpha change.deal', 'pdhooks:beta change.deal'])
    expect(after.elements.instances.map((i: any) => i.name)).to.deep.equal(['by-setup'])
    expect(after.pipeliner.webhooks.map((w: any) => w.url)).to.deep.equal(['https://app.example.com/pl-b', 'https://seed.example.com/pl/0'])

    // beta empties its file: only beta's objects go
    const emptied = await e2e.run(['apply', '-f', write('stack: beta\npipedrive: {webhooks: []}\npipeliner: {webhooks: []}\n', 'beta2.yaml'), '--prune', '--yes'])
    expect(emptied.code, explain(emptied)).to.equal(0)
    const last = await e2e.state()
    expect(named(last)).to.deep.equal(['by hand', 'pdhooks *.person', 'pdhooks change.deal', 'pdhooks:alpha change.deal'])
    expect(last.pipeliner.webhooks.map((w: any) => w.url)).to.deep.equal(['https://seed.example.com/pl/0'])
  })

  it('Ctrl-C mid-apply lets the create in flight finish, reports each object and exits 130; SIGTERM under --json is one document (143); running again converges', async function () {
    this.timeout(60_000)
    const hooks = ['a', 'b', 'c', 'd'].map(x => `    - {event: change.deal, url: "https://app.example.com/${x}"}`).join('\n')
    const f = write(`stack: s1\npipedrive:\n  webhooks:\n${hooks}\n`)
    await e2e.fault({
      delay: 700, method: 'POST', path: '/v1/webhooks', times: 0,
    })
    let run = startCli(['apply', '-f', f, '--yes'], e2e.env)
    await waitFor('the 2nd create', async () => (await posts('/v1/webhooks')) >= 2, 15_000)
    run.kill('SIGINT')
    let r = await run.done
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(130)
    expect(r.stderr).to.contain('Interrupted (SIGINT): applied 2 of 4 change(s).')
    expect(r.stderr).to.match(/done: create pipedrive-webhook change\.deal v2\.0 → https:\/\/app\.example\.com\/a \(id \d+\)/)
    expect(r.stderr).to.match(/done: create pipedrive-webhook change\.deal v2\.0 → https:\/\/app\.example\.com\/b \(id \d+\)/)
    expect(r.stderr).to.contain('not started: create pipedrive-webhook change.deal v2.0 → https://app.example.com/c')
    expect(r.stderr).to.contain('not started: create pipedrive-webhook change.deal v2.0 → https://app.example.com/d')
    expect(r.stderr).to.contain('Run the same command again to converge')
    expect(r.stderr).not.to.match(/Error|\n\s+at /)
    expect((await e2e.state()).pipedrive.webhooks.map((w: any) => w.subscription_url)).to.deep.equal(['https://app.example.com/a', 'https://app.example.com/b'])

    await e2e.api('DELETE', '/sandbox/requests')
    run = startCli(['apply', '-f', f, '--yes', '--json'], e2e.env)
    await waitFor('the 1st create', async () => (await posts('/v1/webhooks')) >= 1, 15_000)
    run.kill('SIGTERM')
    r = await run.done
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(143)
    expect(r.stderr).to.equal('')
    const {error} = JSON.parse(r.stdout)
    expect(error).to.deep.include({
      applied: 1, changes: 2, code: 'interrupted', message: 'Interrupted (SIGTERM): applied 1 of 2 change(s).', signal: 'SIGTERM',
    })
    expect(error.profiles[0].results).to.have.length(1)
    expect(error.profiles[0].results[0]).to.deep.include({kind: 'pipedrive-webhook', status: 'done', verb: 'create'})
    expect(error.profiles[0].notStarted).to.deep.equal([{kind: 'pipedrive-webhook', label: 'change.deal v2.0 → https://app.example.com/d', verb: 'create'}])

    await e2e.api('DELETE', '/sandbox/faults')
    const again = await e2e.run(['apply', '-f', f, '--yes', '--json'])
    expect(again.code, explain(again)).to.equal(0)
    expect((await e2e.state()).pipedrive.webhooks.map((w: any) => w.subscription_url).sort()).to.deep.equal(['a', 'b', 'c', 'd'].map(x => `https://app.example.com/${x}`))
  })

  it('a 10 MB file is refused at once (exit 2), a hostile ${VAR} before any request', async function () {
    this.timeout(30_000)
    const big = join(e2e.configDir, 'big.yaml')
    writeFileSync(big, `pipedrive:\n  webhooks:\n${'    - {event: change.deal, url: "https://app.example.com/pd"}\n'.repeat(170_000)}`)
    const t = Date.now()
    const r = await e2e.run(['apply', '-f', big, '--dry-run', '--json'])
    expect(r.code, explain(r)).to.equal(2)
    expect(r.json().error).to.deep.include({code: 'file_too_large', message: `${big} is 10.1 MB: apply reads files of at most 1.0 MB. A pdhooks.yaml declares instances and webhooks (tens, hundreds at most): check that -f names the right file.`})
    expect(Date.now() - t).to.be.below(5000)

    const hostile = await e2e.run(['apply', '-f', write('pipedrive:\n  webhooks:\n    - {event: change.deal, url: "${HOOK_URL}"}\n'), '--yes'], {env: {HOOK_URL: 'https://app.example.com/pd\nhttps://evil.example.com/'}})
    expect(hostile.code, explain(hostile)).to.equal(2)
    expect(hostile.stderr).to.contain('(pipedrive.webhooks[0].url): ${HOOK_URL} holds a line feed (LF) at character 27: a URL cannot.')
    expect(hostile.stderr).not.to.contain('evil')
    expect(await e2e.requests()).to.deep.equal([])
  })
})
