// e2e: pdhooks doctor (and --fix) against the sandbox, from seeded messy states.
import {expect} from 'chai'
import {hostname} from 'node:os'

import {receiver} from '../support/receiver.js'
import {
  CREDENTIALS, type E2E, explain, HOOK_PASSWORD, useSandbox,
} from './helpers.js'

const CE_AUTH = {authorization: `User ${CREDENTIALS.PDHOOKS_USER_SECRET}, Organization ${CREDENTIALS.PDHOOKS_ORG_SECRET}`}
const b64 = (id: number) => Buffer.from(String(id)).toString('base64')
const HOURS = 3600 * 1000
const ids = (f: any) => f.objects.map((o: any) => o.id)

async function instance(e2e: E2E, name: string, config: Record<string, unknown>): Promise<number> {
  const r = await e2e.api('POST', '/elements/api-v2/instances', {
    configuration: {
      'event.notification.callback.url': 'https://app.example.com/ce', 'event.notification.enabled': 'true', 'event.vendor.type': 'webhook', 'pipedrive.api.token': 'x', ...config,
    },
    element: {key: 'pipedrive'},
    name,
  }, CE_AUTH)
  if (r.status !== 200 && r.status !== 201) throw new Error(`instance ${name}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.id
}

async function patch(e2e: E2E, id: number, fields: Record<string, unknown>): Promise<void> {
  const r = await e2e.api('PATCH', `/sandbox/pipedrive/webhooks/${id}`, fields)
  if (r.status !== 200) throw new Error(`patch ${id}: ${r.status} ${JSON.stringify(r.body)}`)
}

/**
 * A messy account: every problem doctor knows, each on its own webhook, plus healthy objects that must never be
 * touched. Returns the ids by role.
 */
async function messyAccount(e2e: E2E) {
  const cb = (id: number) => `${e2e.url}/elements/api-v2/events/pipedrive/${b64(id)}`
  const fed = await instance(e2e, 'fed', {})
  const off = await instance(e2e, 'events-off', {'event.notification.enabled': 'false'})
  const polling = await instance(e2e, 'polling', {'event.vendor.type': 'polling'})
  const unfed = await instance(e2e, 'unfed', {})
  const old = new Date(Date.now() - (72 * HOURS)).toISOString()
  const recent = new Date(Date.now() - HOURS).toISOString()
  const seeds = [
    /* 0 healthy */ {
      event_action: 'change', event_object: 'deal', name: 'healthy', subscription_url: 'https://ok.example.com/h',
    },
    /* 1 dup delete (older, ok, but made by hand) */ {
      event_action: 'change', event_object: 'person', name: 'dup-a', subscription_url: 'https://dup.example.com/h',
    },
    /* 2 dup keep: an apply stack owns it (deleting it, apply would re-create it) */ {
      event_action: 'change', event_object: 'person', name: 'pdhooks:prod dup', subscription_url: 'https://dup.example.com/h',
    },
    /* 3 fed instance (v1: never a migration candidate) */ {
      event_action: '*', event_object: '*', name: 'fed', subscription_url: cb(fed), version: '1.0',
    },
    /* 4 orphan */ {
      event_action: '*', event_object: '*', name: 'orphan', subscription_url: cb(99_999), version: '1.0',
    },
    /* 5 events off */ {
      event_action: '*', event_object: '*', name: 'off', subscription_url: cb(off), version: '1.0',
    },
    /* 6 polling */ {
      event_action: '*', event_object: '*', name: 'poll', subscription_url: cb(polling), version: '1.0',
    },
    /* 7 failing */ {
      event_action: 'change', event_object: 'note', name: 'failing', subscription_url: 'https://fail.example.com/h',
    },
    /* 8 at risk */ {
      event_action: 'change', event_object: 'product', name: 'at-risk', subscription_url: 'https://risk.example.com/h',
    },
    /* 9 inactive */ {
      event_action: 'change', event_object: 'stage', name: 'inactive', subscription_url: 'https://gone.example.com/h',
    },
    /* 10 v1 */ {
      event_action: 'updated', event_object: 'deal', name: 'legacy', subscription_url: 'https://legacy.example.com/h', version: '1.0',
    },
    /* 11 listen leftover (this host, dead pid) */ {
      event_action: '*', event_object: '*', name: `pdhooks-listen ${hostname()} 2147483646 ${recent}`, subscription_url: 'https://tunnel-a.example.com/hook',
    },
    /* 12 listen in use (this host, this pid) */ {
      event_action: '*', event_object: '*', name: `pdhooks-listen ${hostname()} ${process.pid} ${recent}`, subscription_url: 'https://tunnel-b.example.com/hook',
    },
    /* 13 listen elsewhere, recent */ {
      event_action: '*', event_object: '*', name: `pdhooks-listen other-host 42 ${recent}`, subscription_url: 'https://tunnel-c.example.com/hook',
    },
    /* 14 listen elsewhere, old */ {
      event_action: '*', event_object: '*', name: `pdhooks-listen other-host 43 ${old}`, subscription_url: 'https://tunnel-d.example.com/hook',
    },
    /* 15 credentials in the URL, basic auth */ {
      event_action: 'change', event_object: 'activity', http_auth_password: HOOK_PASSWORD, http_auth_user: 'bob', name: 'creds', subscription_url: `https://alice:${HOOK_PASSWORD}@creds.example.com/h`,
    },
  ]
  const made = await e2e.seedPipedrive(seeds.length, i => ({version: '2.0', ...seeds[i]}))
  const id = made.map(w => w.id as number)
  await patch(e2e, id[0], {last_delivery_time: recent, last_http_status: 200})
  await patch(e2e, id[1], {add_time: old, last_delivery_time: recent, last_http_status: 200})
  await patch(e2e, id[2], {last_delivery_time: recent, last_http_status: 200})
  await patch(e2e, id[7], {last_delivery_time: recent, last_http_status: 500})
  await patch(e2e, id[8], {add_time: old, last_delivery_time: recent, last_http_status: 0})
  await patch(e2e, id[9], {is_active: 0, remove_reason: 'banned: 10 failed deliveries'})
  await patch(e2e, id[15], {last_delivery_time: recent, last_http_status: 200})
  const pl = await e2e.seedPipeliner(5, i => [
    {events: ['Account.Create'], signature: '3f0c1a43-8f4f-4b1a-9a53-6f5b8f0e2c11', url: 'https://pl.example.com/ok'},
    {
      events: ['Contact.Update'], insecure_ssl: true, signature: '3f0c1a43-8f4f-4b1a-9a53-6f5b8f0e2c12', url: 'https://pl.example.com/insecure',
    },
    {events: ['Lead.Create'], signature: '3f0c1a43-8f4f-4b1a-9a53-6f5b8f0e2c13', url: 'https://pl.example.com/dup'},
    {events: ['Lead.Create'], url: 'https://pl.example.com/dup'},
    {events: ['Lead.Update'], url: 'https://pl.example.com/unsigned'},
  ][i])
  return {
    fed, id, off, pl: pl.map(w => w.id as string), polling, unfed,
  }
}

