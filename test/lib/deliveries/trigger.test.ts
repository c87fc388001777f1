import {expect} from 'chai'

import {fileDeliveries, readFileBodies} from '../../../src/lib/deliveries/from-file.js'
import {verifyBasicAuth, verifyElements, verifyPipeliner} from '../../../src/lib/deliveries/signatures.js'
import {
  authenticateRaw, buildDeliveries, chooseElementsEvent, choosePipedriveEvent, eventWarnings, sandboxRequest,
} from '../../../src/lib/deliveries/trigger.js'
import {usage, usageAsync} from '../../support/usage.js'

const json = (d: {body: Buffer}) => JSON.parse(d.body.toString('utf8'))

describe('trigger (library)', () => {
  describe('Pipedrive events', () => {
    it('merged.X is a merge in either version; v2 words stay v2, v1 words v1', () => {
      expect(choosePipedriveEvent('merged.deal')).to.include({action: 'merged', object: 'deal', version: '1.0'})
      expect(choosePipedriveEvent('merged.deal', '2.0')).to.include({action: 'merged', version: '2.0'})
      expect(choosePipedriveEvent('change.deal')).to.include({action: 'change', version: '2.0'})
      expect(choosePipedriveEvent('updated.deal')).to.include({action: 'updated', version: '1.0'})
      expect(usage(() => choosePipedriveEvent('merged.lead')).message).to.equal('A lead cannot be merged.')
      expect(usage(() => choosePipedriveEvent('merged.deals')).hint).to.match(/Did you mean "updated.deal"/)
      expect(usage(() => choosePipedriveEvent('*.deal')).message).to.match(/wildcard/)
      expect(usage(() => choosePipedriveEvent('change.deal', '1.0')).hint).to.match(/updated\.deal/)
    })

    it('merged.deal --version 2.0 sends the two documented deliveries, authenticated', () => {
      const sent = buildDeliveries({
        basicAuth: {password: 'pw', user: 'u'}, event: 'merged.deal', format: 'pipedrive', version: '2.0',
      })
      expect(sent.map(d => d.description)).to.deep.equal([
        'pipedrive v2.0 delete.deal 9 (merged into 8)',
        'pipedrive v2.0 change.deal 8 (merged from 9)',
      ])
      expect(json(sent[0]).meta).to.include({action: 'delete', merged_to_id: '8'})
      expect(json(sent[1]).meta).to.include({action: 'change', merged_from_id: '9'})
      for (const d of sent) expect(verifyBasicAuth(d.headers.authorization, 'u', 'pw')).to.equal(true)
    })

    it('warns that a deleted user is documented as a change, and that stage events are not deal moves', () => {
      expect(eventWarnings({event: 'delete.user', format: 'pipedrive'})[0]).to.match(/change\.user/)
      expect(eventWarnings({event: 'deleted.user', format: 'pipedrive'})).to.deep.equal([])
      expect(eventWarnings({event: 'change.stage', format: 'pipedrive'})[0]).to.match(/not when a deal moves/)
    })
  })

  describe('Cloud Elements notifications', () => {
    it('take either vocabulary for the same event: change.deal and updated.deal are both UPDATED', () => {
      for (const event of ['change.deal', 'updated.deal']) {
        const [d] = buildDeliveries({event, format: 'elements', instanceId: '7'})
        const {message} = json(d)
        expect(message.events[0], event).to.include({
          elementKey: 'pipedrive', eventType: 'UPDATED', objectId: '8', objectType: 'opportunities',
        })
        expect(message.raw.event, event).to.equal('updated.deal')
        expect(message.instanceId).to.equal('7')
        expect(d.headers['elements-webhook-id']).to.equal(message.eventId)
      }
    })

    it('--version 2.0 picks the vendor body Pipedrive sent the platform, not the notification', () => {
      const choice = chooseElementsEvent('change.deal', '2.0')
      expect(choice).to.include({action: 'change', version: '2.0'})
      expect(chooseElementsEvent('updated.deal', '2.0')).to.include({action: 'change'})
      expect(chooseElementsEvent('create.lead')).to.include({version: '2.0'})
      const [d] = buildDeliveries({event: 'change.deal', format: 'elements', version: '2.0'})
      expect(json(d).message.raw.meta).to.include({action: 'change', version: '2.0'})
      expect(usage(() => chooseElementsEvent('added.activityType', '2.0')).message).to.match(/activityType/)
    })

    it('a merge is two notifications (UPDATED and DELETED), signed', () => {
      const sent = buildDeliveries({
        elementsKey: 'k', event: 'merged.person', format: 'elements', version: '2.0',
      })
      expect(sent.map(d => json(d).message.events[0].eventType)).to.deep.equal(['DELETED', 'UPDATED'])
      for (const d of sent) expect(verifyElements('k', d.body, d.headers['elements-webhook-signature'])).to.equal(true)
    })

    it('the response form', () => {
      const [d] = buildDeliveries({
        elementsForm: 'response', event: 'added.person', format: 'elements', instanceId: '31',
      })
      const body = json(d)
      expect(body).to.include({eventId: d.headers['elements-webhook-id'], instanceId: '31'})
      expect(body.response.events[0]).to.include({eventType: 'CREATED', objectType: 'contacts'})
    })
  })

  it('the sandbox request: the change and its --set values, validated first', () => {
    expect(sandboxRequest({event: 'merged.deal', sets: ['value=5']})).to.deep.equal({action: 'merged', object: 'deal', set: ['value=5']})
    expect(sandboxRequest({event: 'create.lead'})).to.deep.equal({action: 'create', object: 'lead'})
    const pl = sandboxRequest({event: 'Opportunity.Won', sets: ['name=Big']})
    expect(pl.event).to.equal('Opportunity.Won')
    expect((pl.entity as any).name).to.equal('Big')
    expect(usage(() => sandboxRequest({event: 'change.deal', sets: ['custom_fields.k:double=x']})).message).to.match(/double/)
  })

  describe('--from FILE', () => {
    const keys = {basicAuth: {password: 'pw', user: 'u'}, elementsKey: 'ce-key', pipelinerKey: '01234567-abcd-dcba-ffff-000000000000'}
    const auth = (format: any, body: Buffer, headers: Record<string, string>) => authenticateRaw(format, body, headers, keys)
    const v2 = buildDeliveries({event: 'change.deal', format: 'pipedrive'})[0].body.toString()
    const ce = buildDeliveries({event: 'added.person', format: 'elements'})[0].body.toString()
    const pl = buildDeliveries({event: 'Account.Create', format: 'pipeliner'})[0].body.toString()

    it('a JSON file is one payload, sent byte for byte (pretty-printed too)', async () => {
      const pretty = JSON.stringify(JSON.parse(v2), null, 2)
      const [d] = fileDeliveries(await readFileBodies('p.json', () => `${pretty}\n`), {authenticate: auth})
      expect(d.body.toString()).to.equal(pretty)
      expect(d.description).to.equal('p.json: pipedrive-v2 change.deal 8')
      expect(verifyBasicAuth(d.headers.authorization, 'u', 'pw')).to.equal(true)
    })

    it('NDJSON: payloads and listen journal lines, each in its own format, signed afresh', async () => {
      const journal = JSON.stringify({
        body: ce, headers: {
          authorization: 'Basic ****', 'content-type': 'application/json', 'elements-webhook-id': 'evt-1', 'elements-webhook-signature': 'sha256=old', host: 'x',
        }, id: 'j1', method: 'POST', path: '/', source: 'elements', time: 't',
      })
      const file = `${v2}\n\n${journal}\n${pl}\n`
      const sent = fileDeliveries(await readFileBodies('f.ndjson', () => file), {authenticate: auth})
      expect(sent.map(d => d.description.split(':')[0] + ':' + d.description.split(':')[1])).to.deep.equal(['f.ndjson:1', 'f.ndjson:3', 'f.ndjson:4'])
      expect(sent[1].body.toString()).to.equal(ce)
      expect(sent[1].headers['elements-webhook-id']).to.equal('evt-1')
      expect(sent[1].headers).not.to.have.property('authorization')
      expect(sent[1].headers).not.to.have.property('host')
      expect(verifyElements('ce-key', sent[1].body, sent[1].headers['elements-webhook-signature'])).to.equal(true)
      expect(verifyPipeliner(keys.pipelinerKey, sent[2].body, sent[2].headers['webhook-signature'])).to.equal(true)
    })

    it('a base64 journal body is sent as its bytes', async () => {
      const line = JSON.stringify({
        bodyBase64: Buffer.from(v2).toString('base64'), headers: {}, id: 'j2', source: 'pipedrive-v2',
      })
      const [d] = fileDeliveries(await readFileBodies('j.ndjson', () => line), {authenticate: auth})
      expect(d.body.toString()).to.equal(v2)
    })

    it('refuses what it cannot send, naming the line', async () => {
      expect((await usageAsync(readFileBodies('e.json', () => '  \n'))).message).to.equal('e.json is empty.')
      expect((await usageAsync(readFileBodies('n.ndjson', () => `${v2}\n{oops\n`))).message).to.equal('n.ndjson:2 is not JSON.')
      expect((await usageAsync(readFileBodies('/no/such/file.json'))).message).to.equal('Cannot read /no/such/file.json: no such file.')
      const bodies = await readFileBodies('u.json', () => '{"hello":1}')
      const unknown = usage(() => fileDeliveries(bodies, {authenticate: auth}))
      expect(unknown.message).to.equal('u.json is not a Pipedrive, Cloud Elements or Pipeliner delivery.')
      const forced = fileDeliveries(await readFileBodies('u.json', () => '{"hello":1}'), {authenticate: auth, format: 'pipedrive'})
      expect(forced[0].headers.authorization).to.be.a('string')
    })
  })
})
