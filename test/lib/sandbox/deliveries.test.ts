import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'
import type {ChangeRecord, PdWebhook} from '../../../src/lib/sandbox/state.js'

import {basicAuthHeader} from '../../../src/lib/deliveries/signatures.js'
import {
  applyAttempt,
  autoDeleteDue,
  deliveryTimeoutMs,
  newHealth,
  PIPEDRIVE_TIMING,
  pollBatches,
  pollIntervalMs,
  REMOVE_REASON,
} from '../../../src/lib/sandbox/deliveries.js'
import {TestClock} from '../../support/clock.js'
import {type Receiver, receiver} from '../../support/receiver.js'
import {waitFor} from '../../support/wait.js'
import {
  hook, pd, sandbox, webhookBody,
} from './helpers.js'

async function addWebhook(sb: Sandbox, overrides: Record<string, unknown>): Promise<any> {
  const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody(overrides)})
  expect(r.status, JSON.stringify(r.body)).to.equal(201)
  return r.body.data
}

async function webhook(sb: Sandbox, id: number): Promise<any> {
  return (await pd(sb, '/webhooks')).body.data.find((w: any) => w.id === id)
}

/** Waits until the sandbox has recorded the attempt it made at the clock's current time (its answer is in). */
async function attempted(sb: Sandbox, id: number, clock: TestClock): Promise<void> {
  await waitFor(`webhook ${id}'s attempt at ${clock.iso()}`, async () => (await webhook(sb, id))?.last_delivery_time === clock.iso())
}

const [RETRY_1, RETRY_2, RETRY_3] = PIPEDRIVE_TIMING.retryGapsMs

