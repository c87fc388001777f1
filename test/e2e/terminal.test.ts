// e2e in a real pseudo-terminal (tmux): Ctrl-C at any prompt is a quiet cancellation (exit 130), confirmations ask.
import {expect} from 'chai'
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {explain, useSandbox} from './helpers.js'
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
  // a sandbox for the prompts that come after a first request (instance create lists instances, setup picks one)
  const e2e = useSandbox()
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
    const cases: Array<{args: string[]; prompt: string; sandbox?: boolean; what: string}> = [
      {args: ['auth', 'login'], prompt: 'Pipedrive API token', what: 'auth login'},
      {args: ['auth', 'login', '--pipedrive-url', 'acme', '--no-verify'], prompt: 'Pipedrive API token:', what: 'auth login (a missing companion value)'},
      {
        args: ['instance', 'create'], prompt: 'Instance name', sandbox: true, what: 'instance create',
      },
      {args: ['setup'], prompt: 'Platform:', what: 'the setup wizard (its first question: the platform)'},
      {
        args: ['setup', '--elements-url', 'https://api.cloud-elements.com/elements/api-v2'],
        prompt: 'user secret',
        what: 'the setup wizard (credentials)',
      },
      {
        args: ['setup'], prompt: 'Events mode', sandbox: true, what: 'the setup wizard (after its first requests)',
      },
    ]
    for (const c of cases) {
      it(c.what, async () => {
        const term = run(c.args, c.sandbox ? e2e.env : {})
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

/** The rows of the table on the screen: from its header line to the first blank or note line. */
function tableLines(screen: string, header: RegExp): string[] {
  const lines = screen.split('\n')
  const start = lines.findIndex(l => header.test(l))
  const end = lines.findIndex((l, i) => i > start && (l.trim() === '' || l.startsWith('Cut to fit') || l.startsWith('__EXIT')))
  return lines.slice(start, end)
}

describe('e2e: tables in a 60-column terminal', function () {
  this.timeout(40_000)
  const e2e = useSandbox()
  let t: Terminal | undefined

  before(function () {
    if (!hasTmux()) this.skip()
  })

  afterEach(() => {
    t?.close()
    t = undefined
  })

  after(() => closeTerminals())

  it('webhook list, instance list and auth status keep one line per row, cut with …; --wide and piped output show everything', async () => {
    const longUrl = 'https://hooks.example.com/a/very/long/path/to/the/receiver/of/deliveries'
    await e2e.seedPipedrive(3, i => ({subscription_url: `${longUrl}/${i}`}))
    const made = await e2e.run(['instance',
      'create',
      '--name',
      'crm-events-production-eu',
      '--callback-url',
      'https://app.example.com/ce/receiver',
      '--pipedrive-email',
      'ops@example.com',
      '--pipedrive-password',
      'pw-0123456789',
      '--tag',
      'prod',
      '--tag',
      'eu-central'])
    expect(made.code, explain(made)).to.equal(0)
    const evil = await e2e.run(['instance', 'create', '--name', 'ev\n\u001B[31mred', '--events', 'none', '--pipedrive-email', 'ops@example.com', '--pipedrive-password', 'pw-0123456789'])
    expect(evil.code, explain(evil)).to.equal(0)

    for (const [args, header, rows] of [
      [['webhook', 'list'], /^ID\s+EVENT\s+TARGET/, 3],
      [['instance', 'list'], /^ID\s+NAME/, 2],
      [['auth', 'status'], /^ {2}SETTING\s+VALUE/, 3],
    ] as Array<[string[], RegExp, number]>) {
      t = terminal(args, {cols: 60, env: e2e.env})
      expect(await t.exit(), t.screen()).to.equal(0)
      const screen = t.screen()
      const lines = tableLines(screen, header)
      expect(lines, screen).to.have.length(rows + 1)
      for (const l of lines) expect(l.length, l).to.be.at.most(60)
      expect(lines.slice(1).some(l => l.includes('…')), screen).to.equal(true)
      expect(screen).to.contain('Cut to fit the terminal: --wide shows everything.')
      t.close()

      t = terminal([...args, '--wide'], {cols: 60, env: e2e.env})
      expect(await t.exit()).to.equal(0)
      expect(t.screen({joined: true})).not.to.contain('Cut to fit')
      t.close()
      t = undefined
    }

    t = terminal(['webhook', 'list', '--wide'], {cols: 60, env: e2e.env})
    await t.exit()
    expect(t.screen({joined: true})).to.contain(`${longUrl}/0`)
    t.close()
    t = terminal(['instance', 'list'], {cols: 60, env: e2e.env})
    await t.exit()
    // a hostile name stays on its row, escaped
    expect(t.screen()).to.contain(String.raw`ev\n\u001b[31mred`)
    // piped (not a terminal): nothing is cut, like gh
    const piped = await e2e.run(['webhook', 'list'])
    expect(piped.stdout).to.contain(`${longUrl}/0`).and.to.contain('LAST DELIVERY')
    expect(piped.stderr).not.to.contain('Cut to fit')
  })
})

