// npm run build (and npm's prepack and prepare): bundle the CLI with esbuild into ES modules under dist/, then generate
// oclif.manifest.json from it. Third-party sources are bundled as they are: nothing is rewritten. No code cache is made
// here: bin/run.js enables Node's own compile cache in the user's cache folder (Node >= 22.8).
//   node scripts/build.js              always builds
//   node scripts/build.js --if-stale   builds only when dist/ or the manifest is missing or older than the sources
//
// What a run loads is what start-up costs (each ES module is a file to resolve, read, compile and link; on a 2-core
// machine ~1 ms a module and ~0.25 ms an import specifier), so the layout is:
// - dist/index.js: the entry (src/index.ts: oclif's hooks, the table of command loaders);
// - one core chunk: @oclif/core and the modules of src/ that many commands use (base command, clients, output…);
// - one chunk per command (its own modules), imported by the init hook for the command that runs (src/index.ts);
// - chunks for what only some runs need, imported where used: conf, @inquirer/prompts, yaml, the sandbox, the
//   listener…
// build/metafile.json (esbuild's metafile: which modules each chunk holds, what it imports) is written beside dist/ and
// never packed: test/e2e/lazy-loading.test.ts reads it to check what a command loads.
import * as esbuild from 'esbuild'
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildIsStale} from './manifest-guard.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv.includes('--if-stale') && !buildIsStale(root)) process.exit(0)

rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})

// The bundled CommonJS packages (@oclif/core and its dependencies…) call require() for Node's modules and read
// __dirname: an ES module has neither, so each output file defines them (as oclif's esbuild example and other ESM
// bundles do).
const banner = [
  "import {createRequire as __pdhooksCreateRequire} from 'node:module';",
  "import {fileURLToPath as __pdhooksFileURLToPath} from 'node:url';",
  'const require = __pdhooksCreateRequire(import.meta.url);',
  'const __filename = __pdhooksFileURLToPath(import.meta.url);',
  "const __dirname = __pdhooksFileURLToPath(new URL('.', import.meta.url));",
].join('')

// Node's modules are taken with require() even where an ES module imports them: Node's ESM facade of a built-in reads
// every export, and on Node 24 that of node:http loads undici for its lazy WebSocket export, which
// costs more than the rest of `webhook list`. The module object is the same; only the way to it changes. Each importer
// gets its own one-line wrapper (the importer is part of its path), so the wrapper lands in the importer's chunk: one
// shared wrapper would be a chunk of its own, a file more to load for every chunk that uses it.
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?[\w/]+$/}, args => {
      if ((args.kind !== 'import-statement' && args.kind !== 'dynamic-import') || !isBuiltin(args.path)) return
      return {namespace: 'node-builtin', path: `${args.path.replace(/^node:/, '')}?${args.importer}`}
    })
    build.onLoad({filter: /.*/, namespace: 'node-builtin'}, args => ({contents: `module.exports = require('node:${args.path.split('?')[0]}')`, loader: 'js'}))
  },
}

// Dependencies that a bundled package imports at its start but uses only for features pdhooks never asks for: their
// code stays in the bundle and runs the first time it is used, instead of at every start-up. Module resolution only
// (an importer's import resolves to a stand-in): the packages' sources are bundled as they are.
// - LAZY_MODULES: the stand-in is a Proxy of the module, which loads it at the first use of one of its exports;
// - SHIMS: the stand-in is a file of scripts/shims/ (each says why).
const nodeModule = name => new RegExp(String.raw`[/\\]node_modules[/\\]${name.replaceAll('/', String.raw`[/\\]`)}`)
const LAZY_MODULES = [
  // oclif's `pattern` command discovery (pdhooks' is `explicit`), and an oclif configuration outside package.json
  {dependency: 'tinyglobby', importer: nodeModule('@oclif/core/')},
  {dependency: 'lilconfig', importer: nodeModule('@oclif/core/')},
  // oclif's templates (help examples, its S3 URLs) and its spinner (a 30 kB table, for a progress shown on a terminal)
  {dependency: 'ejs', importer: nodeModule('@oclif/core/')},
  {dependency: 'cli-spinners', importer: nodeModule('@oclif/core/')},
  // oclif: the Windows shell, reading a flag's value from stdin, and its performance marks (only with its debug output)
  {dependency: 'node:child_process', importer: nodeModule('@oclif/core/lib/util/os.js')},
  {dependency: 'node:readline', importer: nodeModule('@oclif/core/lib/parser/parse.js')},
  {dependency: 'node:perf_hooks', importer: nodeModule('@oclif/core/lib/performance.js')},
]
const SHIMS = [
  {dependency: 'minimatch', importer: nodeModule('@oclif/core/lib/config/plugin-loader.js')},
  {dependency: 'wsl-utils', importer: nodeModule('@oclif/core/')},
]
// The Proxy: what an ES module's default import or a CommonJS require() of the module gets. `__esModule` (read by
// CommonJS interop helpers when the module is imported) is answered without loading it: none of these sets it.
const proxy = [
  'new Proxy({}, {get: (_, k) => (k === "__esModule" ? undefined : load()[k]), has: (_, k) => k in load(),',
  'ownKeys: () => Reflect.ownKeys(load()),',
  'getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && {...d, configurable: true} }})',
].join(' ')
const lazyDependencies = {
  name: 'lazy-dependencies',
  setup(build) {
    for (const {dependency, importer} of LAZY_MODULES) {
      build.onResolve({filter: new RegExp(`^${dependency}$`)}, args => {
        if (!importer.test(args.importer)) return
        return {namespace: 'lazy-dependency', path: dependency, pluginData: {resolveDir: args.resolveDir}}
      })
    }

    for (const {dependency, importer} of SHIMS) {
      build.onResolve({filter: new RegExp(`^${dependency}$`)}, args => (importer.test(args.importer) ? {path: join(root, 'scripts', 'shims', `${dependency}.js`)} : undefined))
    }

    build.onLoad({filter: /.*/, namespace: 'lazy-dependency'}, ({path, pluginData}) => {
      // resolved from the importer's folder: the very package the importer would have loaded
      const load = `let m; const load = () => (m ??= require(${JSON.stringify(path)}));\n`
      return {contents: `${load}module.exports = ${proxy}`, loader: 'js', resolveDir: pluginData.resolveDir}
    })
  },
}

