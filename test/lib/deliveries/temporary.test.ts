import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {once} from 'node:events'

import {
  classifyMarker, KEPT_PREFIX, ownMarker, parseTemporaryMarker, pidExists, pipedriveMarker, pipelinerMarker, readTemporaryMarker, runIsAlive, TEMPORARY_PREFIX, temporaryMarker, thisHost,
} from '../../../src/lib/deliveries/temporary.js'

const STARTED = '2026-12-02T01:02:03.456Z'
const DEAD_PID = 99_999_999

describe('deliveries/temporary: the marker of listen --register webhooks', () => {
  it('writes and reads back "pdhooks-listen <host> <pid> <started>" (and the --keep form)', () => {
    const m = {host: 'my-laptop', pid: 4242, started: STARTED}
    expect(temporaryMarker(m)).to.equal(`${TEMPORARY_PREFIX} my-laptop 4242 ${STARTED}`)
    expect(parseTemporaryMarker(temporaryMarker(m))).to.deep.equal(m)
    expect(temporaryMarker({...m, kept: true})).to.equal(`${KEPT_PREFIX} my-laptop 4242 ${STARTED}`)
    expect(parseTemporaryMarker(`${KEPT_PREFIX} my-laptop 4242 ${STARTED}`)).to.deep.equal({...m, kept: true})
    // a host name with spaces cannot break the format
    expect(parseTemporaryMarker(temporaryMarker({...m, host: 'Jane s Mac'}))).to.deep.equal({...m, host: 'Jane-s-Mac'})
  })

  it('never mistakes a name made by hand for a marker', () => {
    for (const name of [
      'pdhooks *.deal',
      'pdhooks-listen',
      'pdhooks-listen my own',
      `pdhooks-listen host 0 ${STARTED}`,
      `pdhooks-listen host -1 ${STARTED}`,
      'pdhooks-listen host 12 yesterday',
      `pdhooks-listen host 12 ${STARTED} extra`,
      `xpdhooks-listen host 12 ${STARTED}`,
      'pdhooks-listen host 12 2026-13-45T99:99:99Z',
    ]) expect(parseTemporaryMarker(name), name).to.equal(undefined)
    expect(parseTemporaryMarker(null)).to.equal(undefined)
    expect(parseTemporaryMarker(42)).to.equal(undefined)
  })

  it('finds the marker in a Pipedrive name and among a Pipeliner webhook\'s skip_keys', () => {
    const text = `pdhooks-listen h 7 ${STARTED}`
    expect(pipedriveMarker({name: text})).to.deep.equal({host: 'h', pid: 7, started: STARTED})
    expect(pipelinerMarker({options: {skip_keys: ['my-integration', text]}})).to.deep.equal({host: 'h', pid: 7, started: STARTED})
    expect(pipelinerMarker({options: {skip_keys: 'nope'}})).to.equal(undefined)
    expect(pipelinerMarker({options: null})).to.equal(undefined)
    expect(pipelinerMarker({})).to.equal(undefined)
  })

  it('readTemporaryMarker tells "starts like a marker but unreadable" (null) from "no marker" (undefined): doctor reports the first', () => {
    for (const name of ['pdhooks-listen my own', `pdhooks-listen host 0 ${STARTED}`, `pdhooks-listen host 12 ${STARTED} extra`, 'pdhooks-listen host 12 2026-01-01 00:00', 'pdhooks-listen-kept ???', ` pdhooks-listen h x ${STARTED}`]) {
      expect(readTemporaryMarker(name), name).to.equal(null)
      expect(parseTemporaryMarker(name), name).to.equal(undefined)
    }

    for (const name of ['pdhooks *.deal', 'pdhooks-listen', 'pdhooks-listener h 1 2026', `xpdhooks-listen host 12 ${STARTED}`, null, 42]) expect(readTemporaryMarker(name), String(name)).to.equal(undefined)
    expect(readTemporaryMarker(`pdhooks-listen h 7 ${STARTED}`)).to.deep.equal({host: 'h', pid: 7, started: STARTED})
    expect(pipedriveMarker({name: 'pdhooks-listen ???'})).to.equal(null)
    // among skip_keys: the first that reads wins; else null when one started like a marker
    expect(pipelinerMarker({options: {skip_keys: ['pdhooks-listen ???', `pdhooks-listen h 7 ${STARTED}`]}})).to.deep.equal({host: 'h', pid: 7, started: STARTED})
    expect(pipelinerMarker({options: {skip_keys: ['mine', 'pdhooks-listen ???']}})).to.equal(null)
    expect(pipelinerMarker({options: {skip_keys: ['mine']}})).to.equal(undefined)
  })

  it('pidExists: this process and pid 1 exist, a dead pid does not', () => {
    expect(pidExists(process.pid)).to.equal(true)
    expect(pidExists(1)).to.equal(true)
    expect(pidExists(DEAD_PID)).to.equal(false)
  })

  it('classifies: own, kept, gone (this host, process gone), alive, foreign (another host: never deleted)', () => {
    const own = ownMarker()
    expect(own.host).to.equal(thisHost())
    expect(classifyMarker({...own}, own)).to.equal('own')
    expect(classifyMarker({
      host: own.host, kept: true, pid: DEAD_PID, started: STARTED,
    }, own)).to.equal('kept')
    expect(classifyMarker({host: own.host, pid: DEAD_PID, started: STARTED}, own)).to.equal('gone')
    expect(classifyMarker({host: own.host, pid: process.pid, started: STARTED}, own)).to.equal('alive')
    expect(classifyMarker({host: `${own.host}-other`, pid: DEAD_PID, started: STARTED}, own)).to.equal('foreign')
  })

  it('a pid reused by a process started after the marker is not that run (gone); one started before it is alive', async function () {
    if (process.platform !== 'linux') this.skip()
    const child = spawn('sleep', ['5'])
    try {
      await once(child, 'spawn')
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString()
      expect(runIsAlive({pid: child.pid!, started: hourAgo})).to.equal(false)
      expect(runIsAlive({pid: child.pid!, started: new Date(Date.now() + 1000).toISOString()})).to.equal(true)
      expect(runIsAlive({pid: DEAD_PID, started: hourAgo})).to.equal(false)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
