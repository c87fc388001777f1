import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'

import {pipedriveV1Payload, pipedriveV2Payload} from '../../../src/lib/deliveries/payloads.js'
import {verifyElements} from '../../../src/lib/deliveries/signatures.js'
import {
  decodeInstanceId,
  encodeInstanceId,
  normalizePipedriveDelivery,
  parseElementsAuth,
  validateConfiguration,
} from '../../../src/lib/sandbox/elements.js'
import {TestClock} from '../../support/clock.js'
import {type Receiver, receiver} from '../../support/receiver.js'
import {waitFor} from '../../support/wait.js'
import {
  call, ce, hook, pd, sandbox,
} from './helpers.js'

const LOGIN = {'pipedrive.email': 'ops@example.com', 'pipedrive.password': 'pd-password-123'}

function instanceBody(configuration: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    element: {key: 'pipedrive'}, configuration: {...LOGIN, ...configuration}, tags: ['prod', 'crm'], name: 'crm-events', ...extra,
  }
}

describe('sandbox: Cloud Elements platform API', () => {
  let sb: Sandbox
  let clock: TestClock

  beforeEach(async () => {
    clock = new TestClock()
    sb = await sandbox({clock})
  })

  afterEach(async () => {
    await sb.close()
  })

  describe('auth', () => {
    it('answers 401 {message,requestId} without both secrets', async () => {
      for (const authorization of ['', 'User abc', 'Organization def', 'User , Organization ', 'Bearer x']) {
        const r = await call(sb.url + '/elements/api-v2/instances', {headers: authorization ? {authorization} : {}})
        expect(r.status, authorization).to.equal(401)
        expect(r.body.message).to.be.a('string').and.not.equal('')
        expect(r.body.requestId).to.match(/^[\da-f-]{36}$/)
      }
    })

    it('accepts tolerant spacing and an extra Element token', async () => {
      for (const authorization of ['User a,Organization b', '  user a ,  organization b  ', 'User a, Organization b, Element tok']) {
        const r = await call(sb.url + '/elements/api-v2/instances', {headers: {authorization}})
        expect(r.status, authorization).to.equal(200)
        expect(r.body).to.deep.equal([])
      }

      expect(parseElementsAuth('User a, Organization b, Element c')).to.deep.equal({user: 'a', organization: 'b', element: 'c'})
    })
  })

  describe('instances', () => {
    it('creates an instance: id from 20931, token, element, masked secrets, tags as objects', async () => {
      const r = await ce(sb, '/instances', {
        method: 'POST',
        json: instanceBody({
          'event.notification.enabled': 'true',
          'event.notification.callback.url': 'https://app.example.com/ce',
          'event.vendor.type': 'webhook',
          'event.notification.signature.key': 'sig-key-123456',
        }),
      })
      expect(r.status).to.equal(200)
      const i = r.body
      expect(i.id).to.equal(20_931)
      expect(i.name).to.equal('crm-events')
      expect(i.token).to.be.a('string').with.length.greaterThan(20)
      expect(i.element).to.include({name: 'Pipedrive', key: 'pipedrive', hub: 'crm'})
      expect(i.element.id).to.be.a('number')
      expect(i).to.include({valid: true, disabled: false, eventsEnabled: true})
      expect(i.createdDate).to.be.a('string')
      expect(i.configuration).to.include({
        'pipedrive.email': 'ops@example.com',
        'pipedrive.password': '********',
        'event.notification.signature.key': '********',
        'event.notification.callback.url': 'https://app.example.com/ce',
        'base.url': 'https://api.pipedrive.com/v1',
        'event.notification.enabled': 'true',
      })
      expect(JSON.stringify(i)).not.to.contain('pd-password-123')
      expect(JSON.stringify(i)).not.to.contain('sig-key-123456')
      expect(i.tags).to.have.length(2)
      expect(i.tags[0]).to.have.keys('id', 'name')
      expect(i.tags.map((t: any) => t.name)).to.deep.equal(['prod', 'crm'])

      const got = await ce(sb, `/instances/${i.id}`)
      expect(got.status).to.equal(200)
      expect(got.body.tags).to.deep.equal(['prod', 'crm'])
      expect(got.body.token).to.equal(i.token)
      expect(got.body.configuration['pipedrive.password']).to.equal('********')
      const list = await ce(sb, '/instances')
      expect(list.body.map((x: any) => x.id)).to.deep.equal([20_931])
      expect(list.body[0].tags).to.deep.equal(['prod', 'crm'])
      const second = await ce(sb, '/instances', {method: 'POST', json: instanceBody()})
      expect(second.body.id).to.equal(20_932)
      expect(second.body.eventsEnabled).to.equal(false)
    })

    it('creates through POST /elements/pipedrive/instances and accepts an API token instead of a login', async () => {
      const r = await ce(sb, '/elements/pipedrive/instances', {method: 'POST', json: {configuration: {'pipedrive.api.token': 'tok-1234567890'}, name: 'x'}})
      expect(r.status).to.equal(200)
      expect(r.body.configuration['pipedrive.api.token']).to.equal('********')
      expect(r.body.element.key).to.equal('pipedrive')
    })

    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a missing element key', {element: {}}, /element\.key/],
      ['an unknown element', {element: {key: 'salesforce'}}, /salesforce/],
      ['a missing email', {configuration: {'pipedrive.password': 'p'}}, /pipedrive\.email/],
      ['missing email and password', {configuration: {}}, /pipedrive\.email, pipedrive\.password/],
      ['events on without a callback URL', {configuration: {...LOGIN, 'event.notification.enabled': 'true'}}, /event\.notification\.callback\.url/],
      ['an unknown vendor type', {configuration: {...LOGIN, 'event.vendor.type': 'push'}}, /event\.vendor\.type/],
    ]
    for (const [what, overrides, message] of bad) {
      it(`answers 400 {message,requestId} to ${what}`, async () => {
        const r = await ce(sb, '/instances', {method: 'POST', json: {...instanceBody(), ...overrides}})
        expect(r.status).to.equal(400)
        expect(r.body.message).to.match(message)
        expect(r.body.requestId).to.be.a('string')
      })
    }

    it('answers 415 to a non-JSON body', async () => {
      const r = await ce(sb, '/instances', {method: 'POST', headers: {'content-type': 'text/plain'}, body: JSON.stringify(instanceBody())})
      expect(r.status).to.equal(415)
      expect(r.body.message).to.be.a('string')
    })

    it('patches, puts and deletes; unknown ids are 404 {message,requestId}', async () => {
      const {id} = (await ce(sb, '/instances', {method: 'POST', json: instanceBody()})).body
      const patched = await ce(sb, `/instances/${id}`, {
        method: 'PATCH',
        json: {configuration: {'event.notification.enabled': 'true', 'event.notification.callback.url': 'https://x.example/cb', 'pipedrive.password': '********'}},
      })
      expect(patched.status).to.equal(200)
      expect(patched.body.eventsEnabled).to.equal(true)
      expect(patched.body.configuration['pipedrive.email']).to.equal('ops@example.com')
      const state = (await hook(sb, '/state')).body
      expect(state.elements.instances[0].configuration['pipedrive.password']).to.equal('pd-password-123')
      const badPatch = await ce(sb, `/instances/${id}`, {method: 'PATCH', json: {configuration: {'event.notification.callback.url': null}}})
      expect(badPatch.status).to.equal(400)
      const put = await ce(sb, `/instances/${id}`, {method: 'PUT', json: {name: 'renamed', configuration: {...LOGIN}, tags: ['t']}})
      expect(put.status).to.equal(200)
      expect(put.body).to.include({name: 'renamed', eventsEnabled: false})
      expect(put.body.tags).to.deep.equal(['t'])
      const del = await ce(sb, `/instances/${id}`, {method: 'DELETE'})
      expect(del.status).to.equal(200)
      for (const [method, path] of [
        ['GET', `/instances/${id}`],
        ['DELETE', `/instances/${id}`],
        ['PATCH', `/instances/${id}`],
        ['GET', '/instances/999999/events'],
        ['GET', '/instances/abc'],
      ]) {
        const r = await ce(sb, path, {method, ...(method === 'PATCH' ? {json: {name: 'x'}} : {})})
        expect(r.status, `${method} ${path}`).to.equal(404)
        expect(r.body.message).to.be.a('string')
        expect(r.body.requestId).to.be.a('string')
      }
    })
  })

  describe('events', () => {
    let rx: Receiver

    beforeEach(async () => {
      rx = await receiver()
    })

    afterEach(async () => {
      await rx.close()
    })

    it('normalizes a Pipedrive delivery and posts it, signed, to the callback URL (through a real webhook)', async () => {
      const key = 'my-signature-key'
      const inst = (
        await ce(sb, '/instances', {
          method: 'POST',
          json: instanceBody({
            'event.notification.enabled': 'true',
            'event.notification.callback.url': rx.url,
            'event.vendor.type': 'webhook',
            'event.notification.signature.key': key,
          }),
        })
      ).body
      const callback = `${sb.url}/elements/api-v2/events/pipedrive/${encodeInstanceId(inst.id)}`
      expect(callback.endsWith('/MjA5MzE=')).to.equal(true)
      const wh = await pd(sb, '/webhooks', {
        method: 'POST', json: {
          subscription_url: callback, event_action: '*', event_object: '*', name: 'pdhooks *.*', version: '1.0',
        },
      })
      expect(wh.status).to.equal(201)
      const sent = await hook(sb, '/events', {
        object: 'person', action: 'added', id: 77, data: {id: 77, name: 'Ann'},
      })
      expect(sent.body.deliveries).to.have.length(1)
      expect(sent.body.deliveries[0]).to.include({webhook_id: wh.body.data.id, status: 200, attempt: 1})
      const [got] = await rx.waitFor(1)
      expect(got.headers['elements-webhook-id']).to.be.a('string')
      const signature = got.headers['elements-webhook-signature'] as string
      expect(signature).to.match(/^sha256=/)
      expect(verifyElements(key, got.raw, signature)).to.equal(true)
      expect(verifyElements('wrong-key', got.raw, signature)).to.equal(false)
      const {message} = got.json
      expect(message.eventId).to.equal(got.headers['elements-webhook-id'])
      expect(message.instanceId).to.equal(inst.id)
      expect(message.events).to.have.length(1)
      expect(message.events[0]).to.include({
        objectId: '77', objectType: 'contacts', eventType: 'CREATED', elementKey: 'pipedrive',
      })
      expect(message.events[0].date).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      expect(message.raw.event).to.equal('added.person')
      expect(message.raw.current).to.include({id: 77, name: 'Ann', first_name: 'Sample'})
      const events = await waitFor('the notification delivered', async () => {
        const r = await ce(sb, `/instances/${inst.id}/events`)
        return r.body[0]?.status === 'DELIVERED' ? r.body : undefined
      })
      expect(events[0]).to.include({instanceId: inst.id, source: 'webhook'})
      expect(events[0].eventDate).to.be.a('string')
      expect(events[0].id).to.be.a('number')
    })

    it('accepts a v2 delivery posted directly, without a signature when no key is set', async () => {
      const inst = (
        await ce(sb, '/instances', {method: 'POST', json: instanceBody({'event.notification.enabled': 'true', 'event.notification.callback.url': rx.url})})
      ).body
      const body = pipedriveV2Payload({object: 'deal', action: 'delete', id: 9})
      const r = await call(`${sb.url}/elements/api-v2/events/pipedrive/${encodeInstanceId(inst.id)}`, {method: 'POST', json: body})
      expect(r.status).to.equal(200)
      const [got] = await rx.waitFor(1)
      expect(got.headers['elements-webhook-signature']).to.equal(undefined)
      expect(got.json.message.events[0]).to.include({objectId: '9', objectType: 'opportunities', eventType: 'DELETED'})
      expect(got.json.message.raw).to.deep.equal(body)
    })

    it('answers 404 for an unknown or invalid instance id', async () => {
      for (const seg of [encodeInstanceId(123), 'not-base64!', encodeInstanceId('abc')]) {
        const r = await call(`${sb.url}/elements/api-v2/events/pipedrive/${seg}`, {method: 'POST', json: {}})
        expect(r.status, seg).to.equal(404)
        expect(r.body.message).to.be.a('string')
      }
    })

    it('records but does not forward events of an instance with events disabled', async () => {
      const inst = (await ce(sb, '/instances', {method: 'POST', json: instanceBody({'event.notification.callback.url': rx.url})})).body
      const r = await call(`${sb.url}/elements/api-v2/events/pipedrive/${encodeInstanceId(inst.id)}`, {
        method: 'POST',
        json: pipedriveV1Payload({object: 'deal', action: 'updated', id: 3}),
      })
      expect(r.status).to.equal(200)
      const events = (await ce(sb, `/instances/${inst.id}/events`)).body
      expect(events).to.have.length(1)
      expect(events[0].status).to.equal('NOT_FORWARDED')
      expect(events[0].events[0]).to.include({objectType: 'opportunities', eventType: 'UPDATED'})
      // nothing sent, nothing scheduled
      expect(rx.received).to.have.length(0)
      expect(clock.pending()).to.deep.equal([])
    })

    it('retries a failed notification after 1 min, then 5 min', async () => {
      await rx.close()
      rx = await receiver(n => (n < 2 ? 500 : 200))
      const inst = (
        await ce(sb, '/instances', {method: 'POST', json: instanceBody({'event.notification.enabled': 'true', 'event.notification.callback.url': rx.url})})
      ).body
      const sent = clock.iso()
      await call(`${sb.url}/elements/api-v2/events/pipedrive/${encodeInstanceId(inst.id)}`, {method: 'POST', json: pipedriveV1Payload({object: 'note', action: 'added', id: 1})})
      await rx.waitFor(1)
      await clock.scheduled(60_000)
      await clock.tick(60_000)
      await rx.waitFor(2)
      await clock.scheduled(300_000)
      await clock.tick(299_999)
      expect(rx.received).to.have.length(2)
      await clock.tick(1)
      const got = await rx.waitFor(3)
      expect(new Set(got.map(g => g.json.message.eventId)).size).to.equal(1)
      const events = await waitFor('the notification delivered', async () => {
        const r = await ce(sb, `/instances/${inst.id}/events`)
        return r.body[0]?.status === 'DELIVERED' ? r.body : undefined
      })
      expect(events[0].notification.attempts).to.equal(3)
      expect(events[0].eventDate).to.equal(sent)
      expect(clock.pending()).to.deep.equal([])
    })
  })

  describe('polling', () => {
    let rx: Receiver

    beforeEach(async () => {
      rx = await receiver()
    })

    afterEach(async () => {
      await rx.close()
    })

    it('notifies the changes of the polled resources on demand, 10 events at most per notification', async () => {
      const inst = (
        await ce(sb, '/instances', {
          method: 'POST',
          json: instanceBody({
            'event.notification.enabled': 'true',
            'event.notification.callback.url': rx.url,
            'event.vendor.type': 'polling',
            'event.poller.refresh_interval': '100000',
            'event.poller.configuration': {contacts: {url: '/hubs/crm/contacts', idField: 'id'}},
            'event.notification.signature.key': 'poll-key',
          }),
        })
      ).body
      for (let id = 1; id <= 12; id++) await hook(sb, '/events', {
        object: 'person', action: 'added', id, data: {id, name: `p${id}`},
      })
      await hook(sb, '/events', {object: 'deal', action: 'added', id: 500})
      await hook(sb, '/events', {
        object: 'person', action: 'change', id: 3, data: {id: 3, name: 'p3b'},
      })
      await hook(sb, '/events', {object: 'person', action: 'delete', id: 12})
      expect((await hook(sb, '/poll', {})).body.notifications).to.equal(2)
      const got = await rx.waitFor(2)
      const sizes = got.map(g => g.json.message.events.length).sort()
      expect(sizes).to.deep.equal([1, 10])
      const events = got.flatMap(g => g.json.message.events)
      expect(events.every((e: any) => e.objectType === 'contacts' && e.eventType === 'CREATED')).to.equal(true)
      // deleted objects are not seen by a poller; one event per object
      expect(events.map((e: any) => Number(e.objectId)).sort((a: number, b: number) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
      const ten = got.find(g => g.json.message.events.length === 10)!
      expect(ten.json.message.raw.contacts).to.have.length(10)
      expect(verifyElements('poll-key', ten.raw, ten.headers['elements-webhook-signature'] as string)).to.equal(true)
      const p3 = got.flatMap(g => g.json.message.raw.contacts).find((c: any) => c.id === 3)
      expect(p3).to.include({id: 3, name: 'p3b', org_name: 'Sample Org'})
      const recorded = (await ce(sb, `/instances/${inst.id}/events`)).body
      expect(recorded).to.have.length(2)
      expect(recorded.every((e: any) => e.source === 'polling')).to.equal(true)
      expect((await hook(sb, '/poll', {})).body.notifications).to.equal(0)
    })

    it('polls by itself every refresh_interval minutes', async () => {
      const inst = (await ce(sb, '/instances', {
        method: 'POST',
        json: instanceBody({
          'event.notification.enabled': 'true',
          'event.notification.callback.url': rx.url,
          'event.vendor.type': 'polling',
          'event.poller.refresh_interval': '1',
        }),
      })).body
      await hook(sb, '/events', {object: 'deal', action: 'added', id: 41})
      expect(clock.pending()).to.deep.equal([60_000])
      await clock.tick(59_999)
      expect(rx.received).to.have.length(0)
      await clock.tick(1)
      const [first] = await rx.waitFor(1)
      expect(first.json.message.events[0]).to.include({objectId: '41', objectType: 'opportunities', eventType: 'CREATED'})
      await hook(sb, '/events', {object: 'deal', action: 'updated', id: 41})
      await clock.tick(60_000)
      const got = await rx.waitFor(2)
      expect(got[1].json.message.events).to.have.length(1)
      expect(got[1].json.message.events[0]).to.include({objectId: '41', eventType: 'UPDATED'})
      // nothing changed since: the next poll records and sends nothing, and the poller goes on
      await clock.tick(60_000)
      expect((await ce(sb, `/instances/${inst.id}/events`)).body).to.have.length(2)
      expect(clock.pending()).to.deep.equal([60_000])
    })

    it('polls on demand with POST /sandbox/poll and stops when the instance is deleted', async () => {
      const inst = (
        await ce(sb, '/instances', {
          method: 'POST',
          json: instanceBody({
            'event.notification.enabled': 'true',
            'event.notification.callback.url': rx.url,
            'event.vendor.type': 'polling',
            'event.poller.refresh_interval': '600',
          }),
        })
      ).body
      await hook(sb, '/events', {object: 'organization', action: 'create', id: 1})
      await hook(sb, '/events', {object: 'note', action: 'create', id: 2})
      const polled = await hook(sb, '/poll', {})
      expect(polled.body.notifications).to.equal(1)
      const [got] = await rx.waitFor(1)
      expect(got.json.message.events.map((e: any) => e.objectType)).to.deep.equal(['accounts'])
      await ce(sb, `/instances/${inst.id}`, {method: 'DELETE'})
      await hook(sb, '/events', {object: 'organization', action: 'create', id: 3})
      expect((await hook(sb, '/poll', {})).body.notifications).to.equal(0)
    })
  })
})

describe('sandbox: Cloud Elements rules (unit)', () => {
  it('encodes and decodes events URL ids', () => {
    expect(encodeInstanceId(20_931)).to.equal('MjA5MzE=')
    expect(decodeInstanceId('MjA5MzE=')).to.equal(20_931)
    expect(decodeInstanceId('MjA5MzE%3D')).to.equal(20_931)
    expect(decodeInstanceId('MjA5MzE')).to.equal(20_931)
    expect(decodeInstanceId('YWJj')).to.equal(undefined)
    expect(decodeInstanceId('%%%')).to.equal(undefined)
  })

  it('validates configurations', () => {
    expect(validateConfiguration(LOGIN)).to.equal(undefined)
    expect(validateConfiguration({'pipedrive.api.token': 't'})).to.equal(undefined)
    expect(validateConfiguration({...LOGIN, 'event.poller.refresh_interval': 'soon'})).to.match(/refresh_interval/)
    expect(validateConfiguration({...LOGIN, 'event.notification.enabled': 'true', 'event.notification.callback.url': 'nope'})).to.match(/callback\.url/)
  })

  it('normalizes v1 and v2 deliveries, and nothing from an unknown body', () => {
    expect(normalizePipedriveDelivery(pipedriveV1Payload({object: 'organization', action: 'merged', id: 4}))[0]).to.include({
      objectId: '4',
      objectType: 'accounts',
      eventType: 'UPDATED',
    })
    expect(normalizePipedriveDelivery(pipedriveV2Payload({object: 'activity', action: 'create', id: 5}))[0]).to.include({objectType: 'activities', eventType: 'CREATED'})
    expect(normalizePipedriveDelivery({foo: 1})).to.deep.equal([])
  })
})
