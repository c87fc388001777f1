import {expect} from 'chai'
import * as Y from 'yaml'

import {parseDesiredState} from '../../../../src/lib/workflows/apply/file.js'
import {computePlan} from '../../../../src/lib/workflows/apply/plan.js'
import {instance, webhook} from '../../../support/fixtures.js'

const BASE = 'https://api.cloud-elements.com/elements/api-v2'
const CB = `${BASE}/events/pipedrive/MjA5MzE=`
const desired = (text: string) => parseDesiredState(text, 'f.yaml', {}, Y)
const verbs = (plan: ReturnType<typeof computePlan>) => plan.map(p => `${p.verb} ${p.kind} ${p.label}${p.reason ? ` (${p.reason})` : ''}`)

const FILE = `instances:
  - name: crm-events
    callbackUrl: https://app.example.com/ce
    login: {email: a@b.c, password: pw}
    tags: [prod]
    webhooks: ['*.deal']
pipedrive:
  webhooks:
    - {event: change.deal, url: 'https://app.example.com/pd', auth: {user: hooks, password: secret-1}}
pipeliner:
  webhooks:
    - {events: [Account.Create], url: 'https://app.example.com/pl'}
`

describe('apply plan', () => {
  it('creates everything on an empty account (instance webhooks after their instance)', () => {
    expect(verbs(computePlan(desired(FILE), {instances: [], pipedrive: [], pipeliner: []}, {base: BASE}))).to.deep.equal([
      'create instance crm-events',
      'create pipedrive-webhook *.deal v1.0 → instance "crm-events"',
      'create pipedrive-webhook change.deal v2.0 → https://app.example.com/pd',
      'create pipeliner-webhook [Account.Create] → https://app.example.com/pl',
    ])
  })

  it('keeps what matches', () => {
    const actual = {
      instances: [instance({tags: ['prod']})],
      pipedrive: [
        webhook({
          event_action: '*', event_object: 'deal', id: 1, subscription_url: CB, version: '1.0',
        }),
        webhook({
          event_action: 'change', event_object: 'deal', http_auth_password: 'secret-1', http_auth_user: 'hooks', id: 2, subscription_url: 'https://app.example.com/pd', version: '2.0',
        }),
      ],
      pipeliner: [{
        events: ['Account.Create'], id: 'u1', insecure_ssl: false, url: 'https://app.example.com/pl',
      }],
    }
    expect(computePlan(desired(FILE), actual as any, {base: BASE}).map(p => p.verb)).to.deep.equal(['keep', 'keep', 'keep', 'keep'])
  })

  it('updates an instance whose visible settings changed; replaces webhooks whose auth or user changed', () => {
    const actual = {
      instances: [instance({configuration: {...instance().configuration, 'event.notification.callback.url': 'https://old.example.com'}, tags: ['dev']})],
      pipedrive: [
        webhook({
          event_action: '*', event_object: 'deal', id: 1, subscription_url: CB.replace('api.cloud-elements.com', 'api.cloud-elements.com'), user_id: 3, version: '1.0',
        }),
        webhook({
          event_action: 'change', event_object: 'deal', http_auth_password: 'old', http_auth_user: 'hooks', id: 2, subscription_url: 'https://app.example.com/pd', version: '2.0',
        }),
      ],
      pipeliner: [{
        events: ['Account.Create'], id: 'u1', insecure_ssl: true, url: 'https://app.example.com/pl',
      }],
    }
    expect(verbs(computePlan(desired(FILE), actual as any, {base: BASE}))).to.deep.equal([
      'update instance crm-events (20931) (callbackUrl, tags)',
      'keep pipedrive-webhook *.deal v1.0 → instance 20931 (1)',
      'replace pipedrive-webhook change.deal v2.0 → https://app.example.com/pd (2) (auth password)',
      'replace pipeliner-webhook [Account.Create] → https://app.example.com/pl (insecureSsl)',
    ])
  })

  it('a removed user or auth is a replace; a different version or URL is a different webhook', () => {
    const d = desired("pipedrive:\n  webhooks:\n    - {event: change.deal, url: 'https://app.example.com/pd', userId: 5}\n")
    const plan = computePlan(d, {
      pipedrive: [
        webhook({
          event_action: 'change', event_object: 'deal', http_auth_user: 'x', id: 2, subscription_url: 'https://app.example.com/pd', user_id: 5, version: '2.0',
        }),
        webhook({
          event_action: 'updated', event_object: 'deal', id: 3, subscription_url: 'https://app.example.com/pd', version: '1.0',
        }),
      ],
    } as any, {base: BASE})
    expect(verbs(plan)).to.deep.equal(['replace pipedrive-webhook change.deal v2.0 → https://app.example.com/pd (2) (auth user)'])
  })

  it('prune deletes only the objects of the file\'s stack (recorded on the server), only in the sections the file has', () => {
    const d = desired('stack: prod\npipedrive:\n  webhooks: []\ninstances: []\n')
    const actual = {
      instances: [
        instance({id: 1, name: 'pdhooks-old', tags: ['x', 'pdhooks-stack:prod']}),
        instance({id: 2, name: 'pdhooks-by-hand'}),
        instance({id: 3, name: 'other-stack', tags: ['pdhooks-stack:staging']}),
      ],
      pipedrive: [
        webhook({id: 1, name: 'pdhooks:prod change.deal'}),
        webhook({id: 2, name: 'Zapier'}),
        webhook({id: 3, name: null}),
        webhook({id: 4, name: 'pdhooks change.deal'}), // webhook add, setup
        webhook({id: 5, name: 'pdhooks:staging change.deal'}),
        webhook({id: 6, name: 'pdhooks:production change.deal'}),
      ],
      pipeliner: [
        {
          events: ['*'], id: 'mine', options: {skip_keys: ['pdhooks-stack:prod']}, url: 'https://x',
        },
        {events: ['*'], id: 'foreign', url: 'https://y'},
        {
          events: ['*'], id: 'other', options: {skip_keys: ['a', 'pdhooks-stack:staging']}, url: 'https://z',
        },
      ],
    }
    expect(verbs(computePlan(d, actual as any, {base: BASE, prune: true}))).to.deep.equal([
      'delete pipedrive-webhook change.deal v2.0 → https://example.com/hook (1) (not in the file)',
      'delete instance pdhooks-old (1) (not in the file)',
    ])
    const withPl = desired('stack: prod\npipeliner:\n  webhooks: []\n')
    expect(verbs(computePlan(withPl, actual as any, {base: BASE, prune: true}))).to.deep.equal([
      'delete pipeliner-webhook [*] → https://x (mine) (not in the file)',
    ])
    expect(computePlan(d, actual as any, {base: BASE})).to.deep.equal([])
    // without a stack nothing is ever pruned (the command refuses --prune then)
    expect(computePlan(desired('pipedrive:\n  webhooks: []\n'), actual as any, {base: BASE, prune: true})).to.deep.equal([])
  })

  it('an object the file declares is kept whoever made it; its owner is shown, and the stack marks are not differences', () => {
    const d = desired(`stack: prod
instances:
  - {name: crm-events, callbackUrl: 'https://app.example.com/ce', tags: [prod]}
pipeliner:
  webhooks:
    - {events: [Account.Create], url: 'https://app.example.com/pl', options: {skip_keys: [mine]}}
    - {events: [Contact.Create], url: 'https://app.example.com/pl'}
`)
    const plan = computePlan(d, {
      instances: [instance({tags: ['prod', 'pdhooks-stack:prod']})],
      pipedrive: [],
      pipeliner: [
        {
          events: ['Account.Create'], id: 'a', insecure_ssl: false, options: {skip_keys: ['mine', 'pdhooks-stack:other']}, url: 'https://app.example.com/pl',
        },
        {
          events: ['Contact.Create'], id: 'c', insecure_ssl: false, options: {chunk_size: 100}, url: 'https://app.example.com/pl',
        },
      ],
    } as any, {base: BASE, prune: true})
    expect(plan.map(p => [p.verb, p.owner])).to.deep.equal([['keep', 'prod'], ['keep', 'other'], ['keep', null]])
    // a changed option is a replace; the mark is not compared
    const changed = computePlan(desired('stack: prod\npipeliner:\n  webhooks:\n    - {events: [Account.Create], url: "https://app.example.com/pl", options: {skip_keys: [theirs]}}\n'), {
      pipeliner: [{
        events: ['Account.Create'], id: 'a', options: {skip_keys: ['mine', 'pdhooks-stack:prod']}, url: 'https://app.example.com/pl',
      }],
    } as any, {base: BASE})
    expect(verbs(changed)).to.deep.equal(['replace pipeliner-webhook [Account.Create] → https://app.example.com/pl (options)'])
  })
})