describe('sandbox: Pipedrive deliveries', () => {
  let sb: Sandbox
  let rx: Receiver

  afterEach(async () => {
    await sb.close()
    await rx.close()
  })

  it('delivers v1 and v2 payloads to matching active webhooks, with Basic auth when set', async () => {
    sb = await sandbox({timeScale: 0.001})
    rx = await receiver()
    const v1 = await addWebhook(sb, {
      subscription_url: rx.url + '/v1', event_action: 'updated', event_object: 'deal', version: '1.0', http_auth_user: 'hooks', http_auth_password: 's3cret',
    })
    const v2 = await addWebhook(sb, {
      subscription_url: rx.url + '/v2', event_action: 'change', event_object: '*', user_id: 5,
    })
    await addWebhook(sb, {subscription_url: rx.url + '/other', event_action: 'create', event_object: 'deal'})
    await addWebhook(sb, {subscription_url: rx.url + '/person', event_action: '*', event_object: 'person'})
    const r = await hook(sb, '/events', {
      object: 'deal', action: 'change', id: 42, data: {id: 42, title: 'New', value: 5}, previous: {title: 'Old'},
    })
    expect(r.status).to.equal(200)
    const byId = new Map(r.body.deliveries.map((d: any) => [d.webhook_id, d]))
    expect([...byId.keys()].sort()).to.deep.equal([v1.id, v2.id].sort())
    expect(byId.get(v1.id)).to.include({url: rx.url + '/v1', status: 200, attempt: 1})
    expect((byId.get(v1.id) as any).ms).to.be.a('number')
    const got = await rx.waitFor(2)
    const one = got.find(g => g.path === '/hook/v1')!
    expect(one.headers.authorization).to.equal(basicAuthHeader('hooks', 's3cret'))
    expect(one.headers['content-type']).to.match(/application\/json/)
    expect(one.json).to.include({v: 1, event: 'updated.deal', retry: 0})
    expect(one.json.meta).to.include({
      v: 1, action: 'updated', object: 'deal', id: 42, company_id: 1, webhook_id: String(v1.id),
    })
    // the given fields on the sample deal of the version (the same builders as trigger)
    expect(one.json.current).to.include({
      id: 42, title: 'New', value: 5, status: 'open',
    })
    expect(one.json.current.update_time).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(one.json.previous).to.include({id: 42, title: 'Old', value: 5})
    const two = got.find(g => g.path === '/hook/v2')!
    expect(two.headers.authorization).to.equal(undefined)
    expect(two.json.meta).to.include({
      action: 'change', entity: 'deal', entity_id: '42', version: '2.0', webhook_id: String(v2.id), user_id: '5', attempt: 1, company_id: '1',
    })
    expect(two.json.data).to.include({
      id: 42, title: 'New', value: 5, status: 'open',
    })
    expect(two.json.data.custom_fields).to.deep.equal({})
    expect(Object.keys(two.json.previous).sort()).to.deep.equal(['title', 'update_time'])
    expect(two.json.previous.title).to.equal('Old')
    const after = await webhook(sb, v1.id)
    expect(after.last_http_status).to.equal(200)
    expect(after.last_delivery_time).to.be.a('string')
    expect((await webhook(sb, v2.id)).last_http_status).to.equal(200)
  })

  it('answers 400 to an unknown object or action', async () => {
    sb = await sandbox()
    rx = await receiver()
    expect((await hook(sb, '/events', {object: 'deals', action: 'change', id: 1})).status).to.equal(400)
    expect((await hook(sb, '/events', {object: 'deal', action: 'modified', id: 1})).status).to.equal(400)
    expect((await hook(sb, '/events', {object: 'deal', action: '*', id: 1})).status).to.equal(400)
  })

  it('merges as documented: v1 merged + deleted, v2 delete (merged_to_id) then change (merged_from_id), each webhook in its words', async () => {
    sb = await sandbox()
    rx = await receiver()
    const v1merged = await addWebhook(sb, {
      subscription_url: rx.url + '/v1m', event_action: 'merged', event_object: 'deal', version: '1.0',
    })
    await addWebhook(sb, {
      subscription_url: rx.url + '/v1d', event_action: 'deleted', event_object: '*', version: '1.0',
    })
    const v2all = await addWebhook(sb, {subscription_url: rx.url + '/v2', event_action: '*', event_object: 'deal'})
    await addWebhook(sb, {subscription_url: rx.url + '/v2c', event_action: 'change', event_object: 'deal'})
    await addWebhook(sb, {subscription_url: rx.url + '/person', event_action: '*', event_object: 'person'})
    const r = await hook(sb, '/events', {
      action: 'merged', id: 5, mergedFromId: 4, object: 'deal', set: ['title=Merged deal'],
    })
    expect(r.status, JSON.stringify(r.body)).to.equal(200)
    expect(r.body.change).to.deep.include({action: 'merged', id: 5, mergedFromId: 4})
    expect(r.body.deliveries.map((d: any) => `${d.webhook_id} ${d.event} ${d.status}`)).to.have.members([
      `${v1merged.id} merged.deal 200`,
      `${v1merged.id + 1} deleted.deal 200`,
      `${v2all.id} delete.deal 200`,
      `${v2all.id} change.deal 200`,
      `${v2all.id + 1} change.deal 200`,
    ])
    const got = await rx.waitFor(5)
    const at = (path: string) => got.filter(g => g.path === `/hook${path}`).map(g => g.json)
    expect(at('/v1m')[0]).to.deep.include({event: 'merged.deal'})
    expect(at('/v1m')[0].current).to.include({id: 5, title: 'Merged deal'})
    expect(at('/v1d')[0].previous.id).to.equal(4)
    // one webhook gets both, in the documented order
    expect(at('/v2').map(b => [b.meta.action, b.meta.entity_id, b.meta.merged_to_id ?? b.meta.merged_from_id])).to.deep.equal([
      ['delete', '4', '5'],
      ['change', '5', '4'],
    ])
    expect(at('/v2c')[0].meta.merged_from_id).to.equal('4')
  })

  it('a deleted user reaches change.user webhooks, as Pipedrive documents it', async () => {
    sb = await sandbox()
    rx = await receiver()
    await addWebhook(sb, {subscription_url: rx.url + '/delete', event_action: 'delete', event_object: 'user'})
    await addWebhook(sb, {subscription_url: rx.url + '/change', event_action: 'change', event_object: 'user'})
    const r = await hook(sb, '/events', {action: 'delete', id: 77, object: 'user'})
    expect(r.body.deliveries.map((d: any) => d.event)).to.deep.equal(['change.user'])
    const [got] = await rx.waitFor(1)
    expect(got.path).to.equal('/hook/change')
    expect(got.json.data).to.include({active_flag: false, id: '77'})
  })

  it('answers 400 to a bad set or mergedFromId, and records nothing', async () => {
    const clock = new TestClock()
    sb = await sandbox({clock})
    rx = await receiver()
    await addWebhook(sb, {subscription_url: rx.url, event_action: '*', event_object: '*'})
    const bad = await hook(sb, '/events', {action: 'change', object: 'deal', set: ['custom_fields.k:double=many']})
    expect(bad.status).to.equal(400)
    expect(bad.body.error).to.contain('Invalid double custom field value "many"')
    expect((await hook(sb, '/events', {action: 'change', object: 'deal', set: 'value=1'})).status).to.equal(400)
    expect((await hook(sb, '/events', {action: 'change', mergedFromId: 3, object: 'deal'})).status).to.equal(400)
    expect((await hook(sb, '/events', {action: 'merged', mergedFromId: {}, object: 'deal'})).status).to.equal(400)
    expect((await hook(sb, '/events', {action: 'create', object: 'pipeline', set: ['custom_fields.k:double=1']})).status).to.equal(400)
    expect((await hook(sb, '/state')).body.changes.items).to.deep.equal([])
    // refused before any delivery: nothing sent, nothing scheduled
    expect(rx.received).to.have.length(0)
    expect(clock.pending()).to.deep.equal([])
  })

  it('retries a failed delivery after 3, 30 and 150 s, counting one ban point', async () => {
    const clock = new TestClock()
    sb = await sandbox({clock})
    rx = await receiver(n => (n < 2 ? 503 : 200))
    const w = await addWebhook(sb, {subscription_url: rx.url, event_action: 'create', event_object: 'person'})
    const w1 = await addWebhook(sb, {
      subscription_url: rx.url + '/v1', event_action: 'added', event_object: 'person', version: '1.0',
    })
    await pd(sb, `/webhooks/${w1.id}`, {method: 'DELETE'})
    const r = await hook(sb, '/events', {object: 'person', action: 'create', id: 7})
    expect(r.body.deliveries).to.have.length(1)
    expect(r.body.deliveries[0]).to.include({status: 503, attempt: 1})
    // the retry in 3 s, and the automatic deletion 3 days after the webhook was added (it is failing now)
    expect(clock.pending()).to.deep.equal([RETRY_1, PIPEDRIVE_TIMING.autoDeleteMs])
    await clock.tick(RETRY_1 - 1)
    expect(rx.received).to.have.length(1)
    await clock.tick(1)
    await rx.waitFor(2)
    await clock.scheduled(RETRY_2)
    expect(rx.received).to.have.length(2)
    await clock.tick(RETRY_2)
    const got = await rx.waitFor(3)
    expect(got.map(g => g.json.meta.attempt)).to.deep.equal([1, 2, 3])
    expect(new Set(got.map(g => g.json.meta.id)).size).to.equal(1)
    await attempted(sb, w.id, clock)
    expect((await webhook(sb, w.id)).last_http_status).to.equal(200)
    // a success ends the retries and the deletion countdown
    expect(clock.pending()).to.deep.equal([])
    await clock.tick(RETRY_3 * 10)
    expect(rx.received).to.have.length(3)
    const state = (await hook(sb, '/state')).body
    expect(state.pipedrive.health[String(w.id)]).to.include({banCounter: 1, failingSince: null})
  })

  it('gives up after the third retry and reports last_http_status 0 for connection errors', async () => {
    const clock = new TestClock()
    sb = await sandbox({clock})
    rx = await receiver(() => 500)
    const w = await addWebhook(sb, {
      subscription_url: rx.url, event_action: '*', event_object: '*', version: '1.0',
    })
    await hook(sb, '/events', {object: 'note', action: 'deleted', id: 1})
    for (const [i, gap] of [RETRY_1, RETRY_2, RETRY_3].entries()) {
      await clock.scheduled(gap)
      await clock.tick(gap)
      await rx.waitFor(i + 2)
      await attempted(sb, w.id, clock)
    }

    expect(rx.received.map(g => g.json.retry)).to.deep.equal([0, 1, 2, 3])
    // no fifth attempt: only the deletion countdown is left (3 days after the webhook was added)
    expect(clock.pending()).to.deep.equal([PIPEDRIVE_TIMING.autoDeleteMs - RETRY_1 - RETRY_2 - RETRY_3])
    await clock.tick(PIPEDRIVE_TIMING.autoDeleteMs / 2)
    expect(rx.received).to.have.length(4)
    expect((await webhook(sb, w.id)).last_http_status).to.equal(500)
    const dead = await addWebhook(sb, {subscription_url: 'http://127.0.0.1:9/refused', event_action: '*', event_object: 'note'})
    const r = await hook(sb, '/events', {object: 'note', action: 'change', id: 2})
    const d = r.body.deliveries.find((x: any) => x.webhook_id === dead.id)
    expect(d.status).to.equal(0)
    expect(d.error).to.be.a('string')
    expect((await webhook(sb, dead.id)).last_http_status).to.equal(0)
  })

  it('treats an answer slower than the (scaled) timeout as a failure', async () => {
    // real time: the timeout bounds a real HTTP exchange (10 s × 0.001, at least 100 ms)
    sb = await sandbox({timeScale: 0.001})
    rx = await receiver(() => ({status: 200, delayMs: 400}))
    const w = await addWebhook(sb, {subscription_url: rx.url, event_action: 'create', event_object: 'deal'})
    const r = await hook(sb, '/events', {object: 'deal', action: 'create', id: 1})
    expect(r.body.deliveries[0].status).to.equal(0)
    expect(r.body.deliveries[0].error).to.equal('timeout after 100 ms')
    expect(r.body.deliveries[0].ms).to.be.lessThan(390)
    expect((await webhook(sb, w.id)).last_http_status).to.equal(0)
  })

  it('bans a webhook after 10 failed first attempts for 30 min, drops events meanwhile, then reactivates it', async () => {
    const clock = new TestClock()
    sb = await sandbox({clock})
    rx = await receiver(() => 500)
    const w = await addWebhook(sb, {subscription_url: rx.url, event_action: '*', event_object: 'deal'})
    for (let i = 1; i <= 9; i++) await hook(sb, '/events', {object: 'deal', action: 'change', id: i})
    expect((await webhook(sb, w.id)).is_active).to.equal(1)
    await hook(sb, '/events', {object: 'deal', action: 'change', id: 10})
    const banned = await webhook(sb, w.id)
    expect(banned.is_active).to.equal(0)
    expect(clock.pending()).to.include(PIPEDRIVE_TIMING.banMs)
    const dropped = await hook(sb, '/events', {object: 'deal', action: 'change', id: 11})
    expect(dropped.body.deliveries).to.have.length(1)
    expect(dropped.body.deliveries[0]).to.include({dropped: true, status: null, error: `webhook banned until ${clock.iso(PIPEDRIVE_TIMING.banMs)}: event lost`})
    // dropped, not sent: the 10 first attempts went out, nothing for event 11
    expect(rx.received).to.have.length(10)
    await clock.tick(PIPEDRIVE_TIMING.banMs - 1)
    expect((await webhook(sb, w.id)).is_active).to.equal(0)
    await clock.tick(1)
    expect((await webhook(sb, w.id)).is_active).to.equal(1)
    expect(rx.received.some(g => g.json.meta.entity_id === '11')).to.equal(false)
    const state = (await hook(sb, '/state')).body
    expect(state.pipedrive.health[String(w.id)]).to.include({banCounter: 0, bannedUntil: null})
    const again = await hook(sb, '/events', {object: 'deal', action: 'change', id: 12})
    expect(again.body.deliveries[0]).to.include({status: 500, attempt: 1})
  })

  it('deletes a webhook with no successful delivery for 3 days, keeps healthy and quiet ones', async () => {
    const clock = new TestClock()
    sb = await sandbox({clock})
    rx = await receiver((_n, r) => (r.path === '/hook/ok' ? 200 : 500))
    const failing = await addWebhook(sb, {subscription_url: rx.url + '/bad', event_action: '*', event_object: 'person'})
    const healthy = await addWebhook(sb, {subscription_url: rx.url + '/ok', event_action: '*', event_object: 'person'})
    const quiet = await addWebhook(sb, {subscription_url: rx.url + '/quiet', event_action: '*', event_object: 'deal'})
    await hook(sb, '/events', {object: 'person', action: 'create', id: 1})
    // its retries fail too
    for (const gap of [RETRY_1, RETRY_2, RETRY_3]) {
      await clock.scheduled(gap)
      await clock.tick(gap)
      await attempted(sb, failing.id, clock)
    }

    const left = PIPEDRIVE_TIMING.autoDeleteMs - RETRY_1 - RETRY_2 - RETRY_3
    expect(clock.pending()).to.deep.equal([left])
    await clock.tick(left - 1)
    expect(await webhook(sb, failing.id)).to.not.equal(undefined)
    await clock.tick(1)
    expect(await webhook(sb, failing.id)).to.equal(undefined)
    expect(await webhook(sb, healthy.id)).to.not.equal(undefined)
    expect(await webhook(sb, quiet.id)).to.not.equal(undefined)
    const state = (await hook(sb, '/state')).body
    const removed = state.pipedrive.removed.find((x: any) => x.id === failing.id)
    expect(removed.remove_reason).to.equal(REMOVE_REASON)
    expect(removed.remove_time).to.equal(clock.iso())
    expect(removed.remove_time).to.equal(new Date(Date.parse(failing.add_time) + PIPEDRIVE_TIMING.autoDeleteMs).toISOString())
    expect(removed.is_active).to.equal(0)
  })

  it('with the real clock and a time scale: retries and a ban end on their own (what the e2e suite and the demo use)', async () => {
    sb = await sandbox({timeScale: 0.0001})
    rx = await receiver(n => (n < 2 ? 503 : 200))
    const w = await addWebhook(sb, {subscription_url: rx.url, event_action: 'create', event_object: 'person'})
    await hook(sb, '/events', {object: 'person', action: 'create', id: 7})
    // 3 s and 30 s × 0.0001
    const got = await rx.waitFor(3)
    expect(got.map(g => g.json.meta.attempt)).to.deep.equal([1, 2, 3])
    await waitFor('the success recorded', async () => (await webhook(sb, w.id)).last_http_status === 200)
  })
})

