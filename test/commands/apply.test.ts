/* eslint-disable no-template-curly-in-string */
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConfigStore} from '../../src/lib/core/config.js'
import {fakeWorld, plEnv} from '../fakes.js'
import {
  ceEnv, cleanNock, pdEnv, run, stubPrompts, webhook,
} from '../helpers.js'

const env = {
  ...ceEnv, ...pdEnv, ...plEnv, PD_HOOK_PASSWORD: 'hook-password-123', PIPEDRIVE_PASSWORD: 'login-password-123',
}
const FILE = `instances:
  - name: crm-events
    callbackUrl: https://app.example.com/ce
    login: {email: ops@example.com, password: \${PIPEDRIVE_PASSWORD}}
    tags: [prod]
    webhooks: ['*.deal', added.person]
pipedrive:
  webhooks:
    - event: change.deal
      url: https://app.example.com/pd
      auth: {user: hooks, password: \${PD_HOOK_PASSWORD}}
pipeliner:
  webhooks:
    - events: [Account.Create, Opportunity.*]
      url: https://app.example.com/pl
      options: {skip_keys: [my-integration]}
`

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'pdhooks-apply-')), 'pdhooks.yaml')
  writeFileSync(p, text)
  return p
}

describe('apply', () => {
  afterEach(async () => {
    cleanNock()
    await new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!).removeAll()
  })

  it('creates everything, then a second run makes no change', async () => {
    const w = fakeWorld()
    const f = file(FILE)
    const r = await run(['apply', '-f', f, '--yes', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    const doc = r.json()
    expect(doc.applied).to.equal(true)
    expect(doc.changes).to.equal(5)
    expect(doc.profiles[0].results.map((x: any) => `${x.verb} ${x.status}`)).to.deep.equal(Array.from({length: 5}, () => 'create done'))
    expect(w.instances.map(i => i.name)).to.deep.equal(['crm-events'])
    expect(w.pd.map(h => `${h.event_action}.${h.event_object} ${h.version} ${h.subscription_url}`)).to.deep.equal([
      '*.deal 1.0 https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=',
      'added.person 1.0 https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=',
      'change.deal 2.0 https://app.example.com/pd',
    ])
    expect(w.pd[2].http_auth_password).to.equal('hook-password-123')
    expect(w.pl[0]).to.deep.include({events: ['Account.Create', 'Opportunity.*'], insecure_ssl: false, options: {skip_keys: ['my-integration']}})
    expect(r.stdout).not.to.match(/hook-password-123|login-password-123/)

    w.requests.length = 0
    const again = await run(['apply', '-f', f, '--yes'], env)
    expect(again.exit).to.equal(0)
    expect(again.stdout).to.contain('Nothing to do')
    expect(w.requests.filter(x => !x.startsWith('GET'))).to.deep.equal([])
  })

  it('--dry-run --detailed-exitcode: 7 with changes pending, 0 once converged; nothing changes', async () => {
    const w = fakeWorld()
    const f = file(FILE)
    let r = await run(['apply', '-f', f, '--dry-run', '--detailed-exitcode'], env)
    expect(r.exit).to.equal(7)
    expect(r.stdout).to.contain('+ create  instance          crm-events')
    expect(w.instances).to.deep.equal([])
    await run(['apply', '-f', f, '--yes'], env)
    r = await run(['apply', '-f', f, '--dry-run', '--detailed-exitcode'], env)
    expect(r.exit).to.equal(0)
    r = await run(['apply', '-f', f, '--dry-run', '--detailed-exitcode', '--json'], env)
    expect(r.json().changes).to.equal(0)
  })

  it('off a terminal without --yes: the plan, then exit 2; on a terminal it asks', async () => {
    const w = fakeWorld()
    const f = file(FILE)
    let r = await run(['apply', '-f', f], env)
    expect(r.exit).to.equal(2)
    expect(r.stdout).to.contain('Plan for profile "default" (5 change(s))')
    expect(r.stderr).to.contain('--yes')
    expect(w.requests.filter(x => !x.startsWith('GET'))).to.deep.equal([])
    const json = await run(['apply', '-f', f, '--json'], env)
    expect(json.exit).to.equal(2)
    expect(json.json()).to.deep.include({applied: false, changes: 5})
    expect(json.json().error).to.deep.equal({code: 'confirmation_required', message: 'Not applied: pass --yes to apply off a terminal.', status: null})
    const restore = stubPrompts({confirm: async () => false, interactive: () => true})
    try {
      r = await run(['apply', '-f', f], env)
    } finally {
      restore()
    }

    expect(r.exit).to.equal(2)
    expect(w.instances).to.deep.equal([])
  })

  it('replaces a webhook whose auth changed (create first, then delete) and prunes only what its stack created', async () => {
    const w = fakeWorld()
    w.pd.push(
      webhook({
        event_action: 'change', event_object: 'deal', http_auth_password: 'old-password', http_auth_user: 'hooks', id: 1, name: 'pdhooks:prod change.deal', subscription_url: 'https://app.example.com/pd',
      }),
      webhook({id: 2, name: 'pdhooks:prod change.deal', subscription_url: 'https://old.example.com'}),
      webhook({id: 3, name: 'Zapier hook', subscription_url: 'https://zapier.example.com'}),
      webhook({id: 4, name: 'pdhooks change.deal', subscription_url: 'https://by-webhook-add.example.com'}),
      webhook({id: 5, name: 'pdhooks:staging change.deal', subscription_url: 'https://staging.example.com'}),
    )
    const f = file('stack: prod\npipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/pd", auth: {user: hooks, password: "${PD_HOOK_PASSWORD}"}}\n')
    const r = await run(['apply', '-f', f, '--prune', '--yes', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().profiles[0].plan.map((p: any) => p.verb)).to.deep.equal(['replace', 'delete'])
    expect(w.requests.filter(x => !x.startsWith('GET'))).to.deep.equal(['POST pd change.deal', 'DELETE pd 1', 'DELETE pd 2'])
    expect(w.pd.map(h => [h.id, h.name])).to.deep.equal([[3, 'Zapier hook'], [4, 'pdhooks change.deal'], [5, 'pdhooks:staging change.deal'], [100, 'pdhooks:prod change.deal']])
  })

  it('--prune without a stack in the file is exit 2 before any request', async () => {
    const w = fakeWorld()
    const r = await run(['apply', '-f', file('pipedrive:\n  webhooks: []\n'), '--prune', '--yes'], env)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--prune needs a stack name in').and.contain('Add a line "stack: NAME"')
    expect(w.requests).to.deep.equal([])
  })

  it('records the stack on every object it creates: webhook names, instance tags, a Pipeliner skip key', async () => {
    const w = fakeWorld()
    const r = await run(['apply', '-f', file(`stack: prod-hooks\n${FILE.replace('    - event: change.deal\n', '    - event: change.deal\n      name: deals\n')}`), '--yes', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(w.instances[0].tags).to.deep.equal(['prod', 'pdhooks-stack:prod-hooks'])
    expect(w.pd.map(h => h.name)).to.deep.equal(['pdhooks:prod-hooks *.deal', 'pdhooks:prod-hooks added.person', 'pdhooks:prod-hooks deals'])
    expect(w.pl[0].options).to.deep.equal({skip_keys: ['my-integration', 'pdhooks-stack:prod-hooks']})
    // converged: the marks are not differences
    w.requests.length = 0
    const again = await run(['apply', '-f', file(`stack: prod-hooks\n${FILE}`), '--yes', '--prune'], env)
    expect(again.exit, again.stderr).to.equal(0)
    expect(again.stdout).to.contain('Plan for profile "default", stack "prod-hooks" (0 change(s))').and.contain('Nothing to do')
    expect(w.requests.filter(x => !x.startsWith('GET'))).to.deep.equal([])
  })

  it('a failure half-way is reported per object; re-running converges', async () => {
    const w = fakeWorld()
    w.fail.pdPost = 1
    const f = file(FILE)
    const r = await run(['apply', '-f', f, '--yes', '--json'], env)
    expect(r.exit).to.equal(2)
    const {results} = r.json().profiles[0]
    expect(results.map((x: any) => x.status)).to.deep.equal(['done', 'failed', 'done', 'done', 'done'])
    expect(results[1].error.message).to.contain('subscription_url: invalid or non-reachable URL')
    const again = await run(['apply', '-f', f, '--yes', '--json'], env)
    expect(again.exit).to.equal(0)
    expect(again.json().profiles[0].results.filter((x: any) => x.status === 'done').map((x: any) => x.label)).to.deep.equal(['*.deal v1.0 → instance "crm-events"'.replace(' → instance "crm-events"', ' → instance 20931')])
    const third = await run(['apply', '-f', f, '--yes'], env)
    expect(third.stdout).to.contain('Nothing to do')
  })

  it('applies one file to several profiles with one result table and an aggregate exit code', async () => {
    const a = fakeWorld({pdHost: 'https://a.pipedrive.com', token: 'token-a-0123456789'})
    const b = fakeWorld({pdHost: 'https://b.pipedrive.com', token: 'token-b-0123456789'})
    const store = new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!)
    await store.updateProfile('a', () => ({pipedriveToken: 'token-a-0123456789', pipedriveUrl: 'https://a.pipedrive.com/v1'}))
    await store.updateProfile('b', () => ({pipedriveToken: 'token-b-0123456789', pipedriveUrl: 'https://b.pipedrive.com/v1'}))
    const f = file('pipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/pd"}\n')
    const r = await run(['apply', '-f', f, '--profile', 'a', '--profile', 'b', '--yes'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/PROFILE\s+ACTION\s+KIND\s+OBJECT\s+RESULT/)
    expect(r.stdout).to.match(/\na\s+create/).and.match(/\nb\s+create/)
    expect(a.pd).to.have.length(1)
    expect(b.pd).to.have.length(1)
    await store.updateProfile('c', () => ({pipedriveToken: 'bad-token-0123456789', pipedriveUrl: 'https://c.pipedrive.com/v1'}))
    const mixed = await run(['apply', '-f', f, '--profile', 'a', '--profile', 'c', '--yes', '--json'])
    expect(mixed.exit).to.equal(6)
    const {profiles} = mixed.json()
    expect(profiles[0].plan.map((p: any) => p.verb)).to.deep.equal(['keep'])
    expect(profiles[1].error.code).to.equal('unreachable')
    // the one partial-failure shape: the result, and what failed as its error (the highest exit code of the failures)
    expect(mixed.json()).to.deep.include({applied: false, changes: 0})
    expect(mixed.json().error).to.deep.equal({code: 'partial_failure', message: '1 of 2 profile(s) could not be planned: c. Run the same command again once the cause is fixed.', status: null})
    // a dry run with changes pending where a profile could not be read fails the same way (before: exit 0)
    const more = file('pipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/pd"}\n    - {event: added.person, url: "https://app.example.com/pd"}\n')
    const dry = await run(['apply', '-f', more, '--profile', 'a', '--profile', 'c', '--dry-run', '--detailed-exitcode', '--json'])
    expect(dry.exit).to.equal(6)
    expect(dry.json()).to.deep.include({applied: false, changes: 1})
    expect(dry.json().error.code).to.equal('partial_failure')
  })

  it('file errors are exit 2 with the file and line; missing credentials exit 3', async () => {
    let r = await run(['apply', '-f', file('pipedrive:\n  webhooks:\n    - {event: change.deal, url: "${NOPE_UNSET}"}\n'), '--json'], env)
    expect(r.exit).to.equal(2)
    expect(r.json().error.message).to.match(/pdhooks\.yaml:3 .*\$\{NOPE_UNSET\} is not set/)
    r = await run(['apply', '-f', '/nonexistent/pdhooks.yaml'], env)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('Cannot read /nonexistent/pdhooks.yaml')
    r = await run(['apply', '-f', file('pipedrive:\n  webhooks: []\n')])
    expect(r.exit).to.equal(3)
  })
})

describe('apply: ownership shown, old state', () => {
  afterEach(async () => {
    cleanNock()
    await new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!).removeAll()
  })

  it('an object the file declares but its stack did not make is kept and shown as never pruned', async () => {
    const w = fakeWorld()
    w.pd.push(webhook({id: 1, name: 'pdhooks change.deal', subscription_url: 'https://app.example.com/pd'}), webhook({id: 2, name: 'pdhooks:other change.deal', subscription_url: 'https://app.example.com/o'}))
    const f = file('stack: prod\npipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/pd"}\n    - {event: change.deal, url: "https://app.example.com/o"}\n')
    const r = await run(['apply', '-f', f, '--prune', '--dry-run'], env)
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout).to.contain('= keep    pipedrive-webhook change.deal v2.0 → https://app.example.com/pd (1) (not made by stack prod: never pruned)')
    expect(r.stdout).to.contain('= keep    pipedrive-webhook change.deal v2.0 → https://app.example.com/o (2) (stack other: never pruned by prod)')
    const j = await run(['apply', '-f', f, '--prune', '--dry-run', '--json'], env)
    expect(j.json().profiles[0].plan.map((p: any) => p.owner)).to.deep.equal([null, 'other'])
  })

  it('Pipeliner ids an older pdhooks kept in the profile are named once, never pruned, and dropped when a plan is applied', async () => {
    const w = fakeWorld()
    w.pl.push({
      events: ['*'], id: 'old-owned', insecure_ssl: false, url: 'https://old.example.com',
    })
    const store = new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!)
    await store.updateProfile('default', p => ({...p, owned: {pipeliner: ['old-owned']}}))
    const f = file('stack: prod\npipeliner:\n  webhooks:\n    - {events: [Account.Create], url: "https://app.example.com/pl"}\n')
    const r = await run(['apply', '-f', f, '--prune', '--yes'], env)
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stderr).to.contain('Note: Profile "default" lists 1 Pipeliner webhook(s) an older pdhooks created (old-owned)')
    expect(w.requests.filter(x => !x.startsWith('GET'))).to.deep.equal(['POST pl https://app.example.com/pl'])
    expect(w.pl.map(h => h.id)).to.include('old-owned')
    expect((await new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!).getProfile('default'))?.owned).to.equal(undefined)
    const again = await run(['apply', '-f', f, '--prune', '--yes'], env)
    expect(again.stderr).not.to.contain('Note:')
  })
})
