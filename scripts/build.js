import * as esbuild from 'esbuild'
// npm run build: bundle the CLI with esbuild into one CommonJS file (dist/index.js: every command for oclif's explicit
// command discovery, with @oclif/core; heavy modules such as got, conf, @inquirer/prompts and yaml stay inside it but
// are only evaluated when a command imports them), then generate oclif.manifest.json from it. bin/run.js loads the
// bundle with a V8 code cache (dist/index.js.cache), which halves its load time.
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import http from 'node:http'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})
mkdirSync(join(root, 'dist'))
// the bundle is CommonJS (V8 code caches need vm.Script); the package itself stays ESM
writeFileSync(join(root, 'dist', 'package.json'), '{"type": "commonjs"}\n')

// import() of files outside the bundle (oclif's ESM plugins) goes through globalThis.__pdhooksImport, which bin/run.js
// defines: code compiled from a V8 code cache in a vm.Script cannot call import() itself
const dynamicImport = {
  name: 'dynamic-import',
  setup(build) {
    build.onLoad({filter: /node_modules[/\\](@oclif[/\\]core|lilconfig)[/\\].*\.js$/}, async ({path}) => {
      const source = await readFile(path, 'utf8')
      return {contents: source.replaceAll(/(?<![\w.$])import\(/g, '(globalThis.__pdhooksImport ?? (s => import(s)))('), loader: 'js'}
    })
  },
}

await esbuild.build({
  absWorkingDir: root,
  banner: {js: "var __pdhooksImportMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  bundle: true,
  define: {'import.meta.url': '__pdhooksImportMetaUrl'},
  entryPoints: ['src/index.ts'],
  external: ['typescript', 'ts-node', 'tsx'],
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  outfile: 'dist/index.js',
  platform: 'node',
  plugins: [dynamicImport],
  target: 'node20',
})

const env = {...process.env, NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
execFileSync(join(root, 'node_modules', '.bin', 'oclif'), ['manifest'], {cwd: root, env, stdio: 'inherit'})
// warm the code cache (bin/run.js writes it when missing) with the most common path: a list request, answered here
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end('{"success":true,"data":[]}')
})
await new Promise(resolve => {
  server.listen(0, '127.0.0.1', resolve)
})
const warm = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'webhook', 'list', '--json'], {
  cwd: root,
  env: {
    ...env, PDHOOKS_CONFIG_DIR: join(root, 'dist'), PDHOOKS_PIPEDRIVE_TOKEN: 'warm-up', PDHOOKS_PIPEDRIVE_URL: `http://127.0.0.1:${server.address().port}/v1`,
  },
  stdio: 'ignore',
})
await new Promise(resolve => {
  warm.on('exit', resolve)
})
server.close()
