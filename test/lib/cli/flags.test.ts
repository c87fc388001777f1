import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {COMMANDS} from '../../../src/index.js'
import {
  basicAuthFlag, elementsFlags, envTwin, instanceIdArg, instanceIdFlag, pipedriveFlags, pipelinerFlags, registerArgvSecrets, SECRET_FLAGS, secretFlagEnv, settingFlag,
} from '../../../src/lib/cli/flags.js'
import {invalidCharacter, SETTING_KEYS, SETTINGS} from '../../../src/lib/core/config.js'
import {PdhooksError} from '../../../src/lib/core/errors.js'
import {forgetSecrets, scrub} from '../../../src/lib/core/mask.js'
import {isInstanceId} from '../../../src/lib/elements/callback-url.js'
import {root} from '../../support/run.js'

/** Flag names that hold secrets (not `--sign`, `--skip-key`, `--generate-auth`, which hold none). */
const SECRET_NAME = /(password|token|secret|signature|-key|basic-auth)$/
const NOT_SECRET = new Set(['skip-key'])

describe('secret flags', () => {
  const all = Object.entries(COMMANDS).flatMap(([id, c]) => Object.entries({...c.baseFlags, ...c.flags}).map(([name, flag]) => ({flag: flag as any, id, name})))

  it('every secret-looking flag of every command is a secret() flag with its PDHOOKS_ environment twin', () => {
    const secrets = all.filter(f => SECRET_NAME.test(f.name) && !NOT_SECRET.has(f.name))
    expect(secrets.length).to.be.greaterThan(20)
    for (const {flag, id, name} of secrets) {
      expect(SECRET_FLAGS.get(name), `${id} --${name}`).to.equal(envTwin(name))
      expect(flag.env, `${id} --${name}`).to.equal(envTwin(name))
    }

    expect([...SECRET_FLAGS.values()].sort()).to.deep.equal([
      'PDHOOKS_BASIC_AUTH',
      'PDHOOKS_ELEMENTS_KEY',
      'PDHOOKS_HTTP_AUTH_PASSWORD',
      'PDHOOKS_ORG_SECRET',
      'PDHOOKS_PIPEDRIVE_ACCESS_TOKEN',
      'PDHOOKS_PIPEDRIVE_PASSWORD',
      'PDHOOKS_PIPEDRIVE_TOKEN',
      'PDHOOKS_PIPELINER_KEY',
      'PDHOOKS_PIPELINER_PASSWORD',
      'PDHOOKS_SIGNATURE',
      'PDHOOKS_SIGNATURE_KEY',
      'PDHOOKS_USER_SECRET',
    ])
  })

  it('the README lists every environment twin', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    for (const env of SECRET_FLAGS.values()) expect(readme, env).to.contain(`\`${env}\``)
  })

  it('registers the values of secret flags in a raw argv and of their variables', () => {
    const saved = process.env.PDHOOKS_ELEMENTS_KEY
    process.env.PDHOOKS_ELEMENTS_KEY = 'elements-key-from-env'
    try {
      registerArgvSecrets(['trigger', '--basic-auth', 'hooks:argv-password', '--signature=sig-from-argv-0123', '--to', 'http://x', '--', '--pipedrive-token', 'after-dashes'])
      const out = scrub('hooks:argv-password sig-from-argv-0123 elements-key-from-env http://x after-dashes')
      expect(out).not.to.contain('argv-password').and.not.contain('sig-from-argv').and.not.contain('elements-key-from-env')
      expect(out).to.contain('http://x').and.contain('after-dashes')
    } finally {
      forgetSecrets()
      if (saved === undefined) delete process.env.PDHOOKS_ELEMENTS_KEY
      else process.env.PDHOOKS_ELEMENTS_KEY = saved
    }
  })

  it('invalidCharacter: control characters anywhere; for headers also tab and anything outside Latin-1', () => {
    expect(invalidCharacter('abc')).to.equal(undefined)
    expect(invalidCharacter('a\tb')).to.equal(undefined)
    expect(invalidCharacter('a\tb', true)).to.equal('a tab at character 2')
    expect(invalidCharacter('ab\r', true)).to.equal('a carriage return (CR) at character 3')
    expect(invalidCharacter('pässwörd', true)).to.equal(undefined)
    expect(invalidCharacter('pässwörd')).to.equal(undefined)
    expect(invalidCharacter('a😀', true)).to.equal('the character U+1F600 at character 2')
    expect(invalidCharacter('a\u007F')).to.equal('a DEL character at character 2')
  })
})

