#!/usr/bin/env node
// The pdhooks entry point, on Node's public mechanisms only:
// - `pdhooks --version` is answered without loading oclif when the answer is certain to be oclif's own
//   (test/e2e/startup.test.ts compares the two);
// - on Node >= 22.8, module.enableCompileCache() keeps V8's compiled code of the bundle in the user's cache folder
//   (oclif's cacheDir: $PDHOOKS_CACHE_DIR, ~/Library/Caches/pdhooks, $XDG_CACHE_HOME/pdhooks or ~/.cache/pdhooks),
//   never in the installed package; NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node 20 runs the plain bundle;
// - then the bundle (dist/index.js, an ES module) runs oclif.
// Node's modules come from process.getBuiltinModule() (Node >= 20.16): an ESM import of a built-in builds its facade,
// which costs more than the whole --version answer.
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-tested: import() before Node 20.16
const builtin = async id => process.getBuiltinModule?.(id) ?? import(id)
const fs = await builtin('node:fs')
const argv = process.argv.slice(2)

/** Is oclif's platform (config.platform) certainly process.platform? It says "wsl" on WSL. */
async function plainPlatform() {
  if (process.platform !== 'linux') return true
  const {release} = await builtin('node:os')
  if (release().toLowerCase().includes('microsoft') || fs.existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || fs.existsSync('/run/WSL')) return false
  try {
    return !fs.readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')
  } catch {
    return true
  }
}

/** oclif's config.cacheDir for pdhooks, computed the same way (oclif is not loaded yet). */
async function cacheDir() {
  const {env} = process
  if (env.PDHOOKS_CACHE_DIR) return env.PDHOOKS_CACHE_DIR
  const {join} = await builtin('node:path')
  const {homedir, tmpdir} = await builtin('node:os')
  const windows = process.platform === 'win32'
  const windowsHome = windows && ((env.HOMEDRIVE && env.HOMEPATH && join(env.HOMEDRIVE, env.HOMEPATH)) || env.USERPROFILE)
  const home = env.HOME || windowsHome || homedir() || tmpdir()
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'pdhooks')
  return join(env.XDG_CACHE_HOME || (windows && env.LOCALAPPDATA) || join(home, '.cache'), 'pdhooks')
}

// the flags oclif answers with its user agent (package.json oclif.additionalVersionFlags, and --version)
if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0]) && (await plainPlatform())) {
  const {version} = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  const line = `pdhooks/${version} ${process.platform}-${arch} node-${process.version}\n`
  try {
    fs.writeSync(1, line) // without building process.stdout
  } catch {
    process.stdout.write(line)
  }
} else {
  const module = await builtin('node:module')
  if (module.enableCompileCache) {
    const {join} = await builtin('node:path')
    module.enableCompileCache(join(await cacheDir(), 'compile-cache'))
  }

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
