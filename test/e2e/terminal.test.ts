// e2e in a real pseudo-terminal (tmux): Ctrl-C at any prompt is a quiet cancellation (exit 130), confirmations ask.
import {expect} from 'chai'
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ensureBuilt} from './helpers.js'
import {
  closeTerminals, hasTmux, type Terminal, terminal,
} from './terminal.js'

/** Nothing a user would read as a crash. */
const ALARMING = /Error|Unexpected|force closed|at .*\.js:\d+|ExitPromptError/

const seedProfiles = (dir: string) => writeFileSync(join(dir, 'config.json'), JSON.stringify({
  profiles: {ci: {pipedriveToken: 'tok-ci-0123456789'}, default: {pipedriveToken: 'tok-default-0123456789'}},
}), {mode: 0o600})
const storedProfiles = (dir: string) => Object.keys(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).profiles)

describe('e2e: in a terminal', function () {
  this.timeout(30_000)
  ensureBuilt()
  let dir = ''
  let t: Terminal | undefined

  before(function () {
    if (!hasTmux()) this.skip()
  })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-tty-'))
  })

  afterEach(() => {
    t?.close()
    t = undefined
    rmSync(dir, {force: true, recursive: true})
  })

  after(() => closeTerminals())

  const run = (args: string[], env: Record<string, string> = {}, cols = 80) => {
    t = terminal(args, {cols, env: {PDHOOKS_CONFIG_DIR: dir, ...env}})
    return t
  }

  describe('Ctrl-C at a prompt exits 130 and prints nothing alarming', () => {
    const cases: Array<{args: string[]; env?: Record<string, string>; prompt: string; what: string}> = [
      {args: ['auth', 'login'], prompt: 'Pipedrive API token', what: 'auth login'},
      {args: ['auth', 'login', '--pipedrive-url', 'acme', '--no-verify'], prompt: 'Pipedrive API token:', what: 'auth login (a missing companion value)'},
      {args: ['instance', 'create'], prompt: 'Instance name', what: 'instance create'},
      {args: ['setup'], prompt: 'user secret', what: 'the setup wizard'},
    ]
    for (const c of cases) {
      it(c.what, async () => {
        const term = run(c.args, c.env)
        await term.waitFor(c.prompt)
        term.send('C-c')
        expect(await term.exit()).to.equal(130)
        const screen = term.screen()
        expect(screen).to.contain('Cancelled.')
        expect(screen.replace(/__EXIT:\d+__/, '')).not.to.match(ALARMING)
      })
    }
  })

  describe('auth logout --all', () => {
    it('asks, naming the profiles; "y" removes them', async () => {
      seedProfiles(dir)
      const term = run(['auth', 'logout', '--all'])
      await term.waitFor('Remove the stored credentials of all 2 profiles (ci, default)')
      term.send(['y', 'Enter'])
      expect(await term.exit()).to.equal(0)
      expect(term.screen()).to.contain('Removed stored credentials of "ci", "default".')
      expect(storedProfiles(dir)).to.deep.equal([])
    })

    it('the default answer is no: nothing is removed (exit 2)', async () => {
      seedProfiles(dir)
      const term = run(['auth', 'logout', '--all'])
      await term.waitFor('(y/N)')
      term.send('Enter')
      expect(await term.exit()).to.equal(2)
      expect(storedProfiles(dir)).to.deep.equal(['ci', 'default'])
    })

    it('Ctrl-C at the confirmation removes nothing (exit 130)', async () => {
      seedProfiles(dir)
      const term = run(['auth', 'logout', '--all'])
      await term.waitFor('(y/N)')
      term.send('C-c')
      expect(await term.exit()).to.equal(130)
      expect(term.screen().replace(/__EXIT:\d+__/, '')).not.to.match(ALARMING)
      expect(storedProfiles(dir)).to.deep.equal(['ci', 'default'])
    })
  })
})
