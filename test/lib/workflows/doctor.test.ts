import {expect} from 'chai'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {type Webhook} from '../../../src/lib/pipedrive/client.js'
import {
  analyze, budgetFrom, type Gathered, isFixed, keeper, pipelinerKeeper, safeUrl,
} from '../../../src/lib/workflows/doctor.js'

const NOW = Date.parse('2026-12-02T00:00:00Z')
const HOUR = 3600 * 1000
const at = (ms: number) => new Date(NOW - ms).toISOString()
const CE_BASE = 'https://api.cloud-elements.com/elements/api-v2'
const cb = (id: number, host = 'api.cloud-elements.com') => `https://${host}/elements/api-v2/events/pipedrive/${Buffer.from(String(id)).toString('base64')}`

let next = 1
function hook(over: Partial<Webhook> = {}): Webhook {
  return {
    add_time: new Date(NOW - HOUR).toISOString(),
    event_action: 'change',
    event_object: 'deal',
    id: next++,
    is_active: 1,
    last_delivery_time: new Date(NOW - HOUR).toISOString(),
    last_http_status: 200,
    name: 'x',
    owner_id: 1,
    subscription_url: 'https://app.example.com/h',
    type: 'general',
    user_id: 1,
    version: '2.0',
    ...over,
  }
}

const pdOnly = (webhooks: Webhook[], over: Partial<Gathered> = {}): Gathered => ({
  pipedrive: {budget: null, webhooks}, profile: 'default', skipped: {'cloud-elements': 'no Cloud Elements credentials', pipeliner: 'no Pipeliner credentials'}, ...over,
})
const run = (g: Gathered) => analyze(g, {host: 'here', isAlive: pid => pid === 100, now: NOW})
const codes = (g: Gathered) => run(g).findings.map(f => f.code)

