// e2e: the README's way to point a shell at a background sandbox (--export-file), run in a real POSIX shell.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {
  existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {
  binRun, cleanEnv, ensureBuilt, explain, pdhooks, root,
} from './helpers.js'

/** The README's lines, as a user pastes them into sh (with `pdhooks` being the built CLI). */
const README_LINES = [
  'pdhooks sandbox --export-file .sandbox.env &',
  'until [ -s .sandbox.env ]; do sleep 0.1; done',
  '. ./.sandbox.env',
]

async function sh(script: string, cwd: string, timeoutMs = 20_000): Promise<{code: null | number; stderr: string; stdout: string}> {
  // `pdhooks` on the PATH, as after `npm link`
  writeFileSync(join(cwd, 'pdhooks'), `#!/bin/sh\nexec "${process.execPath}" "${binRun}" "$@"\n`, {mode: 0o755})
  const child = spawn('sh', ['-c', script], {cwd, env: {...cleanEnv(), PATH: `${cwd}:${process.env.PATH}`, PDHOOKS_CONFIG_DIR: join(cwd, 'config')}})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', b => {
    stdout += b
  })
  child.stderr.on('data', b => {
    stderr += b
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<null | number>(resolve => {
    child.on('close', resolve)
  })
  clearTimeout(timer)
  return {code, stderr, stdout}
}

describe('e2e: sandbox --export-file', function () {
  this.timeout(40_000)
  ensureBuilt()
  let dir = ''

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-sandbox-'))
  })

  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  it('the README form returns: a background sandbox, its variables sourced, a command against it; stopping it removes the file', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    for (const line of README_LINES) expect(readme).to.contain(line)
    const script = [
      ...README_LINES.map(l => l.replace('sandbox --export-file', 'sandbox --port 0 --export-file')),
      'pdhooks webhook add change.deal --url https://app.example.com/hook --json > added.json',
      'echo "url=$PDHOOKS_PIPEDRIVE_URL mode=$(stat -c %a .sandbox.env)"',
      'kill $!',
      'wait',
      'test -e .sandbox.env && echo "still there" || echo "removed"',
    ].join('\n')
    const t0 = Date.now()
    const r = await sh(script, dir)
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
    expect(Date.now() - t0).to.be.below(15_000)
    expect(r.stdout).to.match(/^url=http:\/\/127\.0\.0\.1:\d+\/v1 mode=600\nremoved\n$/)
    expect(r.stderr).to.match(/^Ready: http:\/\/127\.0\.0\.1:\d+\n$/)
    expect(JSON.parse(readFileSync(join(dir, 'added.json'), 'utf8')).created).to.equal(true)
  })

  it('replaces a file an earlier sandbox left, and never overwrites any other file (exit 2)', async () => {
    const file = join(dir, 'env')
    writeFileSync(file, 'export PDHOOKS_PIPEDRIVE_URL=http://127.0.0.1:1/v1\n')
    const r = await sh('pdhooks sandbox --port 0 --export-file env & until grep -qv \':1/v1\' env 2>/dev/null; do sleep 0.1; done; cat env; kill $!; wait', dir)
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/^export PDHOOKS_ELEMENTS_URL=http:\/\/127\.0\.0\.1:\d+\/elements\/api-v2\n/)
    expect(r.stdout).not.to.contain(':1/v1')

    const mine = join(dir, 'notes.txt')
    writeFileSync(mine, 'my notes\n')
    const refused = await pdhooks(['sandbox', '--port', '0', '--export-file', mine], {env: {PDHOOKS_CONFIG_DIR: join(dir, 'config')}})
    expect(refused.code, explain(refused)).to.equal(2)
    expect(refused.stderr).to.equal(`Error: --export-file ${mine} exists and was not written by pdhooks sandbox. Give another path; pdhooks does not overwrite it.\n`)
    expect(readFileSync(mine, 'utf8')).to.equal('my notes\n')
    expect(existsSync(`${mine}.tmp`)).to.equal(false)
    expect(statSync(mine).size).to.equal(9)
  })
})
