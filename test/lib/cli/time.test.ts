import {expect} from 'chai'

import {parseDuration, parseWhen} from '../../../src/lib/cli/time.js'
import {PdhooksError} from '../../../src/lib/core/errors.js'

describe('cli/time: --since and --until values', () => {
  const now = Date.parse('2026-12-02T12:00:00Z')

  it('durations go back from now, and combine', () => {
    expect(parseWhen('2h', '--since', now)).to.equal(Date.parse('2026-12-02T10:00:00Z'))
    expect(parseWhen('3d', '--since', now)).to.equal(Date.parse('2026-11-29T12:00:00Z'))
    expect(parseWhen('1d12h', '--since', now)).to.equal(Date.parse('2026-12-01T00:00:00Z'))
    expect(parseWhen(' 90S ', '--since', now)).to.equal(now - 90_000)
    expect(parseDuration('1w')).to.equal(604_800_000)
    expect(parseDuration('0.5h')).to.equal(1_800_000)
    expect(parseDuration('2')).to.equal(undefined)
    expect(parseDuration('h')).to.equal(undefined)
  })

  it('ISO times, dates, and Pipedrive\'s space-separated times (UTC)', () => {
    expect(parseWhen('2026-12-01T10:00:00Z', '--since', now)).to.equal(Date.parse('2026-12-01T10:00:00Z'))
    expect(parseWhen('2026-12-01T10:00:00+02:00', '--since', now)).to.equal(Date.parse('2026-12-01T08:00:00Z'))
    expect(parseWhen('2026-12-01', '--since', now)).to.equal(Date.parse('2026-12-01T00:00:00Z'))
    expect(parseWhen('2026-12-01 10:00', '--since', now)).to.equal(Date.parse('2026-12-01T10:00:00Z'))
    expect(parseWhen('2026-12-01 10:00:30', '--since', now)).to.equal(Date.parse('2026-12-01T10:00:30Z'))
  })

  for (const bad of ['yesterday', '2h ago', '-2h', '1700000000', '2026-13-45', '', '12:00']) {
    it(`"${bad}" is exit 2 naming the flag, with both forms as the fix`, () => {
      let error: unknown
      try {
        parseWhen(bad, '--until', now)
      } catch (error_) {
        error = error_
      }

      expect(error).to.be.instanceOf(PdhooksError)
      const e = error as PdhooksError
      expect(e.exit).to.equal(2)
      expect(e.message).to.equal(`Invalid --until "${bad}": not a time or a duration.`)
      expect(e.hint).to.include('2026-12-01T10:00:00Z').and.include('2h')
    })
  }
})
