import {expect} from 'chai'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {pipedriveBody} from '../../../src/lib/deliveries/build.js'
import {
  CUSTOM_FIELD_TYPES, customFieldHelp, parseSets, v1CustomField,
} from '../../../src/lib/deliveries/custom-fields.js'
import {pipedriveSample} from '../../../src/lib/deliveries/samples.js'
import {customFieldValueProblems, docFixtures} from '../../support/doc-shapes.js'

const KEY = 'dcf558aac1ae4e8c4f849ba5e668430d8df9be12'

/** One `--set` per documented type, with the value a user would type. */
const TYPED: Record<string, string> = {
  address: 'Mustamäe tee 3a, Tallinn, Estonia',
  date: '2026-06-27',
  daterange: '2026-06-06..2026-06-14',
  double: '123.5',
  enum: '17',
  monetary: '200 EUR',
  org: '1',
  people: '17818',
  phone: '+372 5555 5555',
  set: '13, 14',
  text: 'A longer text',
  time: '9:45',
  timerange: '00:00..01:15:30@7',
  user: '13075973',
  varchar: 'Some text',
  varchar_auto: 'Hello there',
}

const one = (set: string) => parseSets([set])[0] as {key: string; kind: 'custom'; value: any}

describe('deliveries: custom fields (--set custom_fields.KEY:TYPE=VALUE)', () => {
  it('knows every documented type', () => {
    expect(Object.keys(CUSTOM_FIELD_TYPES).sort()).to.deep.equal(Object.keys(docFixtures.customFieldTypes).sort())
    expect(Object.keys(TYPED).sort()).to.deep.equal(Object.keys(docFixtures.customFieldTypes).sort())
    for (const type of Object.keys(TYPED)) expect(customFieldHelp()).to.contain(`  ${type} `)
  })

  for (const [type, value] of Object.entries(TYPED)) {
    it(`${type}: the documented v2 format, and the API v1 keys`, () => {
      const op = one(`custom_fields.${KEY}:${type}=${value}`)
      expect(op).to.include({key: KEY, kind: 'custom'})
      expect(op.value.type).to.equal(type)
      expect(customFieldValueProblems(op.value, type)).to.deep.equal([])
      const v1 = v1CustomField(KEY, op.value)
      expect(v1).to.have.property(KEY)
      expect(Object.keys(v1).every(k => k === KEY || k.startsWith(`${KEY}_`))).to.equal(true)
    })
  }

  it('parses values into their documented parts', () => {
    expect(one(`custom_fields.${KEY}:monetary=200 EUR`).value).to.deep.equal({currency: 'EUR', type: 'monetary', value: 200})
    expect(one(`custom_fields.${KEY}:monetary=99.5usd`).value).to.deep.equal({currency: 'USD', type: 'monetary', value: 99.5})
    expect(one(`custom_fields.${KEY}:set=13, 14`).value).to.deep.equal({type: 'set', values: [{id: 13}, {id: 14}]})
    expect(one(`custom_fields.${KEY}:time=9:45`).value).to.deep.equal({timezone_id: 310, type: 'time', value: '09:45:00'})
    expect(one(`custom_fields.${KEY}:timerange=00:00..01:15:30@7`).value).to.deep.equal({
      from: '00:00:00', timezone_id: 7, type: 'timerange', until: '01:15:30',
    })
    expect(one(`custom_fields.${KEY}:daterange=2026-06-06..2026-06-14`).value).to.deep.equal({from: '2026-06-06', type: 'daterange', until: '2026-06-14'})
    expect(one(`custom_fields.${KEY}:people=17818`).value).to.deep.equal({id: 17_818, type: 'people'})
    expect(one(`custom_fields.${KEY}:address={"value":"Tallinn","locality":"Tallinn"}`).value).to.include({
      formatted_address: 'Tallinn', locality: 'Tallinn', type: 'address', value: 'Tallinn',
    })
    expect(one(`custom_fields.${KEY}:varchar=null`).value).to.equal(null)
    expect(one(`custom_fields.${KEY}=null`).value).to.equal(null)
    expect(one(`custom_fields.${KEY}={"type":"double","value":1}`).value).to.deep.equal({type: 'double', value: 1})
  })

  it('writes API v1 companion keys', () => {
    expect(v1CustomField('k', {currency: 'EUR', type: 'monetary', value: 200})).to.deep.equal({k: 200, k_currency: 'EUR'})
    expect(v1CustomField('k', {from: 'a', type: 'daterange', until: 'b'})).to.deep.equal({k: 'a', k_until: 'b'})
    expect(v1CustomField('k', {type: 'set', values: [{id: 1}, {id: 2}]})).to.deep.equal({k: '1,2'})
    expect(v1CustomField('k', {id: 17, type: 'enum'})).to.deep.equal({k: '17'})
    expect(v1CustomField('k', {timezone_id: 3, type: 'time', value: '10:00:00'})).to.deep.equal({k: '10:00:00', k_timezone_id: 3})
    expect(v1CustomField('k', null)).to.deep.equal({k: null})
    expect(v1CustomField('k', one('custom_fields.k:address=Tallinn').value)).to.include({k: 'Tallinn', k_formatted_address: 'Tallinn', k_locality: ''})
  })

  it('bad values are usage errors with an example', () => {
    const cases: Array<[string, RegExp]> = [
      ['custom_fields.k:double=many', /Invalid double custom field value "many": expected a number/],
      ['custom_fields.k:monetary=200', /Invalid monetary custom field value "200"/],
      ['custom_fields.k:date=27.06.2026', /expected YYYY-MM-DD/],
      ['custom_fields.k:daterange=2026-06-06', /expected FROM..UNTIL/],
      ['custom_fields.k:time=25:00', /Invalid time custom field value/],
      ['custom_fields.k:time=10:00@x', /Invalid time custom field value/],
      ['custom_fields.k:set=1,a', /Invalid set custom field value/],
      ['custom_fields.k:people=Ada', /expected the person id/],
      ['custom_fields.k:numeric=1', /Unknown custom field type "numeric"/],
      ['custom_fields.k=5', /a custom field needs its type/],
      ['custom_fields.__proto__:varchar=x', /reserved field name/],
    ]
    for (const [set, message] of cases) {
      let err: unknown
      try {
        parseSets([set])
      } catch (error) {
        err = error
      }

      expect(err, set).to.be.instanceOf(PdhooksError)
      expect((err as PdhooksError).message, set).to.match(message)
      expect((err as PdhooksError).exit, set).to.equal(2)
      expect((err as PdhooksError).hint, set).to.be.a('string')
    }

    let typo: PdhooksError | undefined
    try {
      parseSets(['custom_fields.k:numeric=1'])
    } catch (error) {
      typo = error as PdhooksError
    }

    expect(typo?.hint).to.match(/^Did you mean "double"\?/)
  })

  it('in a v2 change: data.custom_fields.KEY set, previous.custom_fields.KEY null (it was empty)', () => {
    const [e] = pipedriveSample('2.0', {action: 'change', object: 'person', sets: [`custom_fields.${KEY}:monetary=200 EUR`]})
    const p = pipedriveBody('2.0', e) as any
    expect(p.data.custom_fields[KEY]).to.deep.equal({currency: 'EUR', type: 'monetary', value: 200})
    expect(p.previous.custom_fields).to.deep.equal({[KEY]: null})
  })

  it('in v1: the field at the top level of current', () => {
    const [e] = pipedriveSample('1.0', {action: 'updated', object: 'deal', sets: [`custom_fields.${KEY}:monetary=200 EUR`]})
    const p = pipedriveBody('1.0', e) as any
    expect(p.current).to.include({[KEY]: 200, [`${KEY}_currency`]: 'EUR'})
    expect(p.current).not.to.have.property('custom_fields')
  })

  it('objects without custom fields refuse them', () => {
    expect(() => pipedriveSample('2.0', {action: 'create', object: 'pipeline', sets: ['custom_fields.k:double=1']}))
    .to.throw(PdhooksError, 'A pipeline has no custom fields in webhooks v2 payloads.')
    expect(() => pipedriveSample('1.0', {action: 'added', object: 'stage', sets: ['custom_fields.k:double=1']}))
    .to.throw(PdhooksError, 'A stage has no custom fields in webhooks v1 payloads.')
  })
})
