import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {COMMANDS} from '../../../src/index.js'
import {envTwin, registerArgvSecrets, SECRET_FLAGS} from '../../../src/lib/cli/flags.js'
import {invalidCharacter} from '../../../src/lib/core/config.js'
import {forgetSecrets, scrub} from '../../../src/lib/core/mask.js'
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
