import {expect} from 'chai'

import {
  InterruptedError, Interruption, REPEAT_MS, SIGNAL_EXIT,
} from '../../../src/lib/core/interrupt.js'
import {catchStraySignals} from '../../support/signals.js'
import {sleep} from '../../support/wait.js'

describe('Interruption', () => {
  catchStraySignals()
  let forced: InterruptedError[] = []
  let intr: Interruption

  beforeEach(() => {
    forced = []
  })

  afterEach(() => intr?.uninstall())

  it('installs nothing until a report is registered, and removes its handlers when done', () => {
    const before = process.listenerCount('SIGINT')
    intr = new Interruption({onForce: e => forced.push(e)})
    expect(process.listenerCount('SIGINT')).to.equal(before)
    intr.report(() => ({message: 'x'}))
    expect(process.listenerCount('SIGINT')).to.equal(before + 1)
    expect(process.listenerCount('SIGTERM')).to.be.greaterThan(0)
    intr.uninstall()
    expect(process.listenerCount('SIGINT')).to.equal(before)
  })

  it('the first signal aborts the work; the error carries the report of that moment, exit 130 / 143', () => {
    let done = 1
    intr = new Interruption({onForce: e => forced.push(e)}).report(() => ({details: {done}, lines: ['left: 3'], message: `did ${done}`}))
    expect(intr.error()).to.equal(undefined)
    intr.throwIfInterrupted()
    process.emit('SIGTERM')
    expect(intr.signal.aborted).to.equal(true)
    done = 2
    const e = intr.error()!
    expect(e).to.be.instanceOf(InterruptedError)
    expect(e.exit).to.equal(143)
    expect(e.message).to.equal('Interrupted (SIGTERM): did 2.')
    expect(e.lines).to.deep.equal(['left: 3'])
    expect(e.details?.report).to.deep.equal({done: 2, signal: 'SIGTERM'})
    expect(() => intr.throwIfInterrupted()).to.throw(InterruptedError)
    expect(forced).to.deep.equal([])
    expect(SIGNAL_EXIT).to.deep.equal({SIGINT: 130, SIGTERM: 143})
  })

  it('a repeat within REPEAT_MS is the same interruption; a later second signal forces the report at once', async () => {
    intr = new Interruption({onForce: e => forced.push(e)}).report(() => ({message: 'm'}))
    process.emit('SIGINT')
    process.emit('SIGINT')
    expect(forced).to.have.length(0)
    await sleep(REPEAT_MS + 20)
    process.emit('SIGINT')
    expect(forced).to.have.length(1)
    expect(forced[0].exit).to.equal(130)
  })

  it('when the work does not stop within the grace period, the report is forced', async () => {
    intr = new Interruption({graceMs: 50, onForce: e => forced.push(e)}).report(() => ({message: 'slow'}))
    process.emit('SIGINT')
    await sleep(100)
    expect(forced.map(e => e.message)).to.deep.equal(['Interrupted (SIGINT): slow.'])
  })

  it('uninstalled in time (the work stopped by itself), nothing is forced', async () => {
    intr = new Interruption({graceMs: 50, onForce: e => forced.push(e)}).report(() => ({message: 'quick'}))
    process.emit('SIGINT')
    intr.uninstall()
    await sleep(100)
    expect(forced).to.deep.equal([])
  })
})
