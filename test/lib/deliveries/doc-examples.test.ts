// The independent check of pdhooks' Pipedrive v2 samples: Pipedrive's 30 documented examples (ten objects × create /
// update / delete, as key sets and JSON types in test/fixtures/pipedrive-docs/v2-examples.json), one test each, against
// what `trigger` sends and what the sandbox delivers to a v2 webhook.
import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'

import {buildDeliveries} from '../../../src/lib/deliveries/trigger.js'
import {
  type DocExample, docFixtures, jsonType, shapeProblems,
} from '../../support/doc-shapes.js'
import {receiver, type Receiver} from '../../support/receiver.js'
import {hook, pd, sandbox} from '../sandbox/helpers.js'

const EXAMPLES = Object.entries(docFixtures.examples)

/** Everything the documentation says of one example that a payload breaks, as lines (empty: it matches). */
function problems(body: any, ex: DocExample): string[] {
  const out = shapeProblems(body.meta, ex.meta, 'meta')
  if (body.meta?.action !== ex.action) out.push(`meta.action: expected ${ex.action}, got ${body.meta?.action}`)
  if (body.meta?.entity !== ex.entity) out.push(`meta.entity: expected ${ex.entity}, got ${body.meta?.entity}`)
  // guide for webhooks v2: permitted_user_ids, an array of strings, "only present for entities that are not of type user"
  if (ex.entity === 'user') {
    if ('permitted_user_ids' in body.meta) out.push('meta.permitted_user_ids: present on a user event')
  } else if (!Array.isArray(body.meta.permitted_user_ids) || body.meta.permitted_user_ids.some((x: unknown) => typeof x !== 'string')) {
    out.push('meta.permitted_user_ids: not an array of strings')
  }

  if (ex.data === null) {
    if (body.data !== null) out.push(`data: expected null, got ${jsonType(body.data)}`)
  } else {
    out.push(...shapeProblems(body.data, ex.data, 'data'))
  }

  switch (ex.action) {
  case 'create': {
    if (body.previous !== null) out.push(`previous: expected null, got ${jsonType(body.previous)}`)
    break
  }

  case 'delete': {
    if (ex.previous) out.push(...shapeProblems(body.previous, ex.previous, 'previous'))
    break
  }

  default: {
    // a change: previous holds only changed fields, each a field of data (custom fields: each a field of data's)
    if (jsonType(body.previous) !== 'object' || Object.keys(body.previous).length === 0) {
      out.push('previous: expected the changed fields')
      break
    }

    for (const [k, v] of Object.entries(body.previous)) {
      if (!(k in body.data)) out.push(`previous.${k}: not a field of data`)
      else if (k === 'custom_fields') {
        for (const [f, x] of Object.entries(v as Record<string, unknown>)) {
          if (!(f in body.data.custom_fields)) out.push(`previous.custom_fields.${f}: not a custom field of data`)
          else if (JSON.stringify(x) === JSON.stringify(body.data.custom_fields[f])) out.push(`previous.custom_fields.${f}: unchanged`)
        }
      } else if (JSON.stringify(v) === JSON.stringify(body.data[k])) out.push(`previous.${k}: unchanged`)
    }
  }
  }

  return out
}

/** The trigger event of an example (Pipedrive documents deleting a user as a change, but the example is "Delete user"). */
const triggerEvent = (name: string): string => {
  const [object, action] = name.split('.')
  return `${action}.${object}`
}

describe('Pipedrive v2 samples against the documented examples', function () {
  this.timeout(30_000)
  let sb: Sandbox
  let rx: Receiver
  const delivered = new Map<string, any>()

  before(async () => {
    sb = await sandbox()
    rx = await receiver({path: '/'})
    const created = await pd(sb, '/webhooks', {
      json: {
        event_action: '*', event_object: '*', name: 'all', subscription_url: rx.url, version: '2.0',
      },
      method: 'POST',
    })
    expect(created.status).to.equal(201)
    for (const [name] of EXAMPLES) {
      const [object, action] = name.split('.')
      const before = rx.received.length
      const r = await hook(sb, '/events', {action, object})
      expect(r.status, JSON.stringify(r.body)).to.equal(200)
      expect(r.body.deliveries.map((d: any) => d.status), name).to.deep.equal([200])
      expect(rx.received.length).to.equal(before + 1)
      delivered.set(name, JSON.parse(rx.received.at(-1)!.body.toString('utf8')))
    }
  })

  after(async () => {
    await sb?.close()
    await rx?.close()
  })

  it('the fixtures hold the 30 documented examples and the 16 custom field formats', () => {
    expect(EXAMPLES).to.have.length(30)
    expect(new Set(EXAMPLES.map(([, e]) => e.entity)).size).to.equal(10)
    expect(Object.keys(docFixtures.customFieldTypes)).to.have.length(16)
  })

  for (const [name, ex] of EXAMPLES) {
    it(`${ex.title}: trigger ${triggerEvent(name)} and the sandbox send every documented key with its type`, () => {
      const sent = buildDeliveries({event: triggerEvent(name), format: 'pipedrive', version: '2.0'})
      expect(sent).to.have.length(1)
      expect(problems(JSON.parse(sent[0].body.toString('utf8')), ex), 'trigger').to.deep.equal([])
      expect(problems(delivered.get(name), ex), 'sandbox').to.deep.equal([])
    })
  }

  it('the checker fails a payload that breaks the documentation (it can fail)', () => {
    const ex = docFixtures.examples['deal.change']
    const body = JSON.parse(buildDeliveries({event: 'change.deal', format: 'pipedrive'})[0].body.toString('utf8'))
    const broken = structuredClone(body)
    delete broken.meta.correlation_id
    broken.data.update_time = '2022-11-24 15:11:55'.length
    broken.previous.nope = 1
    broken.data.custom_fields = {}
    expect(problems(broken, ex)).to.have.members([
      'meta.correlation_id: missing',
      'data.update_time: expected string, got number',
      'data.custom_fields: no address field, as documented',
      'previous.custom_fields.3d0fa3429dfa2d3dec265b4fc5dc8258ab66cdf3: not a custom field of data',
      'previous.nope: not a field of data',
    ])
    const user = JSON.parse(buildDeliveries({event: 'create.user', format: 'pipedrive'})[0].body.toString('utf8'))
    user.meta.permitted_user_ids = ['1']
    expect(problems(user, docFixtures.examples['user.create'])).to.deep.equal(['meta.permitted_user_ids: present on a user event'])
  })
})