function wh(): PdWebhook {
  return {
    id: 1,
    company_id: 1,
    owner_id: 1,
    user_id: 1,
    event_action: '*',
    event_object: '*',
    subscription_url: 'https://x',
    version: '2.0',
    is_active: 1,
    add_time: new Date(1_000_000).toISOString(),
    remove_time: null,
    type: 'general',
    http_auth_user: null,
    http_auth_password: null,
    remove_reason: null,
    last_delivery_time: null,
    last_http_status: null,
    admin_id: 1,
    name: 'n',
  }
}

function change(seq: number, object: string, action: string, id: number): ChangeRecord {
  return {
    seq, time: 0, object, action, id, data: {id, seq}, previous: null,
  }
}

describe('sandbox: delivery rules (unit)', () => {
  it('schedules retries only after failures, with scaled gaps, at most three', () => {
    const w = wh()
    const h = newHealth()
    const fail = {ok: false, status: 500}
    expect(applyAttempt(w, h, {
      attempt: 1, result: fail, now: 2_000_000, timeScale: 0.5,
    }).retryInMs).to.equal(1500)
    expect(applyAttempt(w, h, {
      attempt: 2, result: fail, now: 2_000_000, timeScale: 0.5,
    }).retryInMs).to.equal(15_000)
    expect(applyAttempt(w, h, {
      attempt: 3, result: fail, now: 2_000_000, timeScale: 0.5,
    }).retryInMs).to.equal(75_000)
    expect(applyAttempt(w, h, {
      attempt: 4, result: fail, now: 2_000_000, timeScale: 0.5,
    }).retryInMs).to.equal(null)
    expect(h.banCounter).to.equal(1)
    expect(w.last_http_status).to.equal(500)
    expect(h.failingSince).to.equal(2_000_000)
    expect(applyAttempt(w, h, {
      attempt: 1, result: {ok: true, status: 204}, now: 3_000_000, timeScale: 1,
    }).retryInMs).to.equal(null)
    expect(h).to.include({lastSuccess: 3_000_000, failingSince: null})
  })

  it('bans at the tenth failed first attempt for 30 min × timeScale', () => {
    const w = wh()
    const h = newHealth()
    for (let i = 0; i < 9; i++) expect(applyAttempt(w, h, {
      attempt: 1, result: {ok: false, status: 0}, now: 5000, timeScale: 1,
    }).banned).to.equal(false)
    const o = applyAttempt(w, h, {
      attempt: 1, result: {ok: false, status: 0}, now: 5000, timeScale: 1,
    })
    expect(o.banned).to.equal(true)
    expect(w.is_active).to.equal(0)
    expect(h.bannedUntil).to.equal(5000 + PIPEDRIVE_TIMING.banMs)
  })

  it('dates auto-deletion from the later of add_time and the last success, only when failing', () => {
    const w = wh()
    const h = newHealth()
    expect(autoDeleteDue(w, h, 1)).to.equal(null)
    h.failingSince = 2_000_000
    expect(autoDeleteDue(w, h, 1)).to.equal(1_000_000 + PIPEDRIVE_TIMING.autoDeleteMs)
    h.lastSuccess = 1_500_000
    expect(autoDeleteDue(w, h, 0.001)).to.equal(1_500_000 + (PIPEDRIVE_TIMING.autoDeleteMs * 0.001))
  })

  it('clamps timeouts and poll intervals', () => {
    expect(deliveryTimeoutMs(1)).to.equal(10_000)
    expect(deliveryTimeoutMs(0.000_001)).to.equal(100)
    expect(pollIntervalMs(15, 1)).to.equal(900_000)
    expect(pollIntervalMs(1, 0.000_001)).to.equal(10)
  })

  it('builds poll batches: latest state per object, deletions unseen', () => {
    const c = change
    const batches = pollBatches([c(1, 'deal', 'create', 1), c(2, 'deal', 'change', 1), c(3, 'deal', 'change', 2), c(4, 'person', 'create', 3), c(5, 'deal', 'delete', 2)], ['opportunities'])
    expect(batches).to.have.length(1)
    expect(batches[0].events.map(e => [e.objectId, e.eventType])).to.deep.equal([['1', 'CREATED']])
    // what a poller reads from the API: the v1 deal with the change's own fields
    expect(batches[0].raw.opportunities).to.have.length(1)
    expect(batches[0].raw.opportunities[0]).to.include({id: 1, seq: 2, title: 'Sample Org deal'})
  })
})
