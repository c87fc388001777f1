import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {pipedriveBody} from '../../../src/lib/deliveries/build.js'
import {sampleCatalog} from '../../../src/lib/deliveries/catalog.js'
import {
  CUSTOM_FIELD_OBJECTS, MERGEABLE_OBJECTS, pipedriveSample, pipelinerSample, pipelinerSampleEntities, sampleObjects,
} from '../../../src/lib/deliveries/samples.js'
import {buildDeliveries, TRIGGER_CONTEXT} from '../../../src/lib/deliveries/trigger.js'
import {V1_OBJECTS, V2_OBJECTS} from '../../../src/lib/pipedrive/events.js'
import {PIPELINER_ENTITIES} from '../../../src/lib/pipeliner/events.js'
import {type Shape, shapeProblems} from '../../support/doc-shapes.js'

const here = dirname(fileURLToPath(import.meta.url))
const v1Doc = JSON.parse(readFileSync(join(here, '..', '..', 'fixtures', 'pipedrive-docs', 'v1-envelope.json'), 'utf8')) as {
  activityMeta: Record<string, Shape>
  blocks: Record<string, {current: string; previous: string}>
  envelope: Record<string, Shape>
  meta: Record<string, Shape>
}

const body = (version: '1.0' | '2.0', req: Parameters<typeof pipedriveSample>[1]): any[] =>
  pipedriveSample(version, req).map(e => pipedriveBody(version, e, TRIGGER_CONTEXT))
const NOW = new Date('2026-03-04T05:06:07.089Z')
// v1 guide: "for changes specific to the user object, the change object should be accessed as current[0] and previous[0]"
const unwrap = (b: any) => (Array.isArray(b) ? b[0] : b)