const options = {
  absWorkingDir: root,
  banner: {js: banner},
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints: {index: 'src/index.ts'},
  external: ['typescript', 'ts-node', 'tsx'],
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  minify: true,
  outdir: 'dist',
  platform: 'node',
  plugins: [lazyDependencies, builtinsThroughRequire],
  splitting: true,
  target: 'node20',
}

// esbuild puts a module into the chunk of the exact set of entry points (the entry and every import() target) that
// reach it: the modules two commands share but a third does not become a chunk of their own, and so on, dozens of
// small files. So a first pass reads the module graph, and in the real build every import() of a module of src/ (a
// command, the listener…) imports the core first: every module of the core is then reached by the same entry points
// and all of them land in one chunk.
const graph = (await esbuild.build({...options, write: false})).metafile
const srcFile = /^src\/.*\.ts$/
/** The modules `from` reaches through static imports and require() calls. */
function closure(from) {
  const seen = new Set()
  const visit = path => {
    if (seen.has(path) || !graph.inputs[path]) return
    seen.add(path)
    for (const i of graph.inputs[path].imports) if (i.kind !== 'dynamic-import' && !i.external) visit(i.path)
  }

  visit(from)
  return seen
}

const entries = new Set(Object.values(graph.inputs).flatMap(i => i.imports.filter(x => x.kind === 'dynamic-import' && srcFile.test(x.path)).map(x => x.path)))
const commands = [...entries].filter(p => p.startsWith('src/commands/'))
const uses = new Map()
for (const c of commands) for (const m of closure(c)) uses.set(m, (uses.get(m) ?? 0) + 1)
// The core: what the entry loads anyway, and the modules of src/ that many commands use (importing these brings along
// what they import). A module in the core is loaded, and run, by every command: one that few commands use (the
// deliveries and their samples, Pipeliner's webhooks…) is better in a chunk of its own, a file more for those few.
const CORE_SHARE = 0.4
const core = new Set([...closure('src/index.ts'), ...[...uses].filter(([, n]) => n >= CORE_SHARE * commands.length).map(([m]) => m)].filter(m => srcFile.test(m)))
core.delete('src/index.ts')
// oclif imports wsl-utils (the stand-in, see SHIMS) at every start: in the core, that import() is not a file more
core.add('scripts/shims/wsl-utils.js')
const coreSource = [...core].sort().map(m => `import ${JSON.stringify(join(root, m))}`).join('\n')

const hasDefault = new Map(Object.entries(graph.outputs).flatMap(([, o]) => (o.entryPoint ? [[o.entryPoint, o.exports.includes('default')]] : [])))
const withCore = {
  name: 'with-core',
  setup(build) {
    // the entry imports the core too: without it, the core's modules that src/index.ts reaches (@oclif/core's run…)
    // would be a chunk apart from the others
    build.onResolve({filter: /^pdhooks:(core|index)$/}, args => ({namespace: 'pdhooks', path: args.path.slice(8)}))
    build.onLoad({filter: /^core$/, namespace: 'pdhooks'}, () => ({contents: coreSource, loader: 'js', resolveDir: root}))
    build.onLoad({filter: /^index$/, namespace: 'pdhooks'}, () => ({contents: "import 'pdhooks:core'\nexport * from './src/index.ts'", loader: 'js', resolveDir: root}))
    build.onResolve({filter: /.*/}, async args => {
      if (args.kind !== 'dynamic-import' || args.namespace === 'lazy-entry' || args.pluginData?.real) return
      const resolved = await build.resolve(args.path, {
        importer: args.importer, kind: args.kind, pluginData: {real: true}, resolveDir: args.resolveDir,
      })
      const path = resolved.path.slice(root.length + 1).replaceAll('\\', '/')
      if (resolved.errors.length > 0 || !graph.inputs[path]) return
      return {namespace: 'lazy-entry', path: resolved.path, pluginData: {path}}
    })
    build.onLoad({filter: /.*/, namespace: 'lazy-entry'}, args => {
      const target = JSON.stringify(args.path)
      const source = ["import 'pdhooks:core'", `export * from ${target}`]
      if (hasDefault.get(args.pluginData.path)) source.push(`export {default} from ${target}`)
      return {contents: source.join('\n'), loader: 'js', resolveDir: root}
    })
  },
}

const result = await esbuild.build({...options, entryPoints: {index: 'pdhooks:index'}, plugins: [withCore, ...options.plugins]})
mkdirSync(join(root, 'build'), {recursive: true})
writeFileSync(join(root, 'build', 'metafile.json'), JSON.stringify(result.metafile))

const env = {...process.env, NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
execFileSync(process.execPath, [join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {cwd: root, env, stdio: ['ignore', 'ignore', 'inherit']})
