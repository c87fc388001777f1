import {expect} from 'chai'

import {
  elementsDate,
  elementsEventType,
  elementsNotification,
  elementsObjectType,
  parsePipedrivePayload,
  pipedriveV1Payload,
  pipedriveV2Payload,
  pipelinerChunks,
  pipelinerDelivery,
} from '../../../src/lib/deliveries/payloads.js'
import {toV1Action, toV2Action} from '../../../src/lib/pipedrive/events.js'

const T = '2025-01-02T03:04:05.678Z'

describe('payloads', () => {
  describe('action vocabularies', () => {
    it('maps v2 words to v1 and back', () => {
      expect(toV1Action('create')).to.equal('added')
      expect(toV1Action('change')).to.equal('updated')
      expect(toV1Action('delete')).to.equal('deleted')
      expect(toV1Action('merged')).to.equal('merged')
      expect(toV1Action('*')).to.equal('*')
      expect(toV2Action('added')).to.equal('create')
      expect(toV2Action('updated')).to.equal('change')
      expect(toV2Action('merged')).to.equal('change')
      expect(toV2Action('deleted')).to.equal('delete')
      expect(toV2Action('change')).to.equal('change')
    })

    it('rejects unknown actions', () => {
      expect(() => toV1Action('modified')).to.throw(RangeError, /modified/)
      expect(() => toV2Action('')).to.throw(RangeError)
    })
  })

  it('maps Pipedrive objects to CRM hub resources', () => {
    expect(elementsObjectType('deal')).to.equal('opportunities')
    expect(elementsObjectType('person')).to.equal('contacts')
    expect(elementsObjectType('organization')).to.equal('accounts')
    expect(elementsObjectType('activity')).to.equal('activities')
    expect(elementsObjectType('note')).to.equal('notes')
    expect(elementsObjectType('product')).to.equal('products')
    expect(elementsObjectType('lead')).to.equal('leads')
    expect(elementsObjectType('pipeline')).to.equal('pipelines')
    expect(elementsEventType('added')).to.equal('CREATED')
    expect(elementsEventType('merged')).to.equal('UPDATED')
    expect(elementsEventType('delete')).to.equal('DELETED')
    expect(elementsDate(new Date(T))).to.equal('2025-01-02T03:04:05Z')
  })

  describe('pipedriveV1Payload', () => {
    it('builds an updated.deal delivery with meta, current and a full previous', () => {
      const p = pipedriveV1Payload(
        {
          object: 'deal', action: 'change', id: 42, data: {id: 42, title: 'B', value: 10}, previous: {title: 'A'}, timestamp: T, userId: 7, companyId: 3, host: 'acme.pipedrive.com',
        },
        {webhookId: 9, retry: 2},
      )
      expect(p.v).to.equal(1)
      expect(p.event).to.equal('updated.deal')
      expect(p.retry).to.equal(2)
      expect(p.meta).to.include({
        v: 1, action: 'updated', object: 'deal', id: 42, company_id: 3, user_id: 7, host: 'acme.pipedrive.com', webhook_id: '9', is_bulk_update: false, change_source: 'app',
      })
      expect(p.meta.timestamp).to.equal(Math.floor(Date.parse(T) / 1000))
      expect(p.meta.timestamp_micro).to.equal(Date.parse(T) * 1000)
      expect(p.meta.permitted_user_ids).to.deep.equal([7])
      expect(p.current).to.deep.equal({id: 42, title: 'B', value: 10})
      expect(p.previous).to.deep.equal({id: 42, title: 'A', value: 10})
      expect(p.matches_filters).to.deep.equal({current: [], previous: []})
    })

    it('puts a deleted object in previous and null in current; added has no previous', () => {
      const d = pipedriveV1Payload({
        object: 'person', action: 'delete', id: 5, data: {id: 5, name: 'X'},
      })
      expect(d.event).to.equal('deleted.person')
      expect(d.current).to.equal(null)
      expect(d.previous).to.deep.equal({id: 5, name: 'X'})
      const a = pipedriveV1Payload({object: 'person', action: 'added', id: 6})
      expect(a.current).to.deep.equal({id: 6})
      expect(a.previous).to.equal(null)
      expect(a.meta.webhook_id).to.equal(undefined)
    })

    it('refuses a wildcard action', () => {
      expect(() => pipedriveV1Payload({object: 'deal', action: '*', id: 1})).to.throw(RangeError)
    })
  })

  describe('pipedriveV2Payload', () => {
    it('builds a change delivery with string ids, ISO timestamp and changed-only previous', () => {
      const p = pipedriveV2Payload(
        {
          object: 'deal', action: 'updated', id: 42, data: {id: 42, title: 'B', value: 10}, previous: {id: 42, title: 'A', value: 10}, timestamp: T, userId: 7,
        },
        {
          webhookId: 9, webhookOwnerId: 3, attempt: 2, eventId: 'e-1', correlationId: 'c-1',
        },
      )
      expect(p.meta).to.include({
        action: 'change',
        entity: 'deal',
        entity_id: '42',
        id: 'e-1',
        correlation_id: 'c-1',
        company_id: '1',
        user_id: '7',
        webhook_id: '9',
        webhook_owner_id: '3',
        version: '2.0',
        timestamp: T,
        attempt: 2,
        is_bulk_edit: false,
        type: 'general',
      })
      expect(p.meta.permitted_user_ids).to.deep.equal(['7'])
      expect(p.data).to.deep.equal({id: 42, title: 'B', value: 10})
      expect(p.previous).to.deep.equal({title: 'A'})
    })

    it('uses null data for deletions and null previous for creations', () => {
      const d = pipedriveV2Payload({
        object: 'lead', action: 'deleted', id: 'a-b', data: {id: 'a-b'},
      })
      expect(d.meta.action).to.equal('delete')
      expect(d.data).to.equal(null)
      expect(d.previous).to.deep.equal({id: 'a-b'})
      const c = pipedriveV2Payload({
        object: 'deal', action: 'create', id: 1, data: {id: 1},
      })
      expect(c.previous).to.equal(null)
      expect(c.meta.attempt).to.equal(1)
      expect(c.meta.id).to.match(/^[\da-f-]{36}$/)
    })
  })

  describe('parsePipedrivePayload', () => {
    it('recognises v1, v2 and bare v1 bodies and nothing else', () => {
      const v1 = parsePipedrivePayload(pipedriveV1Payload({
        object: 'deal', action: 'added', id: 3, timestamp: T,
      }, {webhookId: 4}))
      expect(v1).to.include({
        version: 1, object: 'deal', action: 'added', id: '3', webhookId: '4',
      })
      expect(v1?.date.getTime()).to.equal(Math.floor(Date.parse(T) / 1000) * 1000)
      const v2 = parsePipedrivePayload(pipedriveV2Payload({
        object: 'person', action: 'delete', id: 8, timestamp: T,
      }))
      expect(v2).to.include({
        version: 2, object: 'person', action: 'delete', id: '8',
      })
      expect(v2?.date.toISOString()).to.equal(T)
      expect(parsePipedrivePayload({event: 'updated.organization', current: {id: 11}})).to.include({
        version: 1, object: 'organization', action: 'updated', id: '11',
      })
      expect(parsePipedrivePayload({hello: 'world'})).to.equal(undefined)
      expect(parsePipedrivePayload('text')).to.equal(undefined)
      expect(parsePipedrivePayload(null)).to.equal(undefined)
    })
  })

  describe('elementsNotification', () => {
    it('normalizes a change into one event with the vendor payload as raw', () => {
      const n = elementsNotification({
        object: 'person', action: 'added', id: 12, timestamp: T,
      }, {instanceId: 20_931, eventId: 'ev'})
      expect(n.message.eventId).to.equal('ev')
      expect(n.message.instanceId).to.equal(20_931)
      expect(n.message.events).to.deep.equal([{
        objectId: '12', objectType: 'contacts', eventType: 'CREATED', elementKey: 'pipedrive', date: '2025-01-02T03:04:05Z',
      }])
      expect((n.message.raw as any).event).to.equal('added.person')
    })

    it('wraps ready events and a given raw', () => {
      const events = [{
        objectId: '1', objectType: 'accounts', eventType: 'UPDATED' as const, elementKey: 'pipedrive', date: 'd',
      }]
      const n = elementsNotification(events, {instanceId: 5, raw: {accounts: [{id: 1}]}})
      expect(n.message.events).to.equal(events)
      expect(n.message.raw).to.deep.equal({accounts: [{id: 1}]})
      expect(n.message.eventId).to.match(/^[\da-f-]{36}$/)
    })
  })

  describe('pipelinerDelivery', () => {
    it('builds the array items and chunks them', () => {
      const items = pipelinerDelivery(
        [
          {event: 'Opportunity.Update', entity: {id: 'o1'}},
          {
            event: 'Opportunity.Update', entity: {id: 'o2'}, event_time: T, related_entity: {id: 'r'},
          },
        ],
        {webhook: {id: 'w1'}, now: new Date(T)},
      )
      expect(items).to.deep.equal([
        {
          webhook: {id: 'w1'}, event: 'Opportunity.Update', event_time: T, team_space_id: 'sandbox', entity: {id: 'o1'}, related_entity: null,
        },
        {
          webhook: {id: 'w1'}, event: 'Opportunity.Update', event_time: T, team_space_id: 'sandbox', entity: {id: 'o2'}, related_entity: {id: 'r'},
        },
      ])
      expect(pipelinerChunks([1, 2, 3, 4, 5], 2)).to.deep.equal([[1, 2], [3, 4], [5]])
      expect(pipelinerChunks([1, 2], 500)).to.deep.equal([[1, 2]])
      expect(pipelinerChunks([], 3)).to.deep.equal([])
    })
  })
})
