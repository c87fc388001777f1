// npm run build: compile src/ to dist/ and generate oclif.manifest.json from the compiled commands.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = name => join(root, 'node_modules', '.bin', name)
const run = (cmd, args, env = {}) => execFileSync(cmd, args, {cwd: root, env: {...process.env, ...env}, stdio: 'inherit'})

rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})
run(bin('tsc'), ['-p', '.'])
run(bin('oclif'), ['manifest'], {NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'})
