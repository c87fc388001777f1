import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'

import {COMMANDS} from '../src/index.js'
import {root} from './helpers.js'

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('command table (explicit discovery)', () => {
  it('lists every file under src/commands, by its id', () => {
    const ids = files(join(root, 'src', 'commands')).map(f => relative(join(root, 'src', 'commands'), f).replace(/\.ts$/, '').replaceAll('/', ':')).sort()
    expect(Object.keys(COMMANDS).sort()).to.deep.equal(ids)
  })

  it('the manifest the build generated has every command', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
    expect(Object.keys(manifest.commands).sort()).to.deep.equal(Object.keys(COMMANDS).sort())
  })
})
