// e2e: the bundle loads each command on demand (src/index.ts, scripts/build.js): every command still loads and runs
// from the built CLI, help still lists every command, space-separated ids and unknown commands behave as before, and
// `webhook list` loads only what it needs (checked with a module hook in the run, against the build's metafile).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  mkdtempSync, readFileSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {
  binRun, cleanEnv, explain, root, useSandbox,
} from './helpers.js'

interface Metafile {
  outputs: Record<string, {inputs: Record<string, unknown>}>
}

/** pdhooks' own command ids, from the manifest the build generated (oclif reads it at every start). */
const PLUGIN_COMMANDS = new Set(['autocomplete', 'autocomplete:create', 'autocomplete:script', 'help'])
const commandIds = (): string[] => Object.keys(JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')).commands).sort()

/** Runs `args` with the load trace (test/e2e/load-trace.js): the dist files and the built-in modules it loaded. */
async function traced(run: (args: string[], opts: {env: Record<string, string>}) => Promise<{code: null | number}>, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-loads-'))
  try {
    const file = join(dir, 'loads.txt')
    const r = await run(args, {env: {NODE_OPTIONS: `--import=${pathToFileURL(join(root, 'test', 'e2e', 'load-trace.js')).href}`, PDHOOKS_TEST_LOADS: file}})
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    const distUrl = pathToFileURL(join(root, 'dist')).href + '/'
    return {
      builtins: lines.filter(l => l.startsWith('builtin ')).map(l => l.slice('builtin '.length)),
      files: lines.filter(l => l.startsWith(`file ${distUrl}`)).map(l => `dist/${l.slice(`file ${distUrl}`.length)}`),
      result: r,
    }
  } finally {
    rmSync(dir, {force: true, recursive: true})
  }
}

describe('e2e: commands load on demand (the bundle)', () => {
  const e2e = useSandbox()

  it('every command loads from the bundle, as the class its id names, and its own parser runs', function () {
    this.timeout(60_000)
    // one process: the bundle's run() for each command, with a flag no command has (it fails in the command's parser,
    // after its module was imported and before it does anything)
    const code = [
      `const bundle = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)})`,
      'const out = {}',
      `for (const id of ${JSON.stringify(commandIds())}) {`,
      '  let exit',
      `  try { await bundle.run([...id.split(':'), '--no-such-flag-anywhere'], ${JSON.stringify(pathToFileURL(binRun).href)}) } catch (error) { exit = error.oclif?.exit }`,
      '  out[id] = {exit, id: bundle.COMMANDS[id]?.id, run: typeof bundle.COMMANDS[id]?.prototype?.run}',
      '}',
      'process.stdout.write(JSON.stringify(out))',
    ].join('\n')
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root, encoding: 'utf8', env: cleanEnv(), timeout: 50_000,
    })
    // the base command reports each usage error, and leaves exit code 2
    expect(r.status, r.stderr).to.equal(2)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out).sort()).to.deep.equal(commandIds())
    for (const id of commandIds()) {
      // oclif's autocomplete:create parses no flags at all (so it was as a plugin): only pdhooks' own commands must refuse
      const {exit, ...loaded} = out[id]
      expect(loaded, id).to.deep.equal({id, run: 'function'})
      if (!PLUGIN_COMMANDS.has(id)) expect(exit, id).to.equal(2)
      // the base command prints the one-line usage error; oclif's help and autocomplete commands (bundled, src/index.ts)
      // throw it as oclif's own (as they did as plugins), caught above
      if (!PLUGIN_COMMANDS.has(id)) expect(r.stderr, id).to.include(`Unknown flag --no-such-flag-anywhere. See "pdhooks ${id.replaceAll(':', ' ')} --help".`)
    }
  })

  it('help lists every command, and each command has its own help', async function () {
    this.timeout(60_000)
    const r = await e2e.run(['help', '--nested-commands'])
    expect(r.code, explain(r)).to.equal(0)
    for (const id of commandIds()) expect(r.stdout, id).to.match(new RegExp(`^  ${id.replaceAll(':', ' ')} `, 'm'))
    const list = await e2e.run(['webhook', 'list', '--help'])
    expect(list.code, explain(list)).to.equal(0)
    expect(list.stdout).to.include('--unhealthy').and.include('$ pdhooks webhook list')
  })

  it('space-separated words: `webhook list 9` is webhook list with an argument (its own parser answers)', async () => {
    const r = await e2e.run(['webhook', 'list', '9'])
    expect(r.code, explain(r)).to.equal(2)
    expect(r.stderr).to.include('Unexpected argument 9. pdhooks webhook list takes no arguments.')
  })

  it('an unknown command still gets pdhooks\' own suggestion, also under --json', async () => {
    const r = await e2e.run(['webhook', 'lst'])
    expect(r.code, explain(r)).to.equal(2)
    expect(r.stderr).to.include('Unknown command "pdhooks webhook lst". Did you mean "pdhooks webhook list"?')
    const json = await e2e.run(['webhok', 'list', '--json'])
    expect(json.code, explain(json)).to.equal(2)
    expect(json.json().error).to.deep.include({code: 'unknown_command'})
  })

  it('webhook list --json loads the entry, the core and its own chunk: nothing that only other commands need', async function () {
    this.timeout(30_000)
    await e2e.seedPipedrive(3)
    const {builtins, files, result} = await traced(e2e.run, ['webhook', 'list', '--json'])
    expect(result.code, explain(result as never)).to.equal(0)
    const meta = JSON.parse(readFileSync(join(root, 'build', 'metafile.json'), 'utf8')) as Metafile
    const inputs = files.flatMap(f => {
      expect(meta.outputs, `${f} is not in build/metafile.json (a build older than dist/?)`).to.have.property(f)
      return Object.keys(meta.outputs[f].inputs)
    })
    // a handful of files, not one per shared module (each costs a resolve, a read, a compile and a link)
    expect(files, files.join('\n')).to.have.length.at.most(5)
    expect(inputs).to.include('src/commands/webhook/list.ts')
    const unneeded = [
      /^src\/commands\/(?!webhook\/list\.ts)/,
      /^src\/lib\/(sandbox|workflows\/apply)\//,
      /^src\/lib\/deliveries\/(?!signatures\.ts)/, // the listener, the journal, replay, trigger, the samples…
      /^src\/lib\/(pipeliner\/webhooks|elements\/instances|workflows\/setup)\.ts/,
      /node_modules\/(@inquirer|yaml|conf|ajv|proper-lockfile|iconv-lite|chardet)\//,
    ]
    expect(inputs.filter(i => unneeded.some(u => u.test(i)))).to.deep.equal([])
    // what the stand-ins of scripts/build.js keep from running at start-up
    expect(builtins.filter(b => ['child_process', 'dns', 'http2', 'readline'].includes(b))).to.deep.equal([])
  })
})