describe('doctor analysis', () => {
  it('a healthy account has no finding; services without credentials are skipped', () => {
    const r = run(pdOnly([hook()]))
    expect(r.findings).to.deep.equal([])
    expect(r.services).to.deep.equal({
      'cloud-elements': {reason: 'no Cloud Elements credentials', status: 'skipped'},
      pipedrive: {count: 1, status: 'checked'},
      pipeliner: {reason: 'no Pipeliner credentials', status: 'skipped'},
    })
  })

  it('keeps the healthiest duplicate, then one an apply stack owns, then the oldest, then the lowest id', () => {
    const failing = hook({add_time: new Date(NOW - (10 * HOUR)).toISOString(), last_http_status: 500})
    const ok = hook()
    expect(keeper([failing, ok], NOW)).to.equal(ok)
    const older = hook({add_time: new Date(NOW - (5 * HOUR)).toISOString()})
    const newer = hook()
    expect(keeper([newer, older], NOW)).to.equal(older)
    const owned = hook({name: 'pdhooks:prod change.deal'})
    expect(keeper([older, owned], NOW)).to.equal(owned)
    const a = hook({add_time: null})
    const b = hook({add_time: null})
    expect(keeper([b, a], NOW)).to.equal(a)
    expect(pipelinerKeeper([
      {
        events: ['A.Create'], id: 'b', insecure_ssl: false, signature: null, url: 'u',
      },
      {
        events: ['A.Create'], id: 'a', insecure_ssl: true, signature: 'k', url: 'u',
      },
      {
        events: ['A.Create'], id: 'c', insecure_ssl: false, signature: 'k', url: 'u',
      },
    ]).id).to.equal('c')
  })

  it('duplicates are the same URL (any equivalent form), event and version; another version or event is not one', () => {
    const hooks = [
      hook({subscription_url: 'https://App.example.com/h'}),
      hook({subscription_url: 'https://app.example.com:443/h'}),
      hook({version: '1.0', event_action: 'updated'}),
      hook({event_object: 'person'}),
    ]
    const r = run(pdOnly(hooks))
    const dup = r.findings.filter(f => f.code === 'duplicate-webhooks')
    expect(dup.map(f => f.objects.map(o => o.id))).to.deep.equal([[hooks[0].id, hooks[1].id]])
    expect(r.plan.map(p => p.id)).to.deep.equal([hooks[1].id])
  })

  it('never proposes deleting a marketplace app webhook, even a duplicate', () => {
    const app = hook({type: 'application'})
    const mine = hook({add_time: new Date(NOW - (9 * HOUR)).toISOString()})
    const r = run(pdOnly([app, mine]))
    expect(r.plan).to.deep.equal([])
    expect(r.findings[0]).to.include({code: 'duplicate-webhooks', fixable: false})
    expect(r.findings[0].message).to.include('left to their app')
  })

  it('an orphan is only an orphan on the profile\'s own platform host, from a list that was read', () => {
    const here = hook({
      subscription_url: cb(5), version: '1.0', event_action: '*', event_object: '*',
    })
    const elsewhere = hook({
      subscription_url: cb(6, 'api.openconnectors.eu10.ext.hana.ondemand.com'), version: '1.0', event_action: '*', event_object: '*',
    })
    const g = pdOnly([here, elsewhere], {elements: {base: CE_BASE, instances: []}, skipped: {}})
    const r = run(g)
    expect(r.plan.map(p => [p.id, p.reason])).to.deep.equal([[here.id, 'orphan: no instance 5']])
    expect(r.findings.find(f => f.code === 'callback-not-checked')!.objects.map(o => o.id)).to.deep.equal([elsewhere.id])
    // the platform could not be read: nothing is an orphan, nothing deleted
    const failed = run(pdOnly([here], {elements: {base: CE_BASE, error: new PdhooksError('Cloud Elements is unavailable (503).', {exit: 6})}, skipped: {}}))
    expect(failed.plan).to.deep.equal([])
    expect(failed.findings.map(f => [f.code, f.severity])).to.deep.equal([['check-failed', 'error'], ['callback-not-checked', 'info']])
    expect(failed.services['cloud-elements']).to.deep.equal({reason: 'Cloud Elements is unavailable (503).', status: 'failed'})
  })

  it('an orphan that is also a duplicate is deleted once, as an orphan; the duplicates are grouped without it', () => {
    const a = hook({
      subscription_url: cb(5), version: '1.0', event_action: '*', event_object: '*',
    })
    const b = hook({
      subscription_url: cb(5), version: '1.0', event_action: '*', event_object: '*',
    })
    const r = run(pdOnly([a, b], {elements: {base: CE_BASE, instances: []}, skipped: {}}))
    expect(r.plan.map(p => p.id)).to.deep.equal([a.id, b.id])
    expect(r.findings.map(f => f.code)).to.deep.equal(['orphan-webhook', 'orphan-webhook'])
  })

  it('listen leftovers: a dead process of this host, or an old one of another host; a running or recent one is left', () => {
    const dead = hook({name: `pdhooks-listen here 99 ${at(HOUR)}`})
    const running = hook({name: `pdhooks-listen HERE 100 ${at(HOUR)}`, subscription_url: 'https://b.example.com'})
    const foreignRecent = hook({name: `pdhooks-listen there 5 ${at(HOUR)}`, subscription_url: 'https://c.example.com'})
    const foreignOld = hook({name: `pdhooks-listen there 6 ${at(25 * HOUR)}`, subscription_url: 'https://d.example.com'})
    const garbled = hook({name: 'pdhooks-listen ???', subscription_url: 'https://e.example.com'})
    const r = run(pdOnly([dead, running, foreignRecent, foreignOld, garbled]))
    expect(r.plan.map(p => p.id)).to.deep.equal([dead.id, foreignOld.id])
    expect(r.findings.map(f => [f.code, f.objects[0]?.id])).to.deep.include.members([
      ['listen-leftover', dead.id], ['listen-leftover', foreignOld.id], ['listen-in-use', foreignRecent.id], ['listen-leftover-unknown', garbled.id],
    ])
    expect(JSON.stringify(r.findings)).not.to.include(`"id":${running.id},`)
    const kept = run(pdOnly([hook({name: `pdhooks-listen-kept here 99 ${at(HOUR)}`})]))
    expect(kept.plan).to.deep.equal([])
    expect(kept.findings.map(f => [f.code, f.severity])).to.deep.equal([['listen-kept', 'info']])
  })

  it('listen leftovers are read as listen reads them: a marker with anything more is unreadable (reported, never proposed)', () => {
    const old = at(30 * HOUR)
    const names = [`pdhooks-listen there 6 ${old} extra`, 'pdhooks-listen there 6 2026-01-01 00:00', `pdhooks-listen there 6 ${old}`]
    const hooks = names.map((name, i) => hook({name, subscription_url: `https://t${i}.example.com`}))
    const r = run(pdOnly(hooks))
    expect(r.findings.filter(f => f.code.startsWith('listen-')).map(f => [f.code, f.objects[0].id])).to.have.deep.members([
      ['listen-leftover-unknown', hooks[0].id], ['listen-leftover-unknown', hooks[1].id], ['listen-leftover', hooks[2].id],
    ])
    expect(r.plan.map(p => p.id)).to.deep.equal([hooks[2].id])
  })

  it('Pipeliner leftovers of listen --pipeliner are read from options.skip_keys', () => {
    const marker = `pdhooks-listen here 99 ${new Date(NOW - HOUR).toISOString()}`
    const g: Gathered = {
      pipeliner: {
        webhooks: [
          {
            events: ['Lead.Create'], id: 'x', insecure_ssl: false, options: {skip_keys: ['mine', marker]}, signature: 'k', url: 'https://t.example.com/a',
          },
          {
            events: ['Lead.Create'], id: 'y', insecure_ssl: false, options: {skip_keys: [marker.replace('99', '100')]}, signature: 'k', url: 'https://t.example.com/b',
          },
        ],
      },
      profile: 'default',
      skipped: {},
    }
    const r = run(g)
    expect(r.plan.map(p => [p.kind, p.id])).to.deep.equal([['pipeliner-webhook', 'x']])
    expect(r.findings.map(f => [f.code, f.fix])).to.deep.equal([['listen-leftover', 'pdhooks pipeliner webhook delete x']])
  })

  it('health: failing (warning), at risk (error), inactive with remove_reason (error); never-delivered is fine', () => {
    const failing = hook({last_http_status: 502})
    const risk = hook({add_time: new Date(NOW - (50 * HOUR)).toISOString(), last_http_status: 0, subscription_url: 'https://r.example.com'})
    const inactive = hook({is_active: 0, remove_reason: 'banned', subscription_url: 'https://i.example.com'})
    const fresh = hook({last_delivery_time: null, last_http_status: null, subscription_url: 'https://f.example.com'})
    const r = run(pdOnly([failing, risk, inactive, fresh]))
    expect(r.findings.map(f => [f.code, f.severity, f.objects[0].id])).to.deep.equal([
      ['webhook-at-risk', 'error', risk.id], ['webhook-inactive', 'error', inactive.id], ['webhook-failing', 'warning', failing.id],
    ])
    expect(r.findings[1].message).to.include('remove_reason: banned')
    expect(r.findings.find(f => f.code === 'webhook-at-risk')!.message).to.include('no answer')
  })

  it('v1 candidates exclude Cloud Elements callbacks, activityType and app webhooks', () => {
    const v1 = {event_action: 'updated', version: '1.0'}
    const plain = hook(v1)
    const r = run(pdOnly([
      plain,
      hook({...v1, subscription_url: cb(7)}),
      hook({...v1, event_object: 'activityType', subscription_url: 'https://t.example.com'}),
      hook({...v1, subscription_url: 'https://a.example.com', type: 'application'}),
    ]))
    const f = r.findings.find(x => x.code === 'v1-webhooks')!
    const stack = run(pdOnly([hook({...v1, name: 'pdhooks:prod updated.deal'})]))
    expect(stack.findings.map(x => [x.code, x.objects.length])).to.deep.equal([['v1-webhooks-of-stack', 1]])
    expect(stack.findings[0].fix).to.include('apply file of stack "prod"')
    expect(f.objects.map(o => o.id)).to.deep.equal([plain.id])
    expect(f.fix).to.equal(`pdhooks webhook migrate ${plain.id} --dry-run   (then without --dry-run)`)
  })

  it('quota: a warning from 35 webhooks of one user, saying when it is full', () => {
    const many = Array.from({length: 40}, (_, i) => hook({subscription_url: `https://q.example.com/${i}`, user_id: 3}))
    const r = run(pdOnly([...many, hook({user_id: 4})]))
    expect(r.quota).to.deep.equal([{count: 40, limit: 40, userId: 3}, {count: 1, limit: 40, userId: 4}])
    expect(r.findings.map(f => [f.code, f.severity])).to.deep.equal([['quota', 'warning']])
    expect(r.findings[0].message).to.include('need one free place')
    expect(codes(pdOnly(many.slice(0, 34)))).to.deep.equal([])
    expect(codes(pdOnly(many.slice(0, 35)))).to.deep.equal(['quota'])
  })

  it('the API budget from the rate-limit headers: info, a warning when low, an error when spent', () => {
    expect(budgetFrom({})).to.equal(null)
    const b = budgetFrom({
      'x-daily-requests-left': '5000', 'x-ratelimit-limit': '20', 'x-ratelimit-remaining': '19', 'x-ratelimit-reset': '2',
    })
    expect(b).to.deep.equal({
      burstLimit: 20, burstRemaining: 19, dailyLeft: 5000, resetSeconds: 2,
    })
    const sev = (daily: string) => run(pdOnly([hook()], {pipedrive: {budget: budgetFrom({'x-daily-requests-left': daily}), webhooks: [hook()]}})).findings.map(f => f.severity)
    expect(sev('5000')).to.deep.equal(['info'])
    expect(sev('999')).to.deep.equal(['warning'])
    expect(sev('0')).to.deep.equal(['error'])
  })

  it('Pipeliner: insecure_ssl, unsigned, duplicates (the kept one keeps its own findings)', () => {
    const g: Gathered = {
      pipeliner: {
        webhooks: [
          {
            events: ['Account.Create'], id: 'a', insecure_ssl: true, signature: 'k', url: 'https://p.example.com/a',
          },
          {
            events: ['Lead.Create', 'Lead.Update'], id: 'b', insecure_ssl: false, signature: null, url: 'https://p.example.com/b',
          },
          {
            events: ['Lead.Update', 'Lead.Create'], id: 'c', insecure_ssl: false, signature: 'k', url: 'https://p.example.com/b',
          },
          {
            events: ['Lead.Create'], id: 'd', insecure_ssl: false, is_deleted: true, signature: null, url: 'https://p.example.com/b',
          },
        ],
      },
      profile: 'p',
      skipped: {},
    }
    const r = run(g)
    expect(r.findings.map(f => [f.code, f.objects.map(o => o.id)])).to.deep.equal([
      ['pipeliner-duplicates', ['b', 'c']], ['pipeliner-insecure-ssl', ['a']],
    ])
    expect(r.plan.map(p => [p.kind, p.id])).to.deep.equal([['pipeliner-webhook', 'b']])
    expect(r.findings[0].fix).to.equal('pdhooks pipeliner webhook delete b --profile p')
    expect(r.findings[1].fix).to.include('--event Account.Create --url https://p.example.com/a --sign --replace --profile p')
  })

  it('masks credentials and secret query parameters in every URL it shows', () => {
    expect(safeUrl('https://u:secret-pass@h.example.com/x?token=abc&a=1')).to.equal('https://u:****@h.example.com/x?token=****&a=1')
    const r = run(pdOnly([hook({last_http_status: 500, subscription_url: 'https://u:secret-pass@h.example.com/x?api_token=abc'})]))
    expect(JSON.stringify(r)).not.to.include('secret-pass').and.not.to.include('api_token=abc')
  })

  it('a finding is fixed when each of its objects in the plan was deleted or was gone', () => {
    const a = hook()
    const b = hook()
    const r = run(pdOnly([a, b]))
    const f = r.findings[0]
    expect(isFixed(f, r.plan, [])).to.equal(false)
    expect(isFixed(f, r.plan, [{
      id: b.id, kind: 'pipedrive-webhook', profile: 'default', status: 'failed',
    }])).to.equal(false)
    expect(isFixed(f, r.plan, [{
      id: b.id, kind: 'pipedrive-webhook', profile: 'default', status: 'gone',
    }])).to.equal(true)
    expect(isFixed(f, r.plan, [{
      id: b.id, kind: 'pipedrive-webhook', profile: 'other', status: 'deleted',
    }])).to.equal(false)
  })
})
