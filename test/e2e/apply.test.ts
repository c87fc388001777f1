// e2e: apply -f converging on the sandbox; a second run changes nothing.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {
  explain, HOOK_PASSWORD, PD_PASSWORD, SIGNATURE_KEY, useSandbox,
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