describe('e2e: doctor', () => {
  const e2e = useSandbox({burst: 0})

  it('names every problem of a messy account with its severity, objects and fix, exit 8; the account is unchanged', async function () {
    this.timeout(60_000)
    const m = await messyAccount(e2e)
    const before = await e2e.state()
    const r = await e2e.run(['doctor', '--json'])
    expect(r.code, explain(r)).to.equal(8)
    const doc = r.json()
    const byCode = (code: string) => doc.findings.filter((f: any) => f.code === code)
    expect(doc.healthy).to.equal(false)
    expect(doc.profiles[0].services).to.deep.equal({
      'cloud-elements': {count: 4, status: 'checked'}, pipedrive: {count: 16, status: 'checked'}, pipeliner: {count: 5, status: 'checked'},
    })
    expect(byCode('duplicate-webhooks')).to.have.length(1)
    expect(ids(byCode('duplicate-webhooks')[0])).to.deep.equal([m.id[1], m.id[2]])
    expect(byCode('duplicate-webhooks')[0]).to.include({fix: `pdhooks webhook delete ${m.id[1]}`, fixable: true, severity: 'warning'})
    expect(byCode('orphan-webhook').map((f: any) => ids(f))).to.deep.equal([[m.id[4]]])
    expect(byCode('orphan-webhook')[0]).to.include({fixable: true, severity: 'error'})
    expect(byCode('instance-events-off').map((f: any) => ids(f))).to.deep.equal([[m.id[5], m.off], [m.id[6], m.polling]])
    expect(byCode('instance-without-webhook').map((f: any) => ids(f))).to.deep.equal([[m.unfed]])
    expect(byCode('instance-without-webhook')[0].fix).to.equal(`pdhooks webhook add '*.*' --instance ${m.unfed}`)
    expect(byCode('webhook-failing').map((f: any) => ids(f))).to.deep.equal([[m.id[7]]])
    expect(byCode('webhook-at-risk').map((f: any) => ids(f))).to.deep.equal([[m.id[8]]])
    expect(byCode('webhook-at-risk')[0].severity).to.equal('error')
    expect(byCode('webhook-inactive').map((f: any) => ids(f))).to.deep.equal([[m.id[9]]])
    expect(byCode('webhook-inactive')[0].message).to.include('remove_reason: banned: 10 failed deliveries')
    // v1: the legacy one only, never those aimed at Cloud Elements callbacks
    expect(byCode('v1-webhooks').map((f: any) => ids(f))).to.deep.equal([[m.id[10]]])
    expect(byCode('v1-webhooks')[0].fix).to.include(`pdhooks webhook migrate ${m.id[10]}`)
    expect(byCode('listen-leftover').map((f: any) => ids(f))).to.deep.equal([[m.id[11]], [m.id[14]]])
    expect(byCode('listen-in-use').map((f: any) => ids(f))).to.deep.equal([[m.id[13]]])
    expect(JSON.stringify(doc.findings)).not.to.include(`"id":${m.id[12]},`)
    expect(byCode('pipeliner-insecure-ssl').map((f: any) => ids(f))).to.deep.equal([[m.pl[1]]])
    expect(byCode('pipeliner-duplicates').map((f: any) => ids(f))).to.deep.equal([[m.pl[2], m.pl[3]]])
    // the signed duplicate is the one kept
    expect(byCode('pipeliner-unsigned').map((f: any) => ids(f))).to.deep.equal([[m.pl[4]]])
    expect(byCode('api-budget')).to.have.length(1)
    expect(byCode('api-budget')[0].message).to.match(/\d+ requests left today/)
    expect(doc.profiles[0].quota).to.deep.equal([{count: 16, limit: 40, userId: 1}])
    expect(doc.plan.map((p: any) => p.id).sort()).to.deep.equal([m.id[1], m.id[4], m.id[11], m.id[14], m.pl[3]].map(String).sort().map(x => (/^\d+$/.test(x) ? Number(x) : x)))
    expect(doc.summary).to.deep.equal({
      error: doc.findings.filter((f: any) => f.severity === 'error').length,
      info: doc.findings.filter((f: any) => f.severity === 'info').length,
      warning: doc.findings.filter((f: any) => f.severity === 'warning').length,
    })
    for (const f of doc.findings) expect(f, JSON.stringify(f)).to.include.keys('severity', 'service', 'objects', 'message', 'fix', 'fixable', 'code', 'profile')
    // masked URL credentials; the basic-auth password never appears (checked for every run by the helper)
    expect(r.stdout).not.to.include(HOOK_PASSWORD)
    // nothing was changed by a doctor without --fix
    expect((await e2e.state()).pipedrive.webhooks).to.deep.equal(before.pipedrive.webhooks)

    const human = await e2e.run(['doctor'])
    expect(human.code, explain(human)).to.equal(8)
    expect(human.stdout).to.match(/ERROR +Pipedrive: Webhook \d+ is aimed at instance 99999, which does not exist/)
    expect(human.stdout).to.include('fix: pdhooks webhook delete')
    expect(human.stdout).to.include('"pdhooks doctor --fix" would delete 5 object(s)')
  })

  it('--fix deletes exactly the plan (duplicates, orphans, leftovers) and nothing else', async function () {
    this.timeout(60_000)
    const m = await messyAccount(e2e)
    const refused = await e2e.run(['doctor', '--fix'])
    expect(refused.code, explain(refused)).to.equal(2)
    expect(refused.stderr).to.include('--yes')
    expect((await e2e.state()).pipedrive.webhooks).to.have.length(16)

    const r = await e2e.run(['doctor', '--fix', '--yes'])
    expect(r.stdout).to.match(/Plan for profile "default" \(5 change\(s\)\):/)
    expect(r.stdout).to.match(/- delete +pipedrive-webhook +\d+ +change\.person \(v2\.0\) → https:\/\/dup\.example\.com\/h \(duplicate of webhook \d+\)/)
    // errors that --fix cannot fix (at risk, inactive) remain: exit 8
    expect(r.code, explain(r)).to.equal(8)
    const state = await e2e.state()
    const left = state.pipedrive.webhooks.map((w: any) => w.id).sort((a: number, b: number) => a - b)
    const gone = new Set([m.id[1], m.id[4], m.id[11], m.id[14]])
    expect(left).to.deep.equal(m.id.filter(id => !gone.has(id)))
    expect(state.pipeliner.webhooks.filter((w: any) => !w.is_deleted).map((w: any) => w.id).sort()).to.deep.equal([m.pl[0], m.pl[1], m.pl[2], m.pl[4]].sort())
    expect(state.elements.instances).to.have.length(4)

    // a second run has nothing left to fix
    const again = await e2e.run(['doctor', '--fix', '--yes', '--json'])
    expect(again.json().plan).to.deep.equal([])
    expect(again.json().findings.map((f: any) => f.code)).not.to.include.members(['duplicate-webhooks', 'orphan-webhook', 'listen-leftover', 'pipeliner-duplicates'])
  })

  it('a healthy account is exit 0; a service without credentials is skipped, not an error', async function () {
    this.timeout(30_000)
    const made = await e2e.seedPipedrive(1, () => ({name: 'fine', subscription_url: 'https://ok.example.com/h'}))
    await patch(e2e, made[0].id, {last_delivery_time: new Date().toISOString(), last_http_status: 204})
    const r = await e2e.run(['doctor', '--json'], {
      env: {
        PDHOOKS_ORG_SECRET: undefined, PDHOOKS_PIPELINER_PASSWORD: undefined, PDHOOKS_PIPELINER_URL: undefined, PDHOOKS_USER_SECRET: undefined,
      },
    })
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.healthy).to.equal(true)
    expect(doc.profiles[0].services['cloud-elements']).to.deep.equal({reason: 'no Cloud Elements credentials', status: 'skipped'})
    expect(doc.profiles[0].services.pipeliner.status).to.equal('skipped')
    expect(doc.findings.map((f: any) => f.severity)).to.deep.equal(['info'])
    const human = await e2e.run(['doctor'], {env: {PDHOOKS_PIPELINER_PASSWORD: undefined, PDHOOKS_PIPELINER_URL: undefined}})
    expect(human.code, explain(human)).to.equal(0)
    expect(human.stdout).to.include('Pipeliner skipped (no Pipeliner credentials)')
  })

  it('a service that cannot be read is an error finding (exit 8), and the others are still checked', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/elements/api-v2/instances', status: 500, times: 10,
    })
    await e2e.seedPipedrive(1, () => ({
      event_action: '*', name: 'x', subscription_url: `${e2e.url}/elements/api-v2/events/pipedrive/${b64(99_999)}`, version: '1.0',
    }))
    const r = await e2e.run(['doctor', '--json'])
    expect(r.code, explain(r)).to.equal(8)
    const doc = r.json()
    expect(doc.findings[0]).to.include({code: 'check-failed', service: 'cloud-elements', severity: 'error'})
    expect(doc.profiles[0].services.pipedrive.status).to.equal('checked')
    // the orphan cannot be told from a missing list: never deleted on a failed read
    expect(doc.plan).to.deep.equal([])
    expect(doc.findings.map((f: any) => f.code)).to.include('callback-not-checked')
  })

  it('--fix: a deletion that fails is reported and exits like webhook delete; the rest is deleted', async function () {
    this.timeout(30_000)
    const made = await e2e.seedPipedrive(3, () => ({name: 'dup', subscription_url: 'https://dup.example.com/h'}))
    await e2e.fault({
      method: 'DELETE', path: `/v1/webhooks/${made[1].id}`, status: 503, times: 10,
    })
    const r = await e2e.run(['doctor', '--fix', '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(6)
    const doc = r.json()
    expect(doc.error.code).to.equal('partial_failure')
    expect(doc.results.map((x: any) => [x.id, x.status]).sort((a: any, b: any) => a[0] - b[0])).to.deep.equal([[made[1].id, 'failed'], [made[2].id, 'deleted']])
    expect((await e2e.state()).pipedrive.webhooks.map((w: any) => w.id)).to.deep.equal([made[0].id, made[1].id])
  })

  it('several --profile flags: one report per profile', async function () {
    this.timeout(30_000)
    const login = await e2e.run(['auth', 'login', '--profile', 'other', '--no-verify', '--pipedrive-token', 'other-token-0123456789', '--pipedrive-url', `${e2e.url}/v1`])
    expect(login.code, explain(login)).to.equal(0)
    await e2e.seedPipedrive(2, () => ({name: 'dup', subscription_url: 'https://dup.example.com/h'}), 'other-token-0123456789')
    const env = {PDHOOKS_PIPEDRIVE_TOKEN: undefined}
    const r = await e2e.run(['doctor', '--profile', 'other', '--profile', 'default', '--json'], {env})
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.profiles.map((p: any) => p.profile)).to.deep.equal(['other', 'default'])
    expect(doc.profiles[1].services.pipedrive.status).to.equal('skipped')
    expect(doc.plan.map((p: any) => p.profile)).to.deep.equal(['other'])
    expect(doc.findings.find((f: any) => f.code === 'duplicate-webhooks').fix).to.match(/ --profile other$/)
  })

  it('doctor --fix, then webhook migrate --all: a clean account (exit 0, no warning) that still delivers each change once, as v2', async function () {
    this.timeout(60_000)
    const rx = await receiver({path: '/hook'})
    try {
      const old = new Date(Date.now() - (72 * HOURS)).toISOString()
      await e2e.seedPipedrive(4, i => [
        {
          event_action: 'updated', event_object: 'deal', name: 'app', subscription_url: rx.url, version: '1.0',
        },
        {
          event_action: 'updated', event_object: 'deal', name: 'app again', subscription_url: rx.url, version: '1.0',
        },
        {
          event_action: '*', event_object: '*', name: `pdhooks-listen gone-host 7 ${old}`, subscription_url: 'https://tunnel.example.com/x', version: '2.0',
        },
        {
          event_action: '*', event_object: '*', name: 'orphan', subscription_url: `${e2e.url}/elements/api-v2/events/pipedrive/${b64(424_242)}`, version: '1.0',
        },
      ][i])
      const fix = await e2e.run(['doctor', '--fix', '--yes'])
      expect(fix.code, explain(fix)).to.equal(0)
      const migrate = await e2e.run(['webhook', 'migrate', '--all', '--yes'])
      expect(migrate.code, explain(migrate)).to.equal(0)
      await e2e.api('POST', '/sandbox/events', {action: 'change', id: 42, object: 'deal'})
      const got = await rx.waitFor(1)
      expect(got[0].json.meta).to.deep.include({action: 'change', entity: 'deal', version: '2.0'})
      const after = await e2e.run(['doctor', '--json'])
      expect(after.code, explain(after)).to.equal(0)
      expect(after.json().findings.map((f: any) => f.code)).to.deep.equal(['api-budget'])
      expect(rx.received).to.have.length(1)
    } finally {
      await rx.close()
    }
  })
})
