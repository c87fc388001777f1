/* eslint-disable no-template-curly-in-string */
import {expect} from 'chai'
import {
  existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as Y from 'yaml'

import {PdhooksError} from '../../../../src/lib/core/errors.js'
import {loadDesiredState, MAX_FILE_BYTES, parseDesiredState} from '../../../../src/lib/workflows/apply/file.js'

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

describe('apply file: hostile and missing values', () => {
  it('every unset variable at once, in file order, each with its places (one variable, one place: the short form)', () => {
    const text = 'pipedrive:\n  webhooks:\n    - event: change.deal\n      url: ${URL_B}\n      auth: {user: ${USER_A}, password: ${PW}}\n    - event: change.person\n      url: ${URL_B}/p\n# a comment: ${IN_A_COMMENT}\n'
    let error: PdhooksError | undefined
    try {
      parse(text, {PW: 'x'})
    } catch (error_) {
      error = error_ as PdhooksError
    }

    expect(error?.exit).to.equal(2)
    expect(error?.message).to.equal('2 variables are not set: ${URL_B} at pdhooks.yaml:4 (pipedrive.webhooks[0].url), pdhooks.yaml:7 (pipedrive.webhooks[1].url); ${USER_A} at pdhooks.yaml:5 (pipedrive.webhooks[0].auth.user).')
    expect(error?.hint).to.equal('Set URL_B and USER_A in the environment.')
    expect(error?.details?.report).to.deep.equal({
      unset: [
        {field: 'pipedrive.webhooks[0].url', line: 4, variable: 'URL_B'},
        {field: 'pipedrive.webhooks[0].auth.user', line: 5, variable: 'USER_A'},
        {field: 'pipedrive.webhooks[1].url', line: 7, variable: 'URL_B'},
      ],
    })
    // reported before any other problem of the file (here: an unknown field further down)
    expect(fails('stack: s\ninstances:\n  - name: ${NAME}\n    colour: red\n')).to.match(/^pdhooks\.yaml:3 \(instances\[0\]\.name\): \$\{NAME\} is not set\./)
  })

  it('a line break (or any control character) from ${VAR} where a URL or a name is expected is exit 2 naming the variable, never its value', () => {
    const url = 'pipedrive:\n  webhooks:\n    - {event: change.deal, url: "${HOOK_URL}"}\n'
    // the URL parser would silently drop the line break: https://app.example.com/pd would be registered
    expect(fails(url, {HOOK_URL: 'https://app.example.com/pd\n'})).to.equal('pdhooks.yaml:3 (pipedrive.webhooks[0].url): ${HOOK_URL} holds a line feed (LF) at character 27: a URL cannot. Remove it from HOOK_URL (a value read from a file or pasted often ends with a line break).')
    expect(fails(url, {HOOK_URL: 'https://app.example.com/\rpd'})).to.contain('a carriage return (CR) at character 25')
    expect(fails(url, {HOOK_URL: 'https://app.example.com/\tpd'})).to.contain('a tab at character 25')
    expect(fails(url, {HOOK_URL: 'https://app.example.com/\u009B31m'})).to.contain('U+009B')
    const name = 'instances:\n  - name: "crm-${ENV_NAME}"\n    events: none\n'
    expect(fails(name, {ENV_NAME: 'prod\nevil: true'})).to.match(/^pdhooks\.yaml:2 \(instances\[0\]\.name\): \$\{ENV_NAME\} holds a line feed \(LF\) at character 9: a name or a setting cannot\./)
    const secret = 'pipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://x.example", auth: {user: u, password: "${PW}"}}\n'
    const line = fails(secret, {PW: 'secret-value-0123\r\nX-Injected: 1'})
    expect(line).to.contain('(pipedrive.webhooks[0].auth.password): ${PW} holds a carriage return (CR)')
    expect(line).not.to.contain('secret-value')
    expect(fails('pipeliner:\n  webhooks:\n    - {events: [Account.Create], url: "${PL}"}\n', {PL: 'https://x.example/\n'})).to.contain('(pipeliner.webhooks[0].url): ${PL} holds a line feed')
    expect(fails('instances:\n  - {name: a, callbackUrl: "${CB}"}\n', {CB: 'https://x.example/\n'})).to.contain('(instances[0].callbackUrl): ${CB} holds a line feed')
    expect(fails('instances:\n  - {name: a, callbackUrl: "https://x.example", configuration: {event.notification.callback.url: "${CB}"}}\n', {CB: 'https://y.example/\n'}))
    .to.contain('(instances[0].configuration.event.notification.callback.url): ${CB} holds a line feed')
    // literal escapes in the file are refused the same way
    expect(fails('instances:\n  - {name: "a\\nb", events: none}\n')).to.contain('(instances[0].name): the value holds a line feed (LF)')
    // a value that only looks like the placeholder pdhooks uses inside is kept as it is
    expect(parse('instances:\n  - {name: __PDHOOKS_ENV_7__, events: none}\n').instances[0].name).to.equal('__PDHOOKS_ENV_7__')
    // URLs are checked everywhere: the instance callback URL and Pipeliner URLs too
    expect(fails('instances:\n  - {name: a, callbackUrl: "ftp://x.example"}\n')).to.contain('(instances[0].callbackUrl): "ftp://x.example" is not an http(s) URL.')
    expect(fails('pipeliner:\n  webhooks:\n    - {events: [Account.Create], url: "not a url"}\n')).to.contain('is not an http(s) URL')
    // free-form configuration keeps its values
    expect(parse('instances:\n  - {name: a, events: none, configuration: {note: "two\\nlines"}}\n').instances[0].configuration).to.deep.equal({note: 'two\nlines'})
  })

  it('YAML aliases are refused, not expanded (no billion laughs)', () => {
    const bomb = 'x: &a ["l","l","l","l","l","l","l","l","l"]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    expect(fails(bomb)).to.contain('unknown field')
    expect(fails('instances:\n  - &i {name: a, events: none}\n  - *i\n')).to.contain('(instances[1]): expected a mapping.')
  })

  it('stack: a plain name', () => {
    expect(parse('stack: prod-hooks\n').stack).to.equal('prod-hooks')
    expect(parse('pipedrive: {webhooks: []}\n').stack).to.equal(undefined)
    expect(fails('stack: "prod hooks"\n')).to.match(/^pdhooks\.yaml:1 \(stack\): "prod hooks" is not a stack name\. Use 1 to 40 letters/)
    expect(fails(`stack: ${'x'.repeat(41)}\n`)).to.contain('is not a stack name')
    expect(fails('stack: [a]\n')).to.contain('(stack): expected a string.')
  })
})

async function refused(file: string): Promise<string> {
  try {
    await loadDesiredState(file, {})
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    expect((error as PdhooksError).exit).to.equal(2)
    expect((error as PdhooksError).code).to.equal('file_too_large')
    return (error as PdhooksError).message
  }

  throw new Error('expected the file to be refused')
}

describe('apply file: size', () => {
  let dir = ''

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdhooks-apply-size-'))
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  it('a file over 1 MB is refused from its size, without being read (a 10 GB sparse file answers at once)', async () => {
    const big = join(dir, 'big.yaml')
    writeFileSync(big, '')
    truncateSync(big, 10 * (1024 ** 3))
    const t = Date.now()
    expect(await refused(big)).to.equal(`${big} is 10240.0 MB: apply reads files of at most 1.0 MB.`)
    expect(Date.now() - t).to.be.below(1000)
  })

  it('a device that never ends is read only up to the limit', async function () {
    if (!existsSync('/dev/zero')) this.skip()
    expect(await refused('/dev/zero')).to.equal('/dev/zero is more than 1.0 MB: apply reads files of at most 1.0 MB.')
  })

  it('a file of exactly the limit is read', async () => {
    const f = join(dir, 'limit.yaml')
    const head = 'stack: s\n'
    writeFileSync(f, head + '#'.repeat(MAX_FILE_BYTES - head.length))
    expect((await loadDesiredState(f, {})).stack).to.equal('s')
    writeFileSync(f, head + '#'.repeat(MAX_FILE_BYTES - head.length + 1))
    expect(await refused(f)).to.equal(`${f} is 1.0 MB: apply reads files of at most 1.0 MB.`)
  })

  it('a folder or a missing file is exit 2 naming it', async () => {
    for (const [f, code] of [[dir, 'EISDIR'], [join(dir, 'nope.yaml'), 'ENOENT']]) {
      try {
        await loadDesiredState(f, {})
        throw new Error('expected an error')
      } catch (error) {
        expect((error as PdhooksError).exit).to.equal(2)
        expect((error as PdhooksError).message).to.equal(`Cannot read ${f} (${code}).`)
      }
    }
  })
})