describe('deliveries: samples', () => {
  it('has a sample of every object of both versions (and nothing else)', () => {
    expect(sampleObjects('2.0').sort()).to.deep.equal(V2_OBJECTS.filter(o => o !== '*').sort())
    expect(sampleObjects('1.0').sort()).to.deep.equal(V1_OBJECTS.filter(o => o !== '*').sort())
    expect(pipelinerSampleEntities().sort()).to.deep.equal([...PIPELINER_ENTITIES].sort())
    expect(MERGEABLE_OBJECTS).to.deep.equal(['deal', 'organization', 'person'])
    expect(CUSTOM_FIELD_OBJECTS).to.deep.equal(['activity', 'deal', 'lead', 'organization', 'person', 'product', 'project'])
  })

  describe('v1: the documented envelope, objects in the API v1 format', () => {
    for (const object of V1_OBJECTS.filter(o => o !== '*')) {
      it(`${object}: added, updated and deleted`, () => {
        for (const action of ['added', 'updated', 'deleted']) {
          const [p] = body('1.0', {action, now: NOW, object})
          expect(shapeProblems(p, v1Doc.envelope), `${action}.${object}`).to.deep.equal([])
          expect(shapeProblems(p.meta, v1Doc.meta), `${action}.${object} meta`).to.deep.equal([])
          expect(p.meta).to.include({
            action, object, timestamp: 1_772_600_767, timestamp_micro: 1_772_600_767_089_000, v: 1,
          })
          expect(String(p.meta.timestamp)).to.have.length(10)
          expect(String(p.meta.timestamp_micro)).to.have.length(16)
          expect(p.event).to.equal(`${action}.${object}`)
          expect(p.retry).to.equal(0)
          expect(shapeProblems(p.meta, v1Doc.activityMeta), 'activity meta').to.have.length(object === 'activity' ? 0 : 2)
          const blocks = v1Doc.blocks[action]
          expect(p.current === null ? 'null' : typeof unwrap(p.current), 'current').to.equal(blocks.current)
          expect(p.previous === null ? 'null' : typeof unwrap(p.previous), 'previous').to.equal(blocks.previous)
          if (object === 'user') expect(Array.isArray(p.current ?? p.previous)).to.equal(true)
          const state = unwrap(p.current ?? p.previous)
          expect(state.id).to.equal(p.meta.id)
          // API v1 times: "YYYY-MM-DD HH:MM:SS"
          const time = state.add_time ?? state.created
          expect(time, 'time format').to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
        }
      })
    }

    it('updated: previous is the full object before the change', () => {
      const [p] = body('1.0', {action: 'updated', now: NOW, object: 'deal'})
      expect(Object.keys(p.previous).sort()).to.deep.equal(Object.keys(p.current).sort())
      expect(p.previous.stage_id).to.equal(1)
      expect(p.current.stage_id).to.equal(2)
      expect(p.current.update_time > p.previous.update_time).to.equal(true)
    })

    it('an object only webhooks v2 have has no v1 sample', () => {
      expect(() => pipedriveSample('1.0', {action: 'added', object: 'lead'})).to.throw(PdhooksError, /No webhooks v1 sample of "lead"/)
    })
  })

  describe('v2', () => {
    it('create: the object as it is now, previous null; times ISO as documented', () => {
      const [p] = body('2.0', {action: 'create', now: NOW, object: 'deal'})
      expect(p.previous).to.equal(null)
      expect(p.data.add_time).to.equal('2026-03-04T05:06:07Z')
      expect(p.meta.timestamp).to.equal('2026-03-04T05:06:07.089Z')
      expect(p.meta).to.include({
        action: 'create', company_id: '8087566', entity: 'deal', entity_id: '8', user_id: '12415231', version: '2.0',
      })
      expect(p.data.custom_fields).to.deep.equal({})
    })

    it('change: previous holds the changed fields with their earlier value', () => {
      const [p] = body('2.0', {action: 'change', now: NOW, object: 'lead'})
      expect(p.previous).to.deep.equal({
        is_archived: true, update_time: '2026-03-04T04:06:07.089Z', value: {amount: 300, currency: 'EUR'},
      })
      expect(p.data).to.include({is_archived: false, update_time: '2026-03-04T05:06:07.089Z'})
    })

    it('delete: data null, previous the last state', () => {
      const [p] = body('2.0', {action: 'delete', now: NOW, object: 'note'})
      expect(p.data).to.equal(null)
      expect(p.previous).to.include({active_flag: false, content: 'Deal note (updated)', id: 1})
      expect(p.previous.update_time < p.meta.timestamp).to.equal(true)
    })

    it('user: meta.id is the user id, meta.timestamp epoch seconds, no permitted_user_ids; a delete is a deactivation', () => {
      const [created] = body('2.0', {action: 'create', now: NOW, object: 'user'})
      expect(created.meta).to.include({entity_id: '16943176', id: '16943176', timestamp: 1_772_600_767})
      expect(created.meta).not.to.have.property('permitted_user_ids')
      expect(created.data.id).to.equal('16943176')
      const [deleted] = body('2.0', {action: 'delete', now: NOW, object: 'user'})
      expect(deleted.meta.action).to.equal('change')
      expect(deleted.data.active_flag).to.equal(false)
      expect(deleted.previous.active_flag).to.equal(true)
    })

    it('other objects carry permitted_user_ids as strings', () => {
      const [p] = body('2.0', {action: 'change', object: 'task'})
      expect(p.meta.permitted_user_ids).to.deep.equal(['12415231'])
    })

    it('numbers each delivery of a series with another id; a uuid id gets a fresh uuid', () => {
      expect(pipedriveSample('2.0', {action: 'create', n: 2, object: 'deal'})[0].id).to.equal(10)
      expect(pipedriveSample('2.0', {action: 'create', n: 2, object: 'user'})[0].id).to.equal('16943178')
      const lead0 = pipedriveSample('2.0', {action: 'create', object: 'lead'})[0].id
      const lead1 = pipedriveSample('2.0', {action: 'create', n: 1, object: 'lead'})[0].id
      expect(lead0).to.equal('b1810230-6c0d-11ed-9826-a53d0eb706a5')
      expect(lead1).to.match(/^[\da-f-]{36}$/).and.not.equal(lead0)
    })
  })

  describe('merges, as documented', () => {
    it('v2: the delete of the merged object (merged_to_id), then the change of the surviving one (merged_from_id)', () => {
      const [deleted, changed] = body('2.0', {
        action: 'merged', id: 40, now: NOW, object: 'person',
      })
      expect(deleted.meta).to.include({
        action: 'delete', entity: 'person', entity_id: '41', merged_to_id: '40',
      })
      expect(deleted.meta).not.to.have.property('merged_from_id')
      expect(deleted.data).to.equal(null)
      expect(deleted.previous.id).to.equal(41)
      expect(changed.meta).to.include({action: 'change', entity_id: '40', merged_from_id: '41'})
      expect(changed.meta).not.to.have.property('merged_to_id')
      expect(changed.data.id).to.equal(40)
      expect(Object.keys(changed.previous)).to.deep.equal(['update_time'])
    })

    it('v1: merged (about the object merged into), then deleted (about the object merged)', () => {
      const [merged, deleted] = body('1.0', {
        action: 'merged', id: 40, mergedFromId: 7, object: 'organization',
      })
      expect(merged.event).to.equal('merged.organization')
      expect(merged.meta).to.include({action: 'merged', id: 40})
      expect(merged.current.id).to.equal(40)
      expect(merged.previous.id).to.equal(40)
      expect(deleted.event).to.equal('deleted.organization')
      expect(deleted.meta.id).to.equal(7)
      expect(deleted.current).to.equal(null)
      expect(deleted.previous).to.include({id: 7, name: 'Sample Org Ltd'})
    })

    it('a series of merges (--count) never reuses an id', () => {
      const ids = [0, 1, 2].flatMap(n => pipedriveSample('2.0', {action: 'merged', n, object: 'deal'})).map(e => e.id)
      expect(ids).to.deep.equal([9, 8, 11, 10, 13, 12])
    })

    it('only deals, persons and organizations merge', () => {
      expect(() => pipedriveSample('2.0', {action: 'merged', object: 'lead'})).to.throw(PdhooksError, 'A lead cannot be merged.')
      .with.property('hint', 'Pipedrive merges deal, organization, person.')
    })
  })

  describe('--set', () => {
    it('a field set on a change is shown as changed, instead of the documented update', () => {
      const [p] = body('2.0', {action: 'change', object: 'deal', sets: ['value=5000', 'title=Big deal']})
      expect(p.data).to.include({title: 'Big deal', value: 5000})
      expect(Object.keys(p.previous).sort()).to.deep.equal(['title', 'update_time', 'value'])
      expect(p.previous).to.include({title: 'Sample Org deal', value: 100})
      expect(p.data.custom_fields).to.deep.equal({})
    })

    it('dot paths set nested fields; JSON values are parsed, anything else is a string', () => {
      const [p] = body('2.0', {action: 'create', object: 'lead', sets: ['value.amount=750', 'title=007', 'label_ids=[]', 'was_seen=false']})
      expect(p.data.value).to.deep.equal({amount: 750, currency: 'EUR'})
      // "007" is not JSON: it stays a string
      expect(p.data).to.include({title: '007', was_seen: false})
      expect(p.data.label_ids).to.deep.equal([])
    })

    it('data (the sandbox) holds before and after the change; previous gives earlier values', () => {
      const [p] = pipedriveSample('2.0', {
        action: 'change', data: {title: 'New', value: 5}, object: 'deal', previous: {title: 'Old'},
      })
      expect(p.data).to.include({title: 'New', value: 5})
      expect(Object.keys(p.previous!).sort()).to.deep.equal(['title', 'update_time'])
    })

    it('a bad --set is a usage error naming it', () => {
      expect(() => pipedriveSample('2.0', {action: 'create', object: 'deal', sets: ['nope']})).to.throw(PdhooksError, /Invalid --set "nope"/)
      expect(() => pipedriveSample('2.0', {action: 'create', object: 'deal', sets: ['__proto__.x=1']})).to.throw(PdhooksError, /reserved/)
    })
  })

  describe('Pipeliner', () => {
    it('entities with fresh uuids and --set applied; custom_fields.KEY:TYPE is refused', () => {
      const a = pipelinerSample('Opportunity', ['name=Big', 'value.base_value=5'])
      const b = pipelinerSample('Opportunity')
      expect(a.id).to.match(/^[\da-f-]{36}$/).and.not.equal(b.id)
      expect(a.name).to.equal('Big')
      expect((a.value as any).base_value).to.equal(5)
      expect(() => pipelinerSample('Account', ['custom_fields.x:double=1'])).to.throw(PdhooksError, /Pipedrive custom field/)
    })
  })

  it('trigger --list: every listed sample builds, with the listed number of deliveries', () => {
    const catalog = sampleCatalog()
    expect(catalog.filter(c => c.format === 'pipedrive' && c.version === '2.0')).to.have.length((16 * 3) + 3)
    expect(catalog.filter(c => c.format === 'pipedrive' && c.version === '1.0')).to.have.length((10 * 3) + 3)
    expect(catalog.filter(c => c.format === 'pipeliner')).to.have.length(53)
    for (const c of catalog) {
      const sent = buildDeliveries({event: c.event, format: c.format, version: c.version ?? undefined})
      expect(sent, `${c.format} ${c.version} ${c.event}`).to.have.length(c.deliveries)
    }
  })
})
