import {Config} from '@oclif/core'
import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'

import {COMMANDS, PLUGIN_LOADERS} from '../src/index.js'
import {root} from './helpers.js'

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('command table (explicit discovery)', () => {
  it('lists every file under src/commands, by its id, and the commands of oclif\'s help and autocomplete plugins', () => {
    const ids = files(join(root, 'src', 'commands')).map(f => relative(join(root, 'src', 'commands'), f).replace(/\.ts$/, '').replaceAll('/', ':'))
    expect(Object.keys(COMMANDS).sort()).to.deep.equal([...ids, 'autocomplete', 'autocomplete:create', 'autocomplete:script', 'help'].sort())
    expect(Object.keys(PLUGIN_LOADERS).sort()).to.deep.equal(['autocomplete', 'autocomplete:create', 'autocomplete:script', 'help'])
  })

  it('in tests, oclif loads the commands from src/ (the modules the tests import), not from the bundle', async () => {
    const config = await Config.load({root})
    expect(config.commands.filter(c => c.pluginName === 'pdhooks').map(c => c.id).sort()).to.deep.equal(Object.keys(COMMANDS).sort())
    for (const [id, command] of Object.entries(COMMANDS)) {
      // the very same class: a test's stub of a src/ module (prompts, secrets) reaches the command it runs
      expect(await config.findCommand(id)?.load(), id).to.equal(command)
    }
  })

  it('has no runtime dependencies and no oclif plugins: the bundle holds everything it runs, help and autocomplete included', () => {
    const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pjson.dependencies ?? {}).to.deep.equal({})
    expect(pjson.oclif.plugins).to.equal(undefined)
    expect(pjson.devDependencies).to.include.keys('@oclif/plugin-help', '@oclif/plugin-autocomplete')
  })
})
