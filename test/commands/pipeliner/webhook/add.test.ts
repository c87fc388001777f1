import {expect} from 'chai'
import nock from 'nock'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {assertNockDone, cleanNock, listPage} from '../../../support/fakes.js'
import {
  BASIC, PL, PL_PASSWORD, PL_SPACE, PL_URL, PL_USER, plEnv, plError, plWebhook, SIG, uuid,
} from '../../../support/fixtures.js'
import {run} from '../../../support/run.js'

const HOOK = 'https://example.com/pl'
const UUID_RE = /^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/
const tmp = mkdtempSync(join(tmpdir(), 'pdhooks-pl-'))
const file = (name: string, text: string) => {
  const p = join(tmp, name)
  writeFileSync(p, text)
  return p
}

/** Expects the create call and records the body it was sent; answers 201 with the body echoed as the webhook. */
function expectCreate(reply: (body: any) => Record<string, unknown> = () => ({})) {
  const box: {body?: any} = {}
  nock(PL, {reqheaders: {authorization: BASIC, 'content-type': 'application/json', 'user-agent': /^pdhooks\/\d+\.\d+\.\d+$/}})
  .post(`${PL_SPACE}/entities/Webhooks`, b => {
    box.body = b
    return true
  })
  .reply(201, (_u, b: any) => ({data: plWebhook({id: uuid(42), ...b, ...reply(b)}), success: true}))
  return box
}

const add = (args: string[], env: Record<string, string | undefined> = plEnv) => run(['pipeliner:webhook:add', ...args], env)

