import {expect} from 'chai'

import {
  eventMatches, inferVersion, parseEvent, STAGE_WARNING, targetOf, V1_ACTIONS, V1_OBJECTS, V2_ACTIONS, V2_OBJECTS,
} from '../../../src/lib/pipedrive/events.js'
import {usage} from '../../support/usage.js'

const CE = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='

describe('event grammar', () => {
  it('accepts every documented v2 action and object on version 2.0', () => {
    for (const a of V2_ACTIONS) {
      for (const o of V2_OBJECTS) {
        const e = parseEvent(`${a}.${o}`, {version: '2.0'})
        expect(e).to.include({action: a, object: o, version: '2.0'})
      }
    }
  })

  it('accepts every documented v1 action and object on version 1.0', () => {
    for (const a of V1_ACTIONS) {
      for (const o of V1_OBJECTS) {
        const e = parseEvent(`${a}.${o}`, {version: '1.0'})
        expect(e).to.include({action: a, object: o, version: '1.0'})
      }
    }
  })

  it('infers 1.0 from v1 words, 2.0 from v2 words and wildcards', () => {
    expect(parseEvent('updated.deal').version).to.equal('1.0')
    expect(parseEvent('added.person').version).to.equal('1.0')
    expect(parseEvent('change.deal').version).to.equal('2.0')
    expect(parseEvent('*.deal').version).to.equal('2.0')
    expect(parseEvent('*.*').version).to.equal('2.0')
    expect(parseEvent('*.activityType').version).to.equal('1.0')
    expect(parseEvent('*.lead').version).to.equal('2.0')
    expect(parseEvent('*.project').version).to.equal('2.0')
  })

  it('infers 1.0 for a Cloud Elements / Open Connectors target, by its kind (no URL needed)', () => {
    expect(parseEvent('*.*', {target: 'elements'}).version).to.equal('1.0')
    expect(parseEvent('*.deal', {target: 'elements'}).version).to.equal('1.0')
    expect(parseEvent('*.deal', {target: 'url'}).version).to.equal('2.0')
    // what the target cannot change: v1 words are 1.0, v2-only objects 2.0
    expect(parseEvent('updated.deal', {target: 'url'}).version).to.equal('1.0')
    expect(parseEvent('*.lead', {target: 'elements'}).version).to.equal('2.0')
    expect(inferVersion('*', 'deal', 'url')).to.equal('2.0')
    expect(inferVersion('*', 'deal', 'elements')).to.equal('1.0')
    expect(inferVersion('*', 'deal')).to.equal('2.0')
  })

  it('targetOf: a platform events URL (any host) is an elements target; anything else a url target', () => {
    expect(targetOf(CE)).to.equal('elements')
    expect(targetOf('https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2/events/pipedrive/MjA5MzE=')).to.equal('elements')
    expect(targetOf('https://example.com/hook')).to.equal('url')
    expect(targetOf(null)).to.equal('url')
  })

  it('explains v1 actions on 2.0 with the v2 equivalent', () => {
    const e = usage(() => parseEvent('updated.deal', {version: '2.0'}))
    expect(e.line).to.contain('change.deal')
    expect(usage(() => parseEvent('added.person', {version: '2.0'})).line).to.contain('create.person')
    expect(usage(() => parseEvent('deleted.note', {version: '2.0'})).line).to.contain('delete.note')
    expect(usage(() => parseEvent('merged.person', {version: '2.0'})).line).to.contain('change.person')
  })

  it('explains v2 actions on 1.0 with the v1 equivalent', () => {
    expect(usage(() => parseEvent('change.deal', {version: '1.0'})).line).to.contain('updated.deal')
    const e = usage(() => parseEvent('create.deal', {target: 'elements'}))
    expect(e.line).to.contain('added.deal').and.contain('Cloud Elements')
  })

  it('rejects activityType on 2.0 and lead on 1.0', () => {
    expect(usage(() => parseEvent('*.activityType', {version: '2.0'})).line).to.match(/activityType has no version 2\.0/)
    expect(usage(() => parseEvent('updated.lead')).line).to.match(/"lead" exists only in version 2\.0/)
    expect(usage(() => parseEvent('*.project', {version: '1.0'})).line).to.contain('2.0')
  })

  it('lists the valid objects for an unknown one, with a suggestion', () => {
    const e = usage(() => parseEvent('*.deals'))
    expect(e.line).to.contain('Did you mean "*.deal"').and.contain('Valid objects for version 2.0: activity, deal, lead')
    expect(usage(() => parseEvent('added.widget')).line).to.contain('Valid objects for version 1.0').and.contain('activityType')
  })

  it('rejects malformed events and unknown actions', () => {
    expect(usage(() => parseEvent('deal')).line).to.contain('ACTION.OBJECT')
    expect(usage(() => parseEvent('a.b.c')).line).to.contain('ACTION.OBJECT')
    expect(usage(() => parseEvent('upated.deal')).line).to.contain('Did you mean "updated.deal"')
    expect(usage(() => parseEvent('*.deal', {version: '3.0'})).line).to.contain('--version 1.0')
  })

  it('warns about stage events', () => {
    expect(parseEvent('*.stage').warnings).to.deep.equal([STAGE_WARNING])
    expect(parseEvent('updated.stage').warnings).to.have.length(1)
    expect(parseEvent('change.stage').warnings[0]).to.contain('change.deal')
    expect(parseEvent('change.deal').warnings).to.deep.equal([])
  })

  it('matches filters across vocabularies', () => {
    expect(eventMatches({action: 'updated', object: 'deal'}, {action: 'change', object: 'deal'})).to.equal(true)
    expect(eventMatches({action: '*', object: 'deal'}, {action: 'added', object: 'deal'})).to.equal(true)
    expect(eventMatches({action: '*', object: 'deal'}, {action: 'added', object: 'person'})).to.equal(false)
    expect(eventMatches({action: 'delete', object: '*'}, {action: 'change', object: 'person'})).to.equal(false)
  })
})
