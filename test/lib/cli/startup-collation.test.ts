import {expect} from 'chai'

import {COMMANDS} from '../../../src/index.js'
import {
  compareIds, defaultLocaleIsPlain, deferCollation, restoreCollation,
} from '../../../src/lib/cli/startup-collation.js'

/** Every string of `alphabet` up to `length` characters. */
function strings(alphabet: string, length: number): string[] {
  let level = ['']
  const all: string[] = []
  for (let i = 0; i < length; i++) {
    level = level.flatMap(s => [...alphabet].map(c => s + c))
    all.push(...level)
  }

  return all
}

const sign = (n: number) => Math.sign(n)

describe('startup collation (lib/cli/startup-collation)', () => {
  afterEach(() => restoreCollation())

  for (const locale of ['und', 'en-US', 'en-GB']) {
    it(`orders command ids as ICU's ${locale} collator does`, () => {
      const collator = new Intl.Collator(locale)
      const ids = [...Object.keys(COMMANDS), ...strings('adhyz:-', 4)]
      const differing: string[] = []
      for (const a of ids) {
        for (const b of ids.slice(0, 400)) if (sign(compareIds(a, b)) !== sign(collator.compare(a, b))) differing.push(`${a} ${b}`)
      }

      expect(differing).to.deep.equal([])
      expect(Object.keys(COMMANDS).sort(compareIds)).to.deep.equal(Object.keys(COMMANDS).sort(collator.compare))
    })
  }

  it('a locale that tailors Latin letters is not one of them (Lithuanian: i < y < j)', () => {
    expect(['j', 'y', 'i'].sort(new Intl.Collator('lt').compare)).to.deep.equal(['i', 'y', 'j'])
    expect(['j', 'y', 'i'].sort(compareIds)).to.deep.equal(['i', 'j', 'y'])
    expect(defaultLocaleIsPlain({LANG: 'lt_LT.UTF-8'}, 'linux')).to.equal(false)
  })

  it('takes the locale as ICU does on POSIX systems: LC_ALL, else LC_MESSAGES, else LANG', () => {
    expect(defaultLocaleIsPlain({}, 'linux')).to.equal(true)
    for (const plain of ['C', 'C.UTF-8', 'POSIX', 'en_US.UTF-8', 'en_GB', 'en', '']) expect(defaultLocaleIsPlain({LANG: plain}, 'linux'), plain).to.equal(true)
    for (const other of ['de_DE.UTF-8', 'lt_LT.UTF-8', 'da_DK', 'eng', 'Cx']) expect(defaultLocaleIsPlain({LANG: other}, 'linux'), other).to.equal(false)
    expect(defaultLocaleIsPlain({LANG: 'C', LC_MESSAGES: 'lt_LT.UTF-8'}, 'linux')).to.equal(false)
    expect(defaultLocaleIsPlain({LANG: 'lt_LT.UTF-8', LC_MESSAGES: 'C'}, 'linux')).to.equal(true)
    expect(defaultLocaleIsPlain({LANG: 'lt_LT.UTF-8', LC_ALL: 'en_US.UTF-8'}, 'linux')).to.equal(true)
    expect(defaultLocaleIsPlain({LC_ALL: 'lt_LT.UTF-8', LANG: 'C'}, 'darwin')).to.equal(false)
    expect(defaultLocaleIsPlain({}, 'win32')).to.equal(false)
  })

  it('while deferred, compares ids without ICU and hands every other comparison to it; then puts it back', () => {
    const icu = String.prototype.localeCompare
    const calls: unknown[][] = []
    // a stand-in for ICU's localeCompare that records what reaches it
    // eslint-disable-next-line no-extend-native
    String.prototype.localeCompare = function (this: string, ...args: unknown[]) {
      calls.push([String(this), ...args])
      return (icu as (...a: unknown[]) => number).apply(this, args)
    } as typeof icu
    const recording = String.prototype.localeCompare
    try {
      deferCollation({LANG: 'C.UTF-8'})
      expect(String.prototype.localeCompare).to.not.equal(recording)
      expect(['webhook:list', 'auth:login', 'webhook-x', 'apply'].sort((a, b) => a.localeCompare(b))).to.deep.equal(['apply', 'auth:login', 'webhook-x', 'webhook:list'])
      expect(calls).to.deep.equal([])
      expect(sign('é'.localeCompare('f'))).to.equal(-1) // not an id: ICU's answer (é sorts with e)
      expect(sign('a'.localeCompare('B', 'en', {sensitivity: 'base'}))).to.equal(-1) // arguments: ICU's answer
      expect(sign('Zebra'.localeCompare('apple'))).to.equal(1) // capitals: ICU's answer (code units would say -1)
      expect(calls.map(c => c[0])).to.deep.equal(['é', 'a', 'Zebra'])
      restoreCollation()
      expect(String.prototype.localeCompare).to.equal(recording)
      restoreCollation() // twice is harmless
      expect(String.prototype.localeCompare).to.equal(recording)
    } finally {
      restoreCollation()
      // eslint-disable-next-line no-extend-native
      String.prototype.localeCompare = icu
    }
  })

  it('is not deferred in a locale it cannot answer for', () => {
    const icu = String.prototype.localeCompare
    deferCollation({LC_ALL: 'lt_LT.UTF-8'})
    expect(String.prototype.localeCompare).to.equal(icu)
  })
})