describe('pipeliner webhook add', () => {
  afterEach(() => cleanNock())

  it('creates a webhook: checks the list first, then POSTs exactly {url, events, insecure_ssl}', async () => {
    nock(PL, {reqheaders: {authorization: BASIC}}).get(`${PL_SPACE}/entities/Webhooks`).query({first: '100'}).reply(200, {data: [], page_info: {end_cursor: null, has_next_page: false}, success: true})
    const sent = expectCreate()
    const r = await add(['--event', 'account.create', '--event', 'Opportunity.*', '--url', HOOK])
    expect(r.exit, r.stderr).to.equal(0)
    expect(sent.body).to.deep.equal({events: ['Account.Create', 'Opportunity.*'], insecure_ssl: false, url: HOOK})
    expect(r.stdout).to.contain(`Created Pipeliner webhook ${uuid(42)}: Account.Create, Opportunity.* → ${HOOK}`)
    expect(r.stderr).to.equal('')
    assertNockDone()
  })

  it('sends every option flag into options, exactly', async () => {
    listPage([])
    const sent = expectCreate()
    const r = await add([
      '--event',
      'Opportunity.*',
      '--event',
      'Contact.Update',
      '--event',
      'CustomEntity.*',
      '--url',
      HOOK,
      '--on-field-change',
      'Opportunity:value,closing_date',
      '--on-field-change',
      'contact:email1',
      '--filter',
      'Opportunity.status=1',
      '--filter',
      'Contact.email1=test@example.com',
      '--filter',
      'Contact.email1=test@example.net',
      '--filter',
      'Contact.email2=a=b@example.com',
      '--filter-op',
      'Contact.email1=eq',
      '--filter-op',
      'Opportunity.status=neq',
      '--expand',
      'Contact:primary_account,primary_contact',
      '--expand',
      'Contact:task_relations.task',
      '--load-only',
      'Contact:id,primary_account',
      '--expand',
      'related_entity:contact',
      '--load-only',
      'related_entity:id,contact',
      '--skip-key',
      'gmail_sync',
      '--skip-key',
      'custom_integration',
      '--chunk-size',
      '50',
      '--chunk-delay',
      '300',
      '--custom-entity',
      'Invoice',
      '--filter',
      'Invoice.state=open',
      '--json',
    ])
    expect(r.exit, r.stdout).to.equal(0)
    expect(sent.body).to.deep.equal({
      events: ['Opportunity.*', 'Contact.Update', 'CustomEntity.*'],
      insecure_ssl: false,
      options: {
        chunk_delay: 300,
        chunk_size: 50,
        custom_entity_api_name: ['Invoice'],
        entity: {
          Contact: {
            expand: ['primary_account', 'primary_contact', 'task_relations.task'],
            filter: {email1: ['test@example.com', 'test@example.net'], email2: 'a=b@example.com'},
            'filter-op': {email1: 'eq'},
            'load-only': ['id', 'primary_account'],
            'on-field-change': ['email1'],
          },
          Invoice: {filter: {state: 'open'}},
          Opportunity: {filter: {status: '1'}, 'filter-op': {status: 'neq'}, 'on-field-change': ['value', 'closing_date']},
        },
        related_entity: {expand: ['contact'], 'load-only': ['id', 'contact']},
        skip_keys: ['gmail_sync', 'custom_integration'],
      },
      url: HOOK,
    })
    expect(r.json().warnings).to.deep.equal([])
    expect(r.json().webhook.options).to.deep.equal(sent.body.options)
  })

  it('--options-file is merged under the flags (flags win, objects merge deeply)', async () => {
    const path = file('options.json', JSON.stringify({
      chunk_size: 10,
      entity: {Account: {filter: {owner_id: ['9900cce6-bcd6-412a-bcd1-1904556c949a']}}, Opportunity: {expand: ['primary_account'], filter: {status: '2'}}},
      related_entity: {expand: ['contact']},
      skip_keys: ['from-file'],
    }))
    listPage([])
    const sent = expectCreate()
    const r = await add(['--event', 'Opportunity.Update,Account.Create', '--url', HOOK, '--options-file', path, '--chunk-size', '20', '--skip-key', 'from-flag', '--filter', 'Opportunity.status=1', '--on-field-change', 'Opportunity:value'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(sent.body.options).to.deep.equal({
      chunk_size: 20,
      entity: {
        Account: {filter: {owner_id: ['9900cce6-bcd6-412a-bcd1-1904556c949a']}},
        Opportunity: {expand: ['primary_account'], filter: {status: '1'}, 'on-field-change': ['value']},
      },
      related_entity: {expand: ['contact']},
      skip_keys: ['from-flag'],
    })
  })

  it('--options-file alone is sent as given; unknown keys are warned about, not dropped', async () => {
    const options = {chunk_delay: 0, entity: {Contact: {'load-only': ['id']}}, future_option: true}
    const path = file('alone.json', JSON.stringify(options))
    listPage([])
    const sent = expectCreate()
    const r = await add(['--event', 'Contact.*', '--url', HOOK, '--options-file', path])
    expect(r.exit).to.equal(0)
    expect(sent.body.options).to.deep.equal(options)
    expect(r.stderr).to.contain('unknown option "future_option"')
  })

  it('a bad --options-file is exit 2 naming it, before any request', async () => {
    const cases: Array<[string, string]> = [
      [join(tmp, 'missing.json'), 'no such file'],
      [file('bad.json', '{"chunk_size": '), 'not valid JSON'],
      [file('array.json', '[1,2]'), 'must hold a JSON object'],
      [file('chunk.json', '{"chunk_size": 0}'), 'chunk_size must be an integer from 1 to 100'],
      [file('chunk2.json', '{"chunk_size": 101}'), 'chunk_size must be an integer from 1 to 100'],
      [file('delay.json', '{"chunk_delay": -1}'), 'chunk_delay'],
      [file('skip.json', '{"skip_keys": "x"}'), 'skip_keys must be an array of strings'],
      [file('entity.json', '{"entity": {"Contact": {"expand": "a"}}}'), 'entity.Contact.expand must be an array of strings'],
      [tmp, 'it is a folder'],
    ]
    for (const [path, why] of cases) {
      const r = await add(['--event', 'Contact.*', '--url', HOOK, '--options-file', path, '--json'])
      expect(r.exit, path).to.equal(2)
      expect(r.json().error.code).to.equal('bad_options_file')
      expect(r.json().error.message).to.contain(`Invalid --options-file "${path}"`).and.contain(why)
    }
  })

  it('the same --filter field twice becomes a list; three times a longer list', async () => {
    listPage([])
    const sent = expectCreate()
    const r = await add(['--event', 'Lead.*', '--url', HOOK, '--filter', 'Lead.owner_id=a', '--filter', 'Lead.owner_id=b', '--filter', 'lead.owner_id=c'])
    expect(r.exit).to.equal(0)
    expect(sent.body.options).to.deep.equal({entity: {Lead: {filter: {owner_id: ['a', 'b', 'c']}}}})
  })

  it('--insecure-ssl sends true and warns (stderr; in warnings under --json)', async () => {
    listPage([])
    let sent = expectCreate()
    let r = await add(['--event', '*', '--url', HOOK, '--insecure-ssl'])
    expect(r.exit).to.equal(0)
    expect(sent.body).to.deep.equal({events: ['*'], insecure_ssl: true, url: HOOK})
    expect(r.stderr).to.contain('Warning: --insecure-ssl: Pipeliner will not validate the TLS certificate of example.com')
    listPage([])
    sent = expectCreate()
    r = await add(['--event', '*', '--url', HOOK, '--insecure-ssl', '--json'])
    expect(r.stderr).to.equal('')
    expect(r.json().warnings).to.have.length(1)
    expect(r.json().webhook.insecureSsl).to.equal(true)
  })

  it('--signature sends the UUID and never prints it (human, --json, warnings)', async () => {
    listPage([])
    const sent = expectCreate()
    const r = await add(['--event', 'Account.*', '--url', HOOK, '--signature', SIG])
    expect(r.exit).to.equal(0)
    expect(sent.body).to.deep.equal({
      events: ['Account.*'], insecure_ssl: false, signature: SIG, url: HOOK,
    })
    expect(r.stdout + r.stderr).not.to.contain(SIG)
    listPage([])
    expectCreate()
    const j = await add(['--event', 'Account.*', '--url', HOOK, '--signature', SIG, '--json'])
    expect(j.json().webhook).to.include({signature: '0123…', signed: true})
    expect(j.stdout + j.stderr).not.to.contain(SIG)
    expect(j.json()).not.to.have.property('generatedSignature')
  })

  it('--sign generates a UUID, registers it and prints it exactly once', async () => {
    listPage([])
    const sent = expectCreate()
    const r = await add(['--event', 'Opportunity.Won', '--url', HOOK, '--sign'])
    expect(r.exit).to.equal(0)
    expect(sent.body.signature).to.match(UUID_RE)
    expect(r.stdout.split(sent.body.signature).length - 1).to.equal(1)
    expect(r.stderr).not.to.contain(sent.body.signature)
    expect(r.stdout).to.contain(`(shown once; e.g. pdhooks listen --pipeliner-key KEY): ${sent.body.signature}`)
    listPage([])
    const again = expectCreate()
    const j = await add(['--event', 'Opportunity.Won', '--url', HOOK, '--sign', '--json'])
    const doc = j.json()
    expect(doc.generatedSignature).to.equal(again.body.signature).and.match(UUID_RE)
    expect(doc.webhook.signature).to.equal(`${again.body.signature.slice(0, 4)}…`)
    expect(j.stdout.split(again.body.signature).length - 1).to.equal(1)
  })

  it('validates the signature and the flags before any request (exit 2)', async () => {
    for (const bad of ['nope', '0123456789abcdef0123456789abcdef', '01234567-abcd-dcba-ffff-00000000000g', `${SIG}0`]) {
      const r = await add(['--event', 'Account.*', '--url', HOOK, '--signature', bad, '--json'])
      expect(r.exit, bad).to.equal(2)
      expect(r.json().error.message).to.contain('UUID')
      expect(r.stdout).not.to.contain(bad)
    }

    let r = await add(['--event', 'Account.*', '--url', HOOK, '--signature', SIG, '--sign'])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--signature cannot be used with --sign.')
    expect(r.stderr).not.to.contain(SIG)
    for (const size of ['0', '101', 'x']) {
      r = await add(['--event', 'Account.*', '--url', HOOK, '--chunk-size', size])
      expect(r.exit, size).to.equal(2)
      expect(r.stderr).to.contain('--chunk-size')
      expect(r.stderr.trim().split('\n')).to.have.length(1)
    }

    r = await add(['--event', 'Account.*', '--url', HOOK, '--chunk-delay', '-1'])
    expect(r.exit).to.equal(2)
    r = await add(['--event', 'Account.*', '--url', 'not a url'])
    expect(r.exit).to.equal(2)
    r = await add(['--url', HOOK])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('Missing --event.').and.not.contain('required flag')
    r = await add(['--event', 'Account.*'])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('Missing --url.')
  })

  it('an unknown event is exit 2 listing the valid ones, with a did-you-mean', async () => {
    let r = await add(['--event', 'Account.Create', '--event', 'Acount.Update', '--url', HOOK, '--json'])
    expect(r.exit).to.equal(2)
    expect(r.json().error).to.deep.include({code: 'bad_event', status: null})
    expect(r.json().error.message).to.contain('Did you mean "Account.Update"?').and.contain('Valid entities: Account, Contact, Opportunity')
    r = await add(['--event', 'Email.OwnerChanged', '--url', HOOK])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('Valid for Email: Email.*, Email.Create, Email.Update, Email.Delete, Email.DocumentLinked.')
    expect(r.stderr.trim().split('\n')).to.have.length(1)
  })

  it('option flag errors are exit 2: unknown entity (did you mean), malformed values, filter-op without filter', async () => {
    const cases: Array<[string[], string]> = [
      [['--on-field-change', 'Oportunity:value'], 'Did you mean "Opportunity"?'],
      [['--on-field-change', 'Opportunity'], 'expected Entity:field'],
      [['--on-field-change', 'Opportunity:'], 'names no field'],
      [['--on-field-change', 'related_entity:x'], 'only expand and load-only'],
      [['--filter', 'Opportunity.status'], 'expected Entity.field=value'],
      [['--filter', 'status=1'], 'expected Entity.field=value'],
      [['--filter-op', 'Opportunity.status=gt'], 'has no filter on that field'],
      [['--filter', 'Opportunity.status=1', '--filter-op', 'Opportunity.status=gt', '--filter-op', 'Opportunity.status=lt'], 'Two operators'],
      [['--filter', 'Opportunity.status=1', '--filter-op', 'Opportunity.status=g t'], 'Invalid operator'],
      [['--expand', 'Opportunity:bad field'], 'Invalid field'],
      [['--skip-key', ' '], 'Empty --skip-key'],
      [['--skip-key', ''], '--skip-key'],
      [['--custom-entity', ' '], 'Empty --custom-entity'],
    ]
    for (const [flags, why] of cases) {
      const r = await add(['--event', 'Opportunity.*', '--url', HOOK, ...flags, '--json'])
      expect(r.exit, flags.join(' ')).to.equal(2)
      expect(r.json().error.message, flags.join(' ')).to.contain(why)
    }
  })

  it('warns about options that cannot apply to the events', async () => {
    listPage([])
    expectCreate()
    let r = await add(['--event', 'Account.Create', '--url', HOOK, '--filter', 'Lead.status=1', '--custom-entity', 'Invoice', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json().warnings).to.deep.equal([
      'Options for Lead have no effect: no event of this webhook is about Lead.',
      'custom_entity_api_name has no effect without a CustomEntity event (e.g. --event CustomEntity.*).',
    ])
    listPage([])
    expectCreate()
    r = await add(['--event', 'CustomEntity.Create', '--url', HOOK])
    expect(r.stderr).to.contain('pass --custom-entity API_NAME')
  })

  it('is idempotent: the same URL and event set (any order or case) on a later page is reported, not created', async () => {
    listPage([plWebhook({id: uuid(1), url: 'https://other.example.com/x'})], {next: 'c1'})
    listPage([plWebhook({events: ['Opportunity.*', 'Account.Create'], id: uuid(7), url: HOOK})], {after: 'c1'})
    const post = nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(201, {data: plWebhook(), success: true})
    const r = await add(['--event', 'account.create', '--event', 'opportunity.*', '--event', 'Account.Create', '--url', HOOK, '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: false, warnings: []})
    expect(r.json().webhook.id).to.equal(uuid(7))
    expect(post.isDone()).to.equal(false)
  })

  it('an existing webhook whose settings differ is a conflict (exit 5) naming them, never a key; nothing is sent', async () => {
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), insecure_ssl: true, options: {skip_keys: ['x']}, signature: SIG, url: HOOK,
    })])
    const post = nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(201, {data: plWebhook(), success: true})
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--sign', '--json'])
    expect(r.exit).to.equal(5)
    const {error} = r.json()
    expect(error.code).to.equal('conflict')
    expect(error.message).to.equal(`A Pipeliner webhook for Account.Create → ${HOOK} already exists with other settings (webhook ${uuid(7)}: insecure_ssl is true, not false; --sign makes a new signature key, but it is signed with its own key; its options differ). Pass --replace to replace it (the new webhook is created first, then the old one deleted).`)
    expect(error.conflicts).to.deep.equal([{differences: ['insecure_ssl is true, not false', '--sign makes a new signature key, but it is signed with its own key', 'its options differ'], id: uuid(7)}])
    expect(r.stdout + r.stderr).not.to.contain(SIG)
    expect(post.isDone()).to.equal(false)
    cleanNock()
    listPage([plWebhook({events: ['Account.Create'], id: uuid(7), url: HOOK})])
    const other = await add(['--event', 'Account.Create', '--url', HOOK, '--signature', '11111111-abcd-dcba-ffff-000000000000'])
    expect(other.exit).to.equal(5)
    expect(other.stderr).to.contain('it is not signed').and.not.to.contain('11111111-abcd')
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), signature: SIG, url: HOOK,
    })])
    const differentKey = await add(['--event', 'Account.Create', '--url', HOOK, '--signature', '11111111-abcd-dcba-ffff-000000000000'])
    expect(differentKey.exit).to.equal(5)
    expect(differentKey.stderr).to.contain('it has another signature key')
    expect(differentKey.stdout + differentKey.stderr).not.to.contain(SIG)
    assertNockDone()
  })

  it('the same key, or a key Pipeliner shows masked, is no conflict (the masked one is reported as not compared)', async () => {
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), signature: SIG, url: HOOK,
    })])
    let r = await add(['--event', 'Account.Create', '--url', HOOK, '--signature', SIG, '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: false, warnings: []})
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), signature: '0123…', url: HOOK,
    })])
    r = await add(['--event', 'Account.Create', '--url', HOOK, '--signature', SIG])
    expect(r.exit).to.equal(0)
    expect(r.stderr).to.contain(`Pipeliner does not show the signature key of webhook ${uuid(7)}: it was not compared.`)
    assertNockDone()
  })

  it('--replace creates the new webhook first, then deletes the old one', async () => {
    const order: string[] = []
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), insecure_ssl: true, url: HOOK,
    })])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(201, () => {
      order.push('POST')
      return {data: plWebhook({events: ['Account.Create'], id: uuid(8), url: HOOK}), success: true}
    })
    nock(PL).delete(`${PL_SPACE}/entities/Webhooks/${uuid(7)}`).reply(200, () => {
      order.push('DELETE')
      return {data: uuid(7), success: true}
    })
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--replace', '--json'])
    expect(r.exit).to.equal(0)
    expect(order).to.deep.equal(['POST', 'DELETE'])
    expect(r.json()).to.deep.include({created: true, replaced: [{id: uuid(7), status: 'deleted'}]})
    expect(r.json().webhook.id).to.equal(uuid(8))
    assertNockDone()
  })

  it('--replace: an old webhook that cannot be deleted is reported with the new one (exit of the failure)', async () => {
    listPage([plWebhook({
      events: ['Account.Create'], id: uuid(7), insecure_ssl: true, url: HOOK,
    })])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(201, {data: plWebhook({events: ['Account.Create'], id: uuid(8), url: HOOK}), success: true})
    nock(PL).delete(`${PL_SPACE}/entities/Webhooks/${uuid(7)}`).reply(401, plError(401, 10, 'ERROR_UNAUTHORIZED', 'no'))
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--replace'])
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.contain(`Created Pipeliner webhook ${uuid(8)}, but the old webhook(s) ${uuid(7)} could not be deleted`)
    expect(r.stderr).to.contain(`pdhooks pipeliner webhook delete ${uuid(7)}`)
    assertNockDone()
  })

  it('applied, then answered 503 or 429: found by the lookup, one POST', async () => {
    for (const status of [503, 429]) {
      listPage([])
      nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(status, plError(status, 1, 'ERROR', 'busy'), {'retry-after': '0'})
      listPage([plWebhook({events: ['Account.Create'], id: uuid(50), url: HOOK})])
      const r = await add(['--event', 'Account.Create', '--url', HOOK, '--json'])
      expect(r.exit, String(status)).to.equal(0)
      expect(r.json()).to.deep.include({created: true, recovered: true})
      assertNockDone()
    }
  })

  it('not applied (502): looked up, then sent again; the lookup failing too is "unknown", never resent', async () => {
    listPage([])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(502, 'Bad Gateway', {'content-type': 'text/plain'})
    listPage([])
    expectCreate()
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: true})
    assertNockDone()
    listPage([])
    const post = nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(503, plError(503, 1, 'ERROR', 'busy'))
    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).times(4).reply(503, plError(503, 1, 'ERROR', 'busy'))
    const u = await add(['--event', 'Account.Create', '--url', HOOK])
    expect(u.exit).to.equal(6)
    expect(u.stderr).to.contain('it is unknown whether the Pipeliner webhook was created').and.contain('pdhooks pipeliner webhook list')
    expect(post.isDone()).to.equal(true)
    assertNockDone()
  })

  it('creates when only the event set differs, and ignores deleted webhooks', async () => {
    listPage([
      plWebhook({events: ['Account.Create', 'Account.Update'], id: uuid(7), url: HOOK}),
      plWebhook({
        events: ['Account.Create'], id: uuid(8), is_deleted: true, url: HOOK,
      }),
    ])
    const sent = expectCreate()
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--json'])
    expect(r.json().created).to.equal(true)
    expect(sent.body.events).to.deep.equal(['Account.Create'])
  })

  it('after a timeout on the create call, finds the webhook instead of resending', async () => {
    listPage([plWebhook({id: uuid(1), url: 'https://other.example.com'})])
    const post = nock(PL).post(`${PL_SPACE}/entities/Webhooks`).delay(1500).reply(201, {data: plWebhook({id: uuid(50)}), success: true})
    listPage([plWebhook({id: uuid(1), url: 'https://other.example.com'}), plWebhook({events: ['Account.Create'], id: uuid(50), url: HOOK})])
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--timeout', '1', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: true, recovered: true})
    expect(r.json().webhook.id).to.equal(uuid(50))
    expect(post.isDone()).to.equal(true)
  })

  it('after a timeout with nothing created, says so (exit 6)', async () => {
    listPage([])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).delay(1500).reply(201, {data: plWebhook(), success: true})
    listPage([])
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--timeout', '1', '--json'])
    expect(r.exit).to.equal(6)
    expect(r.json().error.message).to.contain('no Pipeliner webhook was found afterwards, but the service may still be processing the request')
  })

  it('shows a Pipeliner error body in one line (400 → exit 2)', async () => {
    listPage([])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(400, plError(400, 117, 'ERROR_PARAMETER_INVALID', "Parameter 'url' is invalid"))
    const r = await add(['--event', 'Account.Create', '--url', HOOK])
    expect(r.exit).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr.trim()).to.equal("Error: Pipeliner rejected the request (400 from us-east.api.pipelinersales.com): Parameter 'url' is invalid (ERROR_PARAMETER_INVALID 117).")
    listPage([])
    nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(400, plError(400, 117, 'ERROR_PARAMETER_INVALID', "Parameter 'signature' must be a UUID"))
    const j = await add(['--event', 'Account.Create', '--url', HOOK, '--json'])
    expect(j.json()).to.deep.equal({
      error: {
        code: 'usage',
        message: "Pipeliner rejected the request (400 from us-east.api.pipelinersales.com): Parameter 'signature' must be a UUID (ERROR_PARAMETER_INVALID 117).",
        status: 400,
      },
    })
  })

  it('401: exit 3 with the fix; the password never appears (flag or variable)', async () => {
    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(401, plError(401, 401, 'ERROR_UNAUTHORIZED', 'Authentication failed'))
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().error.code).to.equal('auth')
    expect(r.json().error.status).to.equal(401)
    expect(r.json().error.message).to.contain('Pipeliner rejected the API key pair (401 from us-east.api.pipelinersales.com)').and.contain('PDHOOKS_PIPELINER_PASSWORD')
    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(403, plError(403, 403, 'ERROR_FORBIDDEN', `Access denied for ${PL_PASSWORD}`))
    const f = await add(['--event', 'Account.Create', '--url', HOOK, '--pipeliner-url', PL_URL, '--pipeliner-username', PL_USER, '--pipeliner-password', PL_PASSWORD], {})
    expect(f.exit).to.equal(3)
    expect(f.stderr.trim().split('\n')).to.have.length(1)
    for (const out of [r.stdout, r.stderr, f.stdout, f.stderr]) {
      expect(out).not.to.contain(PL_PASSWORD)
      expect(out).not.to.contain(BASIC.slice(6))
    }
  })

  it('missing credentials are exit 3 naming the flags and variables', async () => {
    const r = await add(['--event', 'Account.Create', '--url', HOOK], {PDHOOKS_PIPELINER_URL: PL_URL})
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.contain('--pipeliner-username / PDHOOKS_PIPELINER_USERNAME').and.contain('PDHOOKS_PIPELINER_PASSWORD')
  })

  it('DEBUG logs each request without the credentials or the signature', async () => {
    listPage([])
    expectCreate()
    const r = await add(['--event', 'Account.Create', '--url', HOOK, '--signature', SIG], {...plEnv, DEBUG: 'pdhooks*'})
    expect(r.exit).to.equal(0)
    expect(r.stderr).to.match(/pdhooks:http GET https:\/\/us-east\.api\.pipelinersales\.com\/api\/v100\/rest\/spaces\/sandbox\/entities\/Webhooks\?first=100 .*→ 200/)
    expect(r.stderr).to.match(/pdhooks:http POST .*\/entities\/Webhooks .*"authorization":"Basic \*\*\*\*".*→ 201/)
    for (const secret of [PL_PASSWORD, BASIC.slice(6), SIG]) expect(r.stdout + r.stderr).not.to.contain(secret)
  })
})
