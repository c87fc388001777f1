#!/usr/bin/env node
// The pdhooks entry point, on Node's public mechanisms only:
// - `pdhooks --version` is answered without loading oclif when the answer is certain to be oclif's own
//   (test/e2e/startup.test.ts compares the two);
// - on Node >= 22.8, module.enableCompileCache() keeps V8's compiled code of the bundle in the user's cache folder
//   (oclif's cacheDir: $PDHOOKS_CACHE_DIR, ~/Library/Caches/pdhooks, $XDG_CACHE_HOME/pdhooks or ~/.cache/pdhooks),
//   never in the installed package; NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node 20 runs the plain bundle;
//   then the bundle (dist/index.js, an ES module) runs oclif.
import {existsSync, readFileSync} from 'node:fs'
import module from 'node:module'
import {homedir, release, tmpdir} from 'node:os'
import {join} from 'node:path'

const argv = process.argv.slice(2)

/** Is oclif's platform (config.platform) certainly process.platform? It says "wsl" on WSL. */
function plainPlatform() {
  if (process.platform !== 'linux') return true
  if (release().toLowerCase().includes('microsoft') || existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')) return false
  try {
    return !readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')
  } catch {
    return true
  }
}

// the flags oclif answers with its user agent (package.json oclif.additionalVersionFlags, and --version)
if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0]) && plainPlatform()) {
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  process.stdout.write(`pdhooks/${version} ${process.platform}-${arch} node-${process.version}\n`)
} else {
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-tested: absent before Node 22.8
  if (module.enableCompileCache) module.enableCompileCache(join(cacheDir(), 'compile-cache'))
  const {flush, handle, run} = await import('../dist/index.js')
  try {
    await run(argv, import.meta.url)
    await flush()
  } catch (error) {
    // an unknown command is a usage error (SPEC exit codes), not the shell's 127
    if (error?.oclif?.exit === 127) error.oclif.exit = 2
    await handle(error)
  }
}

/** oclif's config.cacheDir for pdhooks, computed the same way (oclif is not loaded yet). */
function cacheDir() {
  const {env} = process
  if (env.PDHOOKS_CACHE_DIR) return env.PDHOOKS_CACHE_DIR
  const windows = process.platform === 'win32'
  const windowsHome = windows && ((env.HOMEDRIVE && env.HOMEPATH && join(env.HOMEDRIVE, env.HOMEPATH)) || env.USERPROFILE)
  const home = env.HOME || windowsHome || homedir() || tmpdir()
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'pdhooks')
  return join(env.XDG_CACHE_HOME || (windows && env.LOCALAPPDATA) || join(home, '.cache'), 'pdhooks')
}