describe('flags that carry their rules', () => {
  afterEach(() => forgetSecrets())

  it('secret(): the value is registered for masking by the parse itself, with the parts a flag names (the password of --basic-auth)', async () => {
    const token = 'pd-token-parsed-0123456789'
    expect(scrub(`token ${token}`)).to.contain(token)
    expect(await (pipedriveFlags['pipedrive-token'] as any).parse(token, {token: {flag: 'pipedrive-token', input: token, type: 'flag'}})).to.equal(token)
    expect(scrub(`token ${token}`)).to.equal('token pd-t…')
    const auth = basicAuthFlag('Basic auth.') as any
    expect(auth.env).to.equal('PDHOOKS_BASIC_AUTH')
    await auth.parse('hooks:alone-password-0123', {})
    expect(scrub('the password alone-password-0123, the pair hooks:alone-password-0123')).to.equal('the password alon…, the pair hook…')
  })

  it('secret(): a value with a control character is exit 2 naming the flag, or the variable when it came from there, never the value', async () => {
    const flag = pipedriveFlags['pipedrive-token'] as any
    const fromFlag = await flag.parse('pd-token\r', {token: {flag: 'pipedrive-token', input: 'pd-token\r', type: 'flag'}}).catch((error: PdhooksError) => error)
    expect(fromFlag).to.be.instanceOf(PdhooksError)
    expect(fromFlag.exit).to.equal(2)
    expect(fromFlag.message).to.equal('--pipedrive-token contains a carriage return (CR) at character 9.')
    const fromEnv = await flag.parse('pd-token\n', {}).catch((error: PdhooksError) => error)
    expect(fromEnv.message).to.equal('PDHOOKS_PIPEDRIVE_TOKEN contains a line feed (LF) at character 9.')
  })

  it('the credential flags come from the settings table: flag name, environment twin, secret, header, description', () => {
    const shared: Record<string, any> = {...pipedriveFlags, ...elementsFlags, ...pipelinerFlags}
    expect(Object.keys(shared).sort()).to.deep.equal(SETTING_KEYS.map(k => SETTINGS[k].flag).sort())
    for (const k of SETTING_KEYS) {
      const s = SETTINGS[k]
      const flag = shared[s.flag]
      expect(s.env, k).to.equal(envTwin(s.flag))
      expect(flag.helpGroup, k).to.equal('CREDENTIALS')
      if (s.secret) {
        expect(flag.env, k).to.equal(s.env)
        expect(SECRET_FLAGS.get(s.flag), k).to.equal(s.env)
        expect(flag.description, k).to.equal(`${s.description}.`)
      } else {
        expect(flag.env, k).to.equal(undefined)
        expect(secretFlagEnv(s.flag), k).to.equal(undefined)
        expect(flag.description, k).to.equal(`${s.description} (${s.env}).`)
      }
    }

    // a description of the command's own, the rest from the table
    const login = settingFlag('pipedriveToken', {description: 'Pipedrive API token (sent as x-api-token).'}) as any
    expect(login).to.include({description: 'Pipedrive API token (sent as x-api-token).', env: 'PDHOOKS_PIPEDRIVE_TOKEN'})
    expect(login.helpGroup).to.equal(undefined)
  })

  it('instanceIdFlag / instanceIdArg: a positive integer passes as typed; anything else is exit 2 in the commands\' words', async () => {
    const flag = instanceIdFlag() as any
    const arg = instanceIdArg() as any
    expect(await flag.parse('20931', {token: {flag: 'instance', input: '20931', type: 'flag'}})).to.equal('20931')
    expect(await arg.parse('7', {})).to.equal('7')
    for (const bad of ['abc', '0', '00', '', '1.5', '-3', ' 12', '12 ', '1e3', '٣']) {
      const e = await flag.parse(bad, {token: {flag: 'instance', input: bad, type: 'flag'}}).catch((error: PdhooksError) => error)
      expect(e, JSON.stringify(bad)).to.be.instanceOf(PdhooksError)
      expect(e.exit).to.equal(2)
      expect(e.message).to.equal(`Invalid --instance "${bad}": instance ids are numbers.`)
      const a = await arg.parse(bad, {}).catch((error: PdhooksError) => error)
      expect(a.message).to.equal(`Invalid instance id "${bad}": instance ids are numbers.`)
    }

    expect(isInstanceId('20931')).to.equal(true)
    expect(isInstanceId('0')).to.equal(false)
  })
})
