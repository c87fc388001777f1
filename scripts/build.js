// npm run build (and npm's prepack and prepare): bundle the CLI with esbuild into ES modules under dist/ (dist/index.js:
// every command for oclif's explicit command discovery, with @oclif/core; got, conf, @inquirer/prompts, yaml, the
// sandbox and the listener are split into chunks that only the commands using them load), then generate
// oclif.manifest.json from it. Third-party sources are bundled as they are: nothing is rewritten. No code cache is made
// here: bin/run.js enables Node's own compile cache in the user's cache folder (Node >= 22.8).
//   node scripts/build.js              always builds
//   node scripts/build.js --if-stale   builds only when dist/ or the manifest is missing or older than the sources
import * as esbuild from 'esbuild'
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildIsStale} from './manifest-guard.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv.includes('--if-stale') && !buildIsStale(root)) process.exit(0)

rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})

// The bundled CommonJS packages (@oclif/core, got's dependencies…) call require() for Node's modules and read
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
// every export, and on Node 24 that of node:http (imported by got) loads undici for its lazy WebSocket export, which
// costs more than the rest of `webhook list`. The module object is the same; only the way to it changes.
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?[\w/]+$/}, args => {
      if ((args.kind !== 'import-statement' && args.kind !== 'dynamic-import') || !isBuiltin(args.path)) return
      return {namespace: 'node-builtin', path: args.path.replace(/^node:/, '')}
    })
    build.onLoad({filter: /.*/, namespace: 'node-builtin'}, args => ({contents: `module.exports = require('node:${args.path}')`, loader: 'js'}))
  },
}

await esbuild.build({
  absWorkingDir: root,
  banner: {js: banner},
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints: ['src/index.ts'],
  external: ['typescript', 'ts-node', 'tsx'],
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  outdir: 'dist',
  platform: 'node',
  plugins: [builtinsThroughRequire],
  splitting: true,
  target: 'node20',
})

const env = {...process.env, NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
execFileSync(process.execPath, [join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {cwd: root, env, stdio: ['ignore', 'ignore', 'inherit']})
