#!/usr/bin/env node
// The pdhooks entry point. Start-up time is a feature: `--version` is answered without loading anything, and the
// bundled CLI (dist/index.js) is compiled with a V8 code cache kept beside it (rebuilt when missing or stale).
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import vm from 'node:vm'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  process.stdout.write(`pdhooks/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
  process.exit(0)
}

// code compiled from a V8 cache cannot call import() itself: the bundle imports ESM plugins through this
globalThis.__pdhooksImport = specifier => import(specifier)
const file = join(root, 'dist', 'index.js')
const cacheFile = `${file}.cache`
let cachedData
try {
  cachedData = readFileSync(cacheFile)
} catch {}

const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {cachedData, filename: file})
const mod = new Module(file)
mod.filename = file
mod.paths = Module._nodeModulePaths(dirname(file))
Module._cache[file] = mod
script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file))
mod.loaded = true
if (!cachedData || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      // written atomically: a concurrent run never reads half a cache (V8 would reject it anyway)
      const tmp = `${cacheFile}.${process.pid}`
      writeFileSync(tmp, script.createCachedData())
      renameSync(tmp, cacheFile)
    } catch {}
  })
}

const {flush, handle, run} = mod.exports
try {
  await run(argv, import.meta.url)
  await flush()
} catch (error) {
  // an unknown command is a usage error (SPEC exit codes), not the shell's 127
  if (error?.oclif?.exit === 127) error.oclif.exit = 2
  await handle(error)
}
