/* eslint-disable no-template-curly-in-string */
import {expect} from 'chai'
import * as Y from 'yaml'

import {parseDesiredState} from '../../src/lib/apply/file.js'
import {PdhooksError} from '../../src/lib/errors.js'

const parse = (text: string, env: Record<string, string> = {}) => parseDesiredState(text, 'pdhooks.yaml', env, Y)
const fails = (text: string, env: Record<string, string> = {}) => {
  try {
    parse(text, env)
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    expect((error as PdhooksError).exit).to.equal(2)
    return (error as PdhooksError).line
  }

  throw new Error('expected an error')
}

const SPEC_EXAMPLE = `instances:
  - name: crm-events
    events: webhook                      # webhook | polling | none
    callbackUrl: https://app.example.com/ce
    signatureKey: \${CE_SIGNATURE_KEY}
    login: {email: ops@example.com, password: \${PIPEDRIVE_PASSWORD}}
    tags: [prod]
    webhooks: ['*.deal', added.person]
pipedrive:
  webhooks:
    - event: change.deal
      url: https://app.example.com/pd
      auth: {user: hooks, password: \${PD_HOOK_PASSWORD}}
      userId: 12
pipeliner:
  webhooks:
    - events: [Account.Create, Opportunity.*]
      url: https://app.example.com/pl
      signature: \${PL_SIGNATURE}
      options: {skip_keys: [my-integration]}
`
const ENV = {
  CE_SIGNATURE_KEY: 'ce-key', PD_HOOK_PASSWORD: 'hook-pass', PIPEDRIVE_PASSWORD: 'pd-pass', PL_SIGNATURE: '01234567-abcd-dcba-ffff-000000000000',
}

describe('apply file', () => {
  it("parses SPEC's example with ${VAR} expansion", () => {
    const s = parse(SPEC_EXAMPLE, ENV)
    expect(s.instances[0]).to.deep.include({
      callbackUrl: 'https://app.example.com/ce', events: 'webhook', login: {email: 'ops@example.com', password: 'pd-pass'}, name: 'crm-events', signatureKey: 'ce-key', tags: ['prod'],
    })
    expect(s.instances[0].webhooks.map(w => [w.event.action, w.event.object, w.event.version])).to.deep.equal([['*', 'deal', '1.0'], ['added', 'person', '1.0']])
    expect(s.pipedrive[0]).to.deep.include({auth: {password: 'hook-pass', user: 'hooks'}, url: 'https://app.example.com/pd', userId: 12})
    expect(s.pipedrive[0].event.version).to.equal('2.0')
    expect(s.pipeliner[0]).to.deep.include({
      events: ['Account.Create', 'Opportunity.*'], insecureSsl: false, options: {skip_keys: ['my-integration']}, signature: ENV.PL_SIGNATURE,
    })
    expect(s.secrets).to.include.members(['ce-key', 'pd-pass', 'hook-pass', ENV.PL_SIGNATURE])
    expect(s.sections).to.deep.equal({instances: true, pipedrive: true, pipeliner: true})
  })

  it('an unset variable is an error naming the file, line and field', () => {
    expect(fails(SPEC_EXAMPLE, {...ENV, PD_HOOK_PASSWORD: undefined as any})).to.match(/^pdhooks\.yaml:13 \(pipedrive\.webhooks\[0\]\.auth\.password\): \$\{PD_HOOK_PASSWORD\} is not set\. Set PD_HOOK_PASSWORD/)
  })

  it('YAML syntax errors carry the line number', () => {
    expect(fails('instances:\n  - name: a\n   events: [x\n')).to.match(/^pdhooks\.yaml:\d+: /)
    expect(fails('pipedrive:\n  webhooks:\n    - event: change.deal\n      url: "x\n')).to.match(/^pdhooks\.yaml:\d+: Missing closing/)
  })

  it('validation errors name the line and field', () => {
    expect(fails('instances:\n  - name: a\n    callbackUrl: https://x.example\n    colour: red\n')).to.match(/^pdhooks\.yaml:4 \(instances\[0\]\.colour\): unknown field "colour"/)
    expect(fails('pipedrive:\n  webhooks:\n    - event: updated.deal\n      url: https://x.example\n      version: "2.0"\n')).to.match(/^pdhooks\.yaml:3 \(pipedrive\.webhooks\[0\]\.event\): .*Use "change\.deal"/)
    expect(fails('instances:\n  - name: a\n')).to.contain('(instances[0].callbackUrl): is required when events are on')
    expect(fails('instances:\n  - name: a\n    events: polling\n    callbackUrl: https://x.example\n    webhooks: ["*.*"]\n')).to.contain('only applies to events: webhook')
    expect(fails('pipeliner:\n  webhooks:\n    - events: [Account.Create]\n      url: https://x.example\n      signature: nope\n')).to.match(/:5 \(pipeliner\.webhooks\[0\]\.signature\): must be a UUID/)
    expect(fails('pipedrive:\n  webhooks:\n    - event: change.deal\n')).to.contain('(pipedrive.webhooks[0].url): is required')
    expect(fails('instances:\n  - {name: a, events: none}\n  - {name: a, events: none}\n')).to.contain('duplicate instance name')
    expect(fails('- a\n')).to.contain('expected a mapping')
  })

  it('an empty file declares nothing', () => {
    expect(parse('')).to.deep.include({instances: [], pipedrive: [], pipeliner: []})
  })
})

describe('apply file: Pipeliner events', () => {
  it('normalizes spelling and rejects unknown events with their line', () => {
    expect(parse('pipeliner:\n  webhooks:\n    - {events: [account.create, "opportunity.*"], url: "https://x.example"}\n').pipeliner[0].events).to.deep.equal(['Account.Create', 'Opportunity.*'])
    expect(fails('pipeliner:\n  webhooks:\n    - url: https://x.example\n      events:\n        - Account.Create\n        - Acount.Create\n')).to.match(/^pdhooks\.yaml:6 \(pipeliner\.webhooks\[0\]\.events\[1\]\): .*Did you mean "Account\.Create"/)
  })
})
